import type pg from 'pg';
import { inTransaction } from '../db/pool.js';
import { classifyPostgresError } from '../errors.js';

/**
 * The load barrier: how a transform run learns exactly which snapshots no earlier run has read.
 *
 * Every load transaction holds a shared advisory lock from before its COPY until it ends, and its rows
 * take loaded_at = the start of that COPY (statement_timestamp(), the column default). A transform run
 * first takes the same lock exclusively: that waits until every load in flight has committed or rolled
 * back (and holds new ones back for that moment), then reads clock_timestamp(), the barrier, and lets
 * go. Every snapshot with loaded_at at or before the barrier has then committed, so the run reads it,
 * and every load that starts later stamps its rows after the barrier. The next run reads the rows
 * loaded after this run's barrier: each snapshot once, none missed, where a fixed look-back
 * (loaded_lookback_minutes) re-read minutes of earlier ticks on every run to catch late commits.
 *
 * The barrier compares timestamps of one server's clock; a clock stepped backwards by more than the
 * time between a tick's loads and its transform could hide rows from the incremental models until a
 * full refresh (dbt's own "loaded since max(loaded_at)" has the same exposure, without the barrier).
 */
const LOAD_LOCK = 'raw.coin_market_snapshots loads';

/**
 * How long a transform run waits for the loads in flight. A batch's load transaction takes well under a
 * second; one held open longer (a stuck client) must not stall every load behind the waiting barrier,
 * so the run goes on without a barrier of its own (see passLoadBarrier).
 */
export const LOAD_BARRIER_TIMEOUT_MS = 5_000;

/**
 * Entering the barrier, as an SQL expression a load transaction evaluates before its COPY (the load's
 * first statement does, to save a round trip): the barrier then waits for this transaction.
 */
export const ENTER_LOAD = `pg_advisory_xact_lock_shared(hashtext('${LOAD_LOCK}'))`;

/** Inside a load transaction, before the rows are written: the barrier waits for this transaction. */
export async function enterLoad(client: pg.ClientBase): Promise<void> {
  await client.query(`select ${ENTER_LOAD}`);
}

/**
 * Waits for the loads in flight and returns the barrier, as an ISO-8601 UTC timestamp with the
 * server's microseconds (a JavaScript Date would round them away, and a barrier rounded down would
 * count the rows loaded in its last millisecond as new). Null when the loads in flight did not end
 * within `timeoutMs`: the run then records no barrier, and the next run reads from the last one
 * recorded, which only means reading more.
 */
export async function passLoadBarrier(pool: pg.Pool, timeoutMs = LOAD_BARRIER_TIMEOUT_MS): Promise<string | null> {
  try {
    return await inTransaction(pool, async (client) => {
      await client.query("select set_config('lock_timeout', $1, true)", [`${Math.max(1, Math.round(timeoutMs))}ms`]);
      await client.query('select pg_advisory_xact_lock(hashtext($1))', [LOAD_LOCK]);
      const result = await client.query<{ at: string }>(`select ${isoUtc('clock_timestamp()')} as at`);
      return result.rows[0]!.at;
    });
  } catch (error) {
    if ((error as { code?: string }).code === '55P03') return null; // lock_not_available: lock_timeout ran out
    throw classifyPostgresError(error, 'waiting for the snapshot loads in flight (load barrier)');
  }
}

/** SQL rendering a timestamptz expression as ISO-8601 UTC with microseconds, whatever the session's TimeZone. */
export function isoUtc(expression: string): string {
  return `to_char(${expression} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;
}

/** An ISO-8601 UTC timestamp as isoUtc renders it (what may be passed to dbt as a var). */
export const ISO_UTC_MICROS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;
