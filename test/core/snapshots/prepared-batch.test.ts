import { jsonArrayItems } from '../../../core/coingecko/json-array-items.js';
import { validateMarketRecord, type MarketRecord } from '../../../core/coingecko/market-record.js';
import { PermanentError } from '../../../core/errors.js';
import {
  copyTextWithout,
  decodePreparedBatch,
  encodePreparedBatch,
  encodeValidatedBatch,
  isPreparedBatchPayload,
  prepareSnapshotBatch,
  validateSnapshotBatch,
  type PreparedBatch,
} from '../../../core/snapshots/prepared-batch.js';
import { snapshotCopyLine } from '../../../core/snapshots/snapshot-row.js';

const context = { runId: 'mprep1', batchNo: 4, vsCurrency: 'usd' };

const item = (id: string, extra: Record<string, unknown> = {}) => ({
  id, symbol: id.slice(0, 3), name: id, last_updated: '2026-11-27T10:00:00.000Z', current_price: 1.25, ...extra,
});

function record(source: Record<string, unknown>): MarketRecord {
  const result = validateMarketRecord(source);
  if (!result.ok) throw new Error(result.reason);
  return result.record;
}

/** A body as CoinGecko would send it: multi-byte names, one invalid record, one undocumented field. */
const body = JSON.stringify([
  item('bitcoin', { name: 'Bitcoin ₿' }),
  item('broken', { current_price: 'NaN' }),
  item('ethereum', { name: 'Ξther 🦄', brand_new_field: 1 }),
  item('tether'),
]);

function prepared(): PreparedBatch {
  return prepareSnapshotBatch(context, JSON.parse(body) as unknown[], jsonArrayItems(body));
}

const lineTexts = (batch: PreparedBatch) => batch.copyText.toString('utf8').split(/(?<=\n)/);

describe(prepareSnapshotBatch.name, () => {
  it('encodes each valid record as its COPY line, with the record text as sent, in response order', () => {
    const batch = prepared();
    const texts = jsonArrayItems(body);
    const sources = JSON.parse(body) as Record<string, unknown>[];
    expect(lineTexts(batch)).toEqual([0, 2, 3].map((i) => snapshotCopyLine(record(sources[i]!), context, texts[i])));
    expect(batch.coinIds).toEqual(['bitcoin', 'ethereum', 'tether']);
    expect(batch.lastUpdated).toEqual(['2026-11-27T10:00:00.000Z', '2026-11-27T10:00:00.000Z', '2026-11-27T10:00:00.000Z']);
    expect(batch.recordsReceived).toBe(4);
  });

  it('ends each line at a byte offset, counting multi-byte characters as UTF-8 does', () => {
    const batch = prepared();
    const ends = lineTexts(batch).map(((end) => (line: string) => (end += Buffer.byteLength(line)))(0));
    expect(batch.lineEnds).toEqual(ends);
    expect(batch.lineEnds.at(-1)).toBe(batch.copyText.length);
    // More bytes than characters: the offsets are not string indices.
    expect(batch.copyText.length).toBeGreaterThan(batch.copyText.toString('utf8').length);
  });

  it('keeps a rejected record with its position, its reason and its text as sent', () => {
    expect(prepared().rejected).toEqual([
      { index: 1, coinId: 'broken', reason: expect.stringContaining('current_price'), text: jsonArrayItems(body)[1] },
    ]);
  });

  it('counts undocumented fields with an example coin (schema drift)', () => {
    expect(prepared().unknownFields).toEqual({ brand_new_field: { records: 1, exampleCoin: 'ethereum' } });
  });

  it('counts an undocumented field named __proto__ like any other, leaving Object.prototype alone', () => {
    const text = `[${JSON.stringify(item('monero')).slice(0, -1)},"__proto__":{"records":7}}]`;
    const batch = prepareSnapshotBatch(context, JSON.parse(text) as unknown[], jsonArrayItems(text));
    expect(Object.entries(batch.unknownFields)).toEqual([['__proto__', { records: 1, exampleCoin: 'monero' }]]);
    expect(({} as { records?: unknown }).records).toBeUndefined();
    expect(Object.entries(decodePreparedBatch(encodePreparedBatch(batch), context).unknownFields)).toEqual([['__proto__', { records: 1, exampleCoin: 'monero' }]]);
  });

  it('serialises a record again when it has no text, and refuses texts that do not pair with the records', () => {
    const items = [item('solana')];
    expect(prepareSnapshotBatch(context, items).copyText.toString('utf8')).toBe(snapshotCopyLine(record(items[0]!), context));
    expect(() => prepareSnapshotBatch(context, items, ['{}', '{}'])).toThrow(new PermanentError('batch 4 of run mprep1: 1 records but 2 record texts'));
  });
});

describe('a batch whose keys were checked when prepared', () => {
  const items = () => JSON.parse(body) as unknown[];

  it('leaves out the valid rows at the given indices, counting them, and keeps the rest exactly', () => {
    // Valid rows: bitcoin (0), ethereum (1), tether (2); ethereum is already loaded.
    const checked = prepareSnapshotBatch(context, items(), jsonArrayItems(body), [1]);
    const unchecked = prepared();
    expect(checked.coinIds).toEqual(['bitcoin', 'tether']);
    expect(checked.lastUpdated).toEqual([unchecked.lastUpdated[0], unchecked.lastUpdated[2]]);
    expect(lineTexts(checked)).toEqual([lineTexts(unchecked)[0], lineTexts(unchecked)[2]]);
    expect(checked.duplicatesLeftOut).toBe(1);
    // Rejected records and schema drift are the whole response's, whatever is left out.
    expect(checked.rejected).toEqual(unchecked.rejected);
    expect(checked.unknownFields).toEqual(unchecked.unknownFields);
    expect(checked.recordsReceived).toBe(4);
  });

  it('counts as checked with nothing left out, and as unchecked without a check', () => {
    expect(prepareSnapshotBatch(context, items(), undefined, []).duplicatesLeftOut).toBe(0);
    expect(prepared().duplicatesLeftOut).toBeUndefined();
  });

  it('is parked byte for byte as preparing then encoding gives, and decodes with its count', () => {
    const payload = encodeValidatedBatch(context, validateSnapshotBatch(context, items(), jsonArrayItems(body)), [0, 2]);
    const batch = prepareSnapshotBatch(context, items(), jsonArrayItems(body), [0, 2]);
    expect(payload.equals(encodePreparedBatch(batch))).toBe(true);
    expect(decodePreparedBatch(payload, context)).toEqual(batch);
    expect(decodePreparedBatch(payload, context)).toMatchObject({ coinIds: ['ethereum'], duplicatesLeftOut: 2 });
    // Every valid row left out: nothing to COPY, all of it counted.
    expect(decodePreparedBatch(encodeValidatedBatch(context, validateSnapshotBatch(context, items()), [0, 1, 2]), context))
      .toMatchObject({ coinIds: [], lineEnds: [], duplicatesLeftOut: 3 });
  });

  it.each([-1, 1.5, '2'])('refuses a parked count of %p as corrupt', (count) => {
    const payload = encodePreparedBatch({ ...prepared(), duplicatesLeftOut: count as number });
    expect(() => decodePreparedBatch(payload, context)).toThrow(/is corrupt \(duplicatesLeftOut is not a count\)/);
  });
});

describe('parked prepared batch', () => {
  it('decodes to what was encoded, its COPY text a slice of the payload', () => {
    const batch = prepared();
    const payload = encodePreparedBatch(batch);
    expect(isPreparedBatchPayload(payload)).toBe(true);
    const decoded = decodePreparedBatch(payload, context);
    expect(decoded).toEqual(batch);
    expect(decoded.copyText.buffer).toBe(payload.buffer);
  });

  it('is written in one pass by the fetch worker, byte for byte what preparing then encoding gives', () => {
    const items = JSON.parse(body) as unknown[];
    const payload = encodeValidatedBatch(context, validateSnapshotBatch(context, items, jsonArrayItems(body)));
    expect(payload.equals(encodePreparedBatch(prepared()))).toBe(true);
    expect(decodePreparedBatch(payload, context)).toEqual(prepared());
    // Without record texts, and with no valid record at all.
    expect(encodeValidatedBatch(context, validateSnapshotBatch(context, items)).equals(encodePreparedBatch(prepareSnapshotBatch(context, items)))).toBe(true);
    const none = encodeValidatedBatch(context, validateSnapshotBatch(context, [items[1]]));
    expect(decodePreparedBatch(none, context)).toMatchObject({ coinIds: [], lineEnds: [], rejected: [expect.objectContaining({ coinId: 'broken' })] });
  });

  it('is told apart from a plain response body', () => {
    expect(isPreparedBatchPayload(Buffer.from(body))).toBe(false);
    expect(isPreparedBatchPayload(Buffer.from(''))).toBe(false);
  });

  it.each([
    ['another batch', (p: Buffer) => p, { ...context, batchNo: 5 }, /is corrupt \(it was prepared for \{"runId":"mprep1","batchNo":4,"vsCurrency":"usd"\}\)/],
    ['another currency', (p: Buffer) => p, { ...context, vsCurrency: 'eur' }, /it was prepared for/],
    ['a plain body', () => Buffer.from(body), context, /is corrupt \(unknown format\)/],
    ['a truncated text', (p: Buffer) => p.subarray(0, p.length - 10), context, /line offsets do not match the text|text longer/],
    ['text after the last line', (p: Buffer) => Buffer.concat([p, Buffer.from('x\tinjected\n')]), context, /text longer than its lines/],
    ['a header cut short', (p: Buffer) => p.subarray(0, 40), context, /no header line/],
    ['a header that is not JSON', (p: Buffer) => Buffer.from(p.toString('latin1').replace('{"context"', '{context'), 'latin1'), context, /header is not JSON/],
  ])('refuses %s, naming why and that the batch must be fetched again', (_, mangle, expected, why) => {
    const payload = mangle(encodePreparedBatch(prepared()));
    const error = (() => {
      try {
        decodePreparedBatch(payload, expected);
      } catch (e) {
        return e;
      }
      throw new Error('decoded');
    })();
    expect(error).toBeInstanceOf(PermanentError);
    expect((error as Error).message).toMatch(why);
    expect((error as Error).message).toMatch(new RegExp(`^parked batch ${expected.batchNo} of run mprep1 is corrupt .*; the batch must be fetched again$`));
  });
});

describe(copyTextWithout.name, () => {
  const lines = (chunks: Buffer[]) => Buffer.concat(chunks).toString('utf8').split(/(?<=\n)/).filter(Boolean);

  it('leaves out exactly the skipped rows, whatever their position', () => {
    const batch = prepared();
    const all = lineTexts(batch);
    expect(copyTextWithout(batch, new Set())).toEqual([batch.copyText]);
    expect(lines(copyTextWithout(batch, new Set([0])))).toEqual([all[1], all[2]]);
    expect(lines(copyTextWithout(batch, new Set([1])))).toEqual([all[0], all[2]]);
    expect(lines(copyTextWithout(batch, new Set([2])))).toEqual([all[0], all[1]]);
    expect(lines(copyTextWithout(batch, new Set([0, 2])))).toEqual([all[1]]);
    expect(copyTextWithout(batch, new Set([0, 1, 2]))).toEqual([]);
  });
});
