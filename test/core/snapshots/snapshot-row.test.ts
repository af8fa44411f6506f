import { validateMarketRecord, type MarketRecord } from '../../../core/coingecko/market-record.js';
import { copyTextLine } from '../../../core/db/copy-text.js';
import { SNAPSHOT_COLUMNS } from '../../../core/snapshots/raw-columns.js';
import { REPLAYED_KEYS } from '../../../core/snapshots/record-residual.js';
import { snapshotCopyLine, snapshotRow } from '../../../core/snapshots/snapshot-row.js';
import { startSimulator } from '../../../simulator/server.js';

function record(source: Record<string, unknown>): MarketRecord {
  const result = validateMarketRecord(source);
  if (!result.ok) throw new Error(result.reason);
  return result.record;
}

const context = { runId: 'm\trun', batchNo: 3, vsCurrency: 'usd' };

describe(snapshotCopyLine.name, () => {
  it('encodes what copyTextLine(snapshotRow()) encodes, for realistic records', async () => {
    const simulator = await startSimulator({ coins: 300 });
    try {
      const items = simulator.control.marketsSnapshot(simulator.control.universeIds());
      expect(items.some((i) => i.roi !== null) && items.some((i) => i.roi === null)).toBe(true);
      for (const item of items) {
        const r = record(item);
        expect(snapshotCopyLine(r, context)).toBe(copyTextLine(snapshotRow(r, context)));
      }
    } finally {
      await simulator.close();
    }
  });

  it('escapes text that COPY would misread, and writes missing fields as NULL', () => {
    const r = record({
      id: 'back\\slash',
      symbol: 'tab\t',
      name: 'new\nline',
      last_updated: '2026-11-27T10:00:00.000Z',
      current_price: 3.15e-6,
      roi: { times: 1.5, currency: 'b\\tc', percentage: 150 },
    });
    const line = snapshotCopyLine(r, context);
    expect(line).toBe(copyTextLine(snapshotRow(r, context)));
    expect(line.split('\t')).toHaveLength(SNAPSHOT_COLUMNS.length);
    expect(line.split('\n')).toEqual([expect.any(String), '']);
  });

  it('stores of the record only what the typed columns do not reproduce, escaped', () => {
    const text =
      '{ "id":"x", "symbol":"x", "name":"x\\\\y", "image":"a\\\\b", "last_updated":"2026-11-27T10:00:00Z", "atl":1.50936e-07 }';
    const r = record(JSON.parse(text) as Record<string, unknown>);
    const columns = snapshotCopyLine(r, context).slice(0, -1).split('\t');
    expect(columns).toHaveLength(SNAPSHOT_COLUMNS.length);
    // last_updated without milliseconds would not come back from the timestamptz column as sent.
    expect(columns.at(-2)).toBe('{"last_updated":"2026-11-27T10:00:00Z","image":"a\\\\\\\\b"}');
    // …and replay writes it from there, not from the column.
    expect(Number(columns.at(-1)) & (1 << REPLAYED_KEYS.indexOf('last_updated'))).not.toBe(0);
  });
});
