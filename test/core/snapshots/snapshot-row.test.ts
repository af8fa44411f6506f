import { validateMarketRecord, type MarketRecord } from '../../../core/coingecko/market-record.js';
import { copyTextLine } from '../../../core/db/copy-text.js';
import { SNAPSHOT_COLUMNS } from '../../../core/snapshots/raw-columns.js';
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

  it('stores the record text it is given (escaped), instead of serialising the record again', () => {
    const text =
      '{ "id":"x", "symbol":"x", "name":"x\\\\y", "last_updated":"2026-11-27T10:00:00Z", "atl":1.50936e-07 }';
    const r = record(JSON.parse(text) as Record<string, unknown>);
    const columns = snapshotCopyLine(r, context, text).slice(0, -1).split('\t');
    expect(columns).toHaveLength(SNAPSHOT_COLUMNS.length);
    expect(columns.at(-1)).toBe(text.replace(/\\/g, '\\\\'));
  });
});
