import type pg from 'pg';
import { validateMarketRecord } from '../../core/coingecko/market-record.js';
import { SNAPSHOT_COLUMNS } from '../../core/snapshots/raw-columns.js';
import { snapshotRow } from '../../core/snapshots/snapshot-row.js';
import type { ParsedBatch } from './load-path.js';

const COLUMNS = SNAPSHOT_COLUMNS.join(', ');

/**
 * The usual hand-written loader: the same validation and columns, one parameterized multi-row
 * INSERT per batch (250 rows x 36 columns = 9,000 parameters), each its own implicit transaction.
 */
export async function multiRowInsert(pool: pg.Pool, input: ParsedBatch): Promise<void> {
  const params: unknown[] = [];
  const tuples: string[] = [];
  for (const item of input.items) {
    const result = validateMarketRecord(item);
    if (!result.ok) continue;
    const row = snapshotRow(result.record, input);
    const base = params.length;
    tuples.push(`(${row.map((_, i) => `$${base + i + 1}`).join(',')})`);
    // pg would JSON.stringify objects itself; arrays would become Postgres arrays, so be explicit.
    params.push(...row.map((v) => (v !== null && typeof v === 'object' ? JSON.stringify(v) : v)));
  }
  if (tuples.length === 0) return;
  await pool.query(
    `insert into raw.coin_market_snapshots (${COLUMNS}) values ${tuples.join(',')} on conflict do nothing`,
    params,
  );
}
