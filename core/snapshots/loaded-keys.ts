import type pg from 'pg';
import { classifyPostgresError } from '../errors.js';
import { encodeParkedBatch } from '../handoff/parked-batch.js';
import type { SnapshotContext } from './snapshot-row.js';
import { validateSnapshotBatch } from './validated-batch.js';

/**
 * Which rows of a batch to leave out: keys already in raw.coin_market_snapshots, and repeats of a key
 * earlier in the batch. Compared in SQL, so timestamps match the way the primary key does. The
 * lateral subquery with `limit 1` keeps the plan a primary-key probe per row (with run-time
 * partition pruning) however large the table or stale its statistics; a hash join would scan
 * partitions. The bounds $4..$5 (the batch's first and last last_updated, widened by a second) prune
 * the partitions outside the batch's days before execution, so the cost does not grow with retention.
 * Yields each such row's index, from 0.
 */
export const KEYS_TO_SKIP = `
  select t.i::int - 1 as i
    from (select u.coin_id, u.last_updated, u.i,
                 row_number() over (partition by u.coin_id, u.last_updated order by u.i) as nth
            from unnest($1::text[], $2::timestamptz[]) with ordinality as u(coin_id, last_updated, i)) t
    left join lateral (select true as found from raw.coin_market_snapshots s
                        where s.coin_id = t.coin_id and s.vs_currency = $3 and s.last_updated = t.last_updated
                          and s.last_updated between $4 and $5
                        limit 1) e on true
   where t.nth > 1 or e.found`;

/** KEYS_TO_SKIP's parameters $1..$5 for a batch's keys. */
export function keyParameters(
  vsCurrency: string,
  coinIds: readonly string[],
  lastUpdated: readonly string[],
): unknown[] {
  return [coinIds, lastUpdated, vsCurrency, ...(coinIds.length > 0 ? timeBounds(lastUpdated) : [null, null])];
}

/** The batch's earliest and latest last_updated, widened by a second (Date keeps only milliseconds). */
function timeBounds(lastUpdated: readonly string[]): [string, string] {
  let min = Infinity;
  let max = -Infinity;
  for (const text of lastUpdated) {
    const t = Date.parse(text);
    if (t < min) min = t;
    if (t > max) max = t;
  }
  return [new Date(min - 1000).toISOString(), new Date(max + 1000).toISOString()];
}

/**
 * A markets response encoded as the fetch worker parks it (core/handoff/parked-batch.ts): validated,
 * COPY-encoded, and without the rows whose key is already loaded (or repeated in the batch), counted
 * in `duplicatesLeftOut`. The check is a read outside any transaction, done where the rate limit leaves
 * the worker idle; the load then runs without a key lookup in its transaction, the pipeline's
 * narrowest point, and falls back to one only if a key got loaded since (its COPY then meets the
 * primary key; see load-snapshots.ts). The check only saves work, so when it fails the batch is
 * encoded unchecked, `checkFailed` says why, and its load looks the keys up: failing the job instead
 * would cost another CoinGecko call.
 */
export async function encodeForParking(
  pool: pg.Pool,
  context: SnapshotContext,
  items: readonly unknown[],
  texts?: readonly string[] | (() => readonly string[]),
): Promise<{ readonly parked: Buffer; readonly checkFailed?: Error }> {
  const validated = validateSnapshotBatch(context, items, texts);
  try {
    const result = await pool.query<{ i: number }>({
      name: 'snapshot-keys-loaded',
      text: KEYS_TO_SKIP,
      values: keyParameters(context.vsCurrency, validated.coinIds, validated.lastUpdated),
    });
    return {
      parked: encodeParkedBatch(
        context,
        validated,
        result.rows.map((r) => r.i),
      ),
    };
  } catch (error) {
    const checkFailed = classifyPostgresError(
      error,
      `checking which keys of batch ${context.batchNo} of run ${context.runId} are loaded`,
    );
    return { parked: encodeParkedBatch(context, validated), checkFailed };
  }
}
