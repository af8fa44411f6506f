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
function minuteBuffer(
  control: SimulatorControl,
  ids: string[],
  minute: number,
  runId: string,
  loadedAt: string | undefined,
): Buffer {
  // The simulator dates a step's data inside the step before the one asked for (never in the future):
  // asking for the next minute gives last_updated within this one.
  const body = toJson(control.marketsSnapshot(ids, 'usd', minute + MINUTE));
  const { items, texts } = parseJsonArrayItems(body);
  const batch = validateSnapshotBatch({ runId, batchNo: 0, vsCurrency: 'usd' }, items, texts);
  if (batch.rejected.length > 0)
    throw new Error(`simulated minute ${new Date(minute).toISOString()}: ${batch.rejected[0]!.reason}`);
  if (loadedAt === undefined) return Buffer.from(batch.lines.join(''));
  // Each line ends in a newline; loaded_at goes last (COPY_COLUMNS_WITH_LOADED_AT).
  return Buffer.from(batch.lines.map((line) => `${line.slice(0, -1)}\t${loadedAt}\n`).join(''));
}

const COPY_COLUMNS_WITH_LOADED_AT = [...SNAPSHOT_COLUMNS, 'loaded_at'];

/**
 * The statement that repeats the rows of one encoded minute for the `copies` minutes after it, every
 * stored column as it is (so it follows whatever the table stores) but last_updated and loaded_at
 * (shifted a minute per copy; loaded_at left to its default, now(), with `loadedNow`), run_id and
 * current_price (drifted, so hours are not flat). Built from the catalog once, so a storage redesign
 * needs no change here.
 */
async function repeatStatement(client: pg.PoolClient, loadedNow: boolean): Promise<string> {
  const columns = await client.query<{ name: string }>(
    `select column_name as name from information_schema.columns
      where table_schema = 'raw' and table_name = 'coin_market_snapshots'
        and is_generated = 'NEVER' and is_identity = 'NO' and ($1 or column_name <> 'loaded_at')
      order by ordinal_position`,
    [!loadedNow],
  );
  const expression: Record<string, string> = {
    last_updated: `s.last_updated + k * interval '1 minute'`,
    run_id: `s.run_id || '+' || k`,
    current_price: `s.current_price * (1 + 0.002 * sin(k + length(s.coin_id)))`,
    loaded_at: `s.loaded_at + k * interval '1 minute'`,
  };
  const names = columns.rows.map((c) => `"${c.name}"`).join(', ');
  const values = columns.rows.map((c) => expression[c.name] ?? `s."${c.name}"`).join(', ');
  return `insert into raw.coin_market_snapshots (${names})
          select ${values}
            from raw.coin_market_snapshots s cross join generate_series(1, $3::int) as k
           where s.last_updated >= $1::timestamptz and s.last_updated < $2::timestamptz`;
}

/**
 * Writes one snapshot of every simulated coin per minute in [from, to) straight into raw (what the
 * load workers write for a tick, without the ledger). loaded_at is 2 s after the minute ends, as if
 * loaded then (the data tests and the models' load watermarks read loaded_at: a day of rows loaded
 * all at once would look to them like one huge tick), or now() with `loadedNow` (a fresh tick). Every
 * `encodeEvery`-th minute (and the first) is a simulator response encoded and COPYed by the load
 * path's own code; the minutes between repeat its stored rows in SQL (repeatStatement): encoding
 * every minute costs ~3 s of Node per 15,000 rows on this machine, over an hour for a day. The next
 * encoded minute is prepared while Postgres ingests the previous one. `progress` is called after
 * each encoded minute with the rows so far.
 */
export async function copyRealisticHistory(
  pool: pg.Pool,
  control: SimulatorControl,
  options: {
    readonly from: number;
    readonly to: number;
    readonly signal: AbortSignal;
    readonly encodeEvery?: number;
    readonly loadedNow?: boolean;
    readonly progress?: (rows: number) => void;
  },
): Promise<number> {
  const { from, to, signal, progress } = options;
  const encodeEvery = options.encodeEvery ?? 1;
  const loadedNow = options.loadedNow ?? false;
  if (to <= from) return 0;
  const ids = control.universeIds();
  await pool.query('select raw.ensure_snapshot_partitions($1::date, $2::date)', [
    new Date(from).toISOString().slice(0, 10),
    new Date(to).toISOString().slice(0, 10),
  ]);
  const client = await pool.connect();
  try {
    const repeat = encodeEvery > 1 ? await repeatStatement(client, loadedNow) : '';
    const columns = loadedNow ? SNAPSHOT_COLUMNS : COPY_COLUMNS_WITH_LOADED_AT;
    const write = async (buffer: Buffer, minute: number, copies: number): Promise<number> => {
      let rows = await copyBuffers(client, 'raw.coin_market_snapshots', columns, [buffer]);
      if (copies > 0) {
        const repeated = await client.query(repeat, [
          new Date(minute).toISOString(),
          new Date(minute + MINUTE).toISOString(),
          copies,
        ]);
        rows += repeated.rowCount ?? 0;
      }
      return rows;
    };
    let rows = 0;
    let pending: Promise<number> | undefined;
    for (let minute = from; minute < to; minute += encodeEvery * MINUTE) {
      signal.throwIfAborted();
      const runId = `bench-${new Date(minute).toISOString().slice(0, 16)}`;
      const loadedAt = loadedNow ? undefined : new Date(minute + MINUTE + 2000).toISOString();
      const buffer = minuteBuffer(control, ids, minute, runId, loadedAt);
      if (pending) rows += await pending;
      progress?.(rows);
      const copies = Math.min(encodeEvery, (to - minute) / MINUTE) - 1;
      pending = write(buffer, minute, copies);
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
