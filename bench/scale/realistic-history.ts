import type pg from 'pg';
import { parseJsonArrayItems } from '../../core/coingecko/json-array-items.js';
import { copyBuffers } from '../../core/db/copy-text.js';
import { SNAPSHOT_COLUMNS } from '../../core/snapshots/raw-columns.js';
import { validateSnapshotBatch } from '../../core/snapshots/validated-batch.js';
import { toJson } from '../../simulator/json.js';
import type { SimulatorControl } from '../../simulator/server.js';

const MINUTE = 60_000;

/**
 * One /coins/markets response of every coin, observed within the minute starting at `minute`, as
 * the load path stores it: the simulator's JSON body, split and validated by the fetch worker's own
 * code (validateSnapshotBatch: the record column is each item's text as sent), one COPY text buffer.
 * So the rows follow whatever raw-columns.ts and snapshot-row.ts say the table stores.
 */
function minuteBuffer(control: SimulatorControl, ids: string[], minute: number, runId: string): Buffer {
  // The simulator dates a step's data inside the step before the one asked for (never in the future):
  // asking for the next minute gives last_updated within this one.
  const body = toJson(control.marketsSnapshot(ids, 'usd', minute + MINUTE));
  const { items, texts } = parseJsonArrayItems(body);
  const batch = validateSnapshotBatch({ runId, batchNo: 0, vsCurrency: 'usd' }, items, texts);
  if (batch.rejected.length > 0)
    throw new Error(`simulated minute ${new Date(minute).toISOString()}: ${batch.rejected[0]!.reason}`);
  return Buffer.from(batch.lines.join(''));
}

/**
 * COPYs one snapshot of every simulated coin per minute in [from, to) straight into raw (what the
 * load workers write for a tick, without the ledger), one minute per COPY: the next minute's rows are
 * encoded while Postgres ingests the previous ones. loaded_at is the COPY's now(), as for a load.
 * `progress` is called after each minute with the rows so far.
 */
export async function copyRealisticHistory(
  pool: pg.Pool,
  control: SimulatorControl,
  options: {
    readonly from: number;
    readonly to: number;
    readonly signal: AbortSignal;
    readonly progress?: (rows: number) => void;
  },
): Promise<number> {
  const { from, to, signal, progress } = options;
  if (to <= from) return 0;
  const ids = control.universeIds();
  await pool.query('select raw.ensure_snapshot_partitions($1::date, $2::date)', [
    new Date(from).toISOString().slice(0, 10),
    new Date(to).toISOString().slice(0, 10),
  ]);
  const client = await pool.connect();
  try {
    let rows = 0;
    let pending: Promise<number> | undefined;
    for (let minute = from; minute < to; minute += MINUTE) {
      signal.throwIfAborted();
      const runId = `bench-${new Date(minute).toISOString().slice(0, 16)}`;
      const buffer = minuteBuffer(control, ids, minute, runId);
      if (pending) rows += await pending;
      progress?.(rows);
      pending = copyBuffers(client, 'raw.coin_market_snapshots', SNAPSHOT_COLUMNS, [buffer]);
    }
    if (pending) rows += await pending;
    progress?.(rows);
    return rows;
  } finally {
    client.release();
  }
}

/**
 * Bytes raw.coin_market_snapshots takes per row: every partition's heap, indexes and TOAST (total),
 * split into the heap with TOAST and the indexes, over the rows it holds.
 */
export async function rawBytesPerRow(
  pool: pg.Pool,
): Promise<{ rows: number; totalBytes: number; bytesPerRow: number; indexBytesPerRow: number }> {
  const size = await pool.query<{ total: string; indexes: string; rows: string }>(
    `select coalesce(sum(pg_total_relation_size(relid)), 0)::bigint as total,
            coalesce(sum(pg_indexes_size(relid)), 0)::bigint as indexes,
            (select count(*) from raw.coin_market_snapshots)::bigint as rows
       from pg_partition_tree('raw.coin_market_snapshots')`,
  );
  const rows = Number(size.rows[0]!.rows);
  const totalBytes = Number(size.rows[0]!.total);
  const perRow = (bytes: number) => (rows === 0 ? Number.NaN : bytes / rows);
  return { rows, totalBytes, bytesPerRow: perRow(totalBytes), indexBytesPerRow: perRow(Number(size.rows[0]!.indexes)) };
}
