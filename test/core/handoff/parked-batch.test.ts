import { jsonArrayItems } from '../../../core/coingecko/json-array-items.js';
import { validateMarketRecord, type MarketRecord } from '../../../core/coingecko/market-record.js';
import { PermanentError } from '../../../core/errors.js';
import {
  copyTextWithout,
  decodeParkedBatch,
  encodeParkedBatch,
  type ParkedBatch,
} from '../../../core/handoff/parked-batch.js';
import { snapshotCopyLine, type SnapshotContext } from '../../../core/snapshots/snapshot-row.js';
import { validateSnapshotBatch } from '../../../core/snapshots/validated-batch.js';
import { parkedBatchOf } from '../../helpers/parked-batches.js';

/*
 * The parked batch's format (core/handoff/parked-batch.ts) and the validation it encodes
 * (core/snapshots/validated-batch.ts). The file keeps the format's former name because
 * jest.config.mjs lists this path among the unit tests; it becomes
 * test/core/handoff/parked-batch.test.ts when that list changes with it.
 */

const context = { runId: 'mprep1', batchNo: 4, vsCurrency: 'usd' };

const item = (id: string, extra: Record<string, unknown> = {}) => ({
  id,
  symbol: id.slice(0, 3),
  name: id,
  last_updated: '2026-11-27T10:00:00.000Z',
  current_price: 1.25,
  ...extra,
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
const items = () => JSON.parse(body) as unknown[];
const validated = () => validateSnapshotBatch(context, items(), jsonArrayItems(body));
/** The batch parked unchecked and read back. */
const parked = (): ParkedBatch => parkedBatchOf(context, items(), jsonArrayItems(body));

const lineTexts = (batch: ParkedBatch) => batch.copyText.toString('utf8').split(/(?<=\n)/);

/** The parked bytes with their header (the second line) edited, as only damage in Redis would. */
function withHeader(payload: Buffer, edit: (header: Record<string, unknown>) => void): Buffer {
  const headerStart = payload.indexOf(0x0a) + 1;
  const headerEnd = payload.indexOf(0x0a, headerStart);
  const header = JSON.parse(payload.toString('utf8', headerStart, headerEnd)) as Record<string, unknown>;
  edit(header);
  return Buffer.concat([
    payload.subarray(0, headerStart),
    Buffer.from(JSON.stringify(header)),
    payload.subarray(headerEnd),
  ]);
}

describe(validateSnapshotBatch.name, () => {
  it('encodes each valid record as its COPY line, in response order', () => {
    const batch = validated();
    const sources = JSON.parse(body) as Record<string, unknown>[];
    expect(batch.lines).toEqual([0, 2, 3].map((i) => snapshotCopyLine(record(sources[i]!), context)));
    expect(batch.coinIds).toEqual(['bitcoin', 'ethereum', 'tether']);
    expect(batch.lastUpdated).toEqual([
      '2026-11-27T10:00:00.000Z',
      '2026-11-27T10:00:00.000Z',
      '2026-11-27T10:00:00.000Z',
    ]);
    expect(batch.recordsReceived).toBe(4);
  });

  it('keeps a rejected record with its position, its reason and its text as sent', () => {
    expect(validated().rejected).toEqual([
      { index: 1, coinId: 'broken', reason: expect.stringContaining('current_price'), text: jsonArrayItems(body)[1] },
    ]);
  });

  it('cuts the record texts, when given a function, only for a batch with a rejected record', () => {
    let cuts = 0;
    const cut = (text: string) => () => {
      cuts++;
      return jsonArrayItems(text);
    };
    const clean = JSON.stringify([item('bitcoin'), item('tether')]);
    expect(validateSnapshotBatch(context, JSON.parse(clean) as unknown[], cut(clean)).lines).toHaveLength(2);
    expect(cuts).toBe(0);
    expect(validateSnapshotBatch(context, items(), cut(body)).rejected).toEqual(validated().rejected);
    expect(cuts).toBe(1);
  });

  it('counts undocumented fields with an example coin (schema drift)', () => {
    expect(validated().unknownFields).toEqual({ brand_new_field: { records: 1, exampleCoin: 'ethereum' } });
  });

  it('counts an undocumented field named __proto__ like any other, leaving Object.prototype alone, parked and read back too', () => {
    const text = `[${JSON.stringify(item('monero')).slice(0, -1)},"__proto__":{"records":7}}]`;
    const batch = validateSnapshotBatch(context, JSON.parse(text) as unknown[], jsonArrayItems(text));
    expect(Object.entries(batch.unknownFields)).toEqual([['__proto__', { records: 1, exampleCoin: 'monero' }]]);
    expect(({} as { records?: unknown }).records).toBeUndefined();
    expect(Object.entries(decodeParkedBatch(encodeParkedBatch(context, batch), context).unknownFields)).toEqual([
      ['__proto__', { records: 1, exampleCoin: 'monero' }],
    ]);
  });

  it('serialises a record again when it has no text, and refuses texts that do not pair with the records', () => {
    const one = [item('solana')];
    expect(validateSnapshotBatch(context, one).lines).toEqual([snapshotCopyLine(record(one[0]!), context)]);
    expect(() => validateSnapshotBatch(context, one, ['{}', '{}'])).toThrow(
      new PermanentError('batch 4 of run mprep1: 1 records but 2 record texts'),
    );
  });
});

describe('parked batch', () => {
  it('reads back as the validated batch: its lines concatenated, the COPY text a slice of what was parked', () => {
    const batch = validated();
    const payload = encodeParkedBatch(context, batch);
    const decoded = decodeParkedBatch(payload, context);
    const { lines, ...rest } = batch;
    expect(decoded).toEqual({ context, ...rest, copyText: Buffer.from(lines.join('')), lineEnds: expect.any(Array) });
    expect(decoded.duplicatesLeftOut).toBeUndefined();
    expect(decoded.copyText.buffer).toBe(payload.buffer);
  });

  it('ends each line at a byte offset, counting multi-byte characters as UTF-8 does', () => {
    const batch = parked();
    const ends = lineTexts(batch).map(
      (
        (end) => (line: string) =>
          (end += Buffer.byteLength(line))
      )(0),
    );
    expect(batch.lineEnds).toEqual(ends);
    expect(batch.lineEnds.at(-1)).toBe(batch.copyText.length);
    // More bytes than characters: the offsets are not string indices.
    expect(batch.copyText.length).toBeGreaterThan(batch.copyText.toString('utf8').length);
  });

  it('is laid out as a version line, a one-line JSON header, then the COPY text (parked batches outlive releases: keep it readable)', () => {
    const batch = validated();
    const [version, header, ...text] = encodeParkedBatch(context, batch, [1])
      .toString('utf8')
      .split(/(?<=\n)/);
    expect(version).toBe('cdp-prepared-batch/1\n');
    expect(JSON.parse(header!)).toEqual({
      context,
      recordsReceived: 4,
      coinIds: ['bitcoin', 'tether'],
      lastUpdated: [batch.lastUpdated[0], batch.lastUpdated[2]],
      lineEnds: [Buffer.byteLength(batch.lines[0]!), Buffer.byteLength(batch.lines[0]! + batch.lines[2]!)],
      rejected: batch.rejected,
      unknownFields: batch.unknownFields,
      duplicatesLeftOut: 1,
    });
    expect(text).toEqual([batch.lines[0], batch.lines[2]]);
  });

  it('can be empty of rows: no valid record at all, or every valid row left out', () => {
    expect(
      decodeParkedBatch(encodeParkedBatch(context, validateSnapshotBatch(context, [items()[1]])), context),
    ).toMatchObject({ coinIds: [], lineEnds: [], rejected: [expect.objectContaining({ coinId: 'broken' })] });
    expect(decodeParkedBatch(encodeParkedBatch(context, validated(), [0, 1, 2]), context)).toMatchObject({
      coinIds: [],
      lineEnds: [],
      duplicatesLeftOut: 3,
    });
  });

  const refusals: [string, (payload: Buffer) => Buffer, SnapshotContext, RegExp][] = [
    [
      'another batch',
      (p: Buffer) => p,
      { ...context, batchNo: 5 },
      /is corrupt \(it was parked for \{"runId":"mprep1","batchNo":4,"vsCurrency":"usd"\}\)/,
    ],
    ['another currency', (p: Buffer) => p, { ...context, vsCurrency: 'eur' }, /it was parked for/],
    ['a plain response body', () => Buffer.from(body), context, /is corrupt \(unknown format\)/],
    ['an empty value', () => Buffer.alloc(0), context, /is corrupt \(unknown format\)/],
    [
      'a truncated text',
      (p: Buffer) => p.subarray(0, p.length - 10),
      context,
      /line offsets do not match the text|text longer/,
    ],
    [
      'text after the last line',
      (p: Buffer) => Buffer.concat([p, Buffer.from('x\tinjected\n')]),
      context,
      /text longer than its lines/,
    ],
    ['a header cut short', (p: Buffer) => p.subarray(0, 40), context, /no header line/],
    [
      'a header that is not JSON',
      (p: Buffer) => Buffer.from(p.toString('latin1').replace('{"context"', '{context'), 'latin1'),
      context,
      /header is not JSON/,
    ],
    [
      'offsets that do not fall on line ends',
      (p: Buffer) =>
        withHeader(p, (h) => {
          h.lineEnds = (h.lineEnds as number[]).map((end) => end - 1);
        }),
      context,
      /line offsets do not match the text/,
    ],
    [
      'keys that do not pair with the lines',
      (p: Buffer) =>
        withHeader(p, (h) => {
          h.coinIds = ['bitcoin'];
        }),
      context,
      /keys and lines differ in number/,
    ],
    ...[-1, 1.5, '2'].map((count): (typeof refusals)[number] => [
      `a parked count of ${JSON.stringify(count)}`,
      (p) =>
        withHeader(p, (h) => {
          h.duplicatesLeftOut = count;
        }),
      context,
      /duplicatesLeftOut is not a count/,
    ]),
  ];
  it.each(refusals)('refuses %s, naming why and that the batch must be fetched again', (_, mangle, expected, why) => {
    const payload = mangle(encodeParkedBatch(context, validated()));
    const error = (() => {
      try {
        decodeParkedBatch(payload, expected);
      } catch (e) {
        return e;
      }
      throw new Error('decoded');
    })();
    expect(error).toBeInstanceOf(PermanentError);
    expect((error as Error).message).toMatch(why);
    expect((error as Error).message).toMatch(
      new RegExp(`^parked batch ${expected.batchNo} of run mprep1 is corrupt .*; the batch must be fetched again$`),
    );
  });
});

describe('a batch whose keys were checked when parked', () => {
  it('leaves out the valid rows at the given indices, counting them, and keeps the rest exactly', () => {
    // Valid rows: bitcoin (0), ethereum (1), tether (2); ethereum is already loaded.
    const checked = parkedBatchOf(context, items(), jsonArrayItems(body), [1]);
    const unchecked = parked();
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
    expect(parkedBatchOf(context, items(), undefined, []).duplicatesLeftOut).toBe(0);
    expect(parked().duplicatesLeftOut).toBeUndefined();
  });
});

describe(copyTextWithout.name, () => {
  const lines = (chunks: Buffer[]) =>
    Buffer.concat(chunks)
      .toString('utf8')
      .split(/(?<=\n)/)
      .filter(Boolean);

  it('leaves out exactly the skipped rows, whatever their position', () => {
    const batch = parked();
    const all = lineTexts(batch);
    expect(copyTextWithout(batch, new Set())).toEqual([batch.copyText]);
    expect(lines(copyTextWithout(batch, new Set([0])))).toEqual([all[1], all[2]]);
    expect(lines(copyTextWithout(batch, new Set([1])))).toEqual([all[0], all[2]]);
    expect(lines(copyTextWithout(batch, new Set([2])))).toEqual([all[0], all[1]]);
    expect(lines(copyTextWithout(batch, new Set([0, 2])))).toEqual([all[1]]);
    expect(copyTextWithout(batch, new Set([0, 1, 2]))).toEqual([]);
  });
});
