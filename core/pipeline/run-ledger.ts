import type pg from 'pg';
import { inTransaction } from '../db/pool.js';

/**
 * The run ledger: pipeline_runs (one row per tick) and pipeline_batches (one per id batch).
 * Batch transitions are idempotent (planned → fetched → loaded, or → failed; failed → loaded when a
 * failed job is retried from Bull Board; planned → superseded when a newer tick is planned first) and move the run's counters in the same transaction, so a
 * retried or duplicated job never counts twice. The run is finished by whichever transition
 * completes it.
 */
type Queryable = Pick<pg.PoolClient, 'query'>;

export interface PlannedRun {
  readonly runId: string;
  readonly trigger: 'schedule' | 'manual' | 'backfill';
  readonly scheduledAt: Date | null;
  readonly batches: readonly (readonly string[])[];
  /** The tick's call budget as planned (producers/tick/call-budget.ts); callsAllowed null: unlimited. */
  readonly budget?: { readonly callsNeeded: number; readonly callsAllowed: number | null };
  /** Fetch and load jobs waiting in BullMQ when the tick was planned (the backlog it found); absent: not known. */
  readonly queueDepth?: { readonly fetch: number; readonly load: number };
}

/**
 * Records a planned run. If the run already exists (the tick job is being retried), the stored plan
 * wins and is returned, so a retry re-enqueues exactly the same batches.
 */
export async function recordPlannedRun(
  pool: pg.Pool,
  run: PlannedRun,
): Promise<{ batches: string[][]; created: boolean }> {
  return inTransaction(pool, async (client) => {
    const inserted = await client.query(
      `insert into pipeline.pipeline_runs (run_id, trigger, scheduled_at, coins_planned, batches_planned, calls_needed, calls_allowed,
                                          fetch_jobs_waiting, load_jobs_waiting)
       values ($1, $2, $3, $4, $5, $6, $7, $8, $9) on conflict (run_id) do nothing`,
      [
        run.runId,
        run.trigger,
        run.scheduledAt,
        run.batches.reduce((n, b) => n + b.length, 0),
        run.batches.length,
        run.budget?.callsNeeded ?? null,
        run.budget?.callsAllowed ?? null,
        run.queueDepth?.fetch ?? null,
        run.queueDepth?.load ?? null,
      ],
    );
    if (inserted.rowCount === 1) {
      await client.query(
        `insert into pipeline.pipeline_batches (run_id, batch_no, coin_ids)
         select $1, ordinality - 1, string_to_array(ids, ',') from unnest($2::text[]) with ordinality as t(ids, ordinality)`,
        [run.runId, run.batches.map((ids) => ids.join(','))],
      );
      return { batches: run.batches.map((b) => [...b]), created: true };
    }
    const stored = await client.query<{ coin_ids: string[] }>(
      'select coin_ids from pipeline.pipeline_batches where run_id = $1 order by batch_no',
      [run.runId],
    );
    return { batches: stored.rows.map((r) => r.coin_ids), created: false };
  });
}

/**
 * The status a run finishes with, given its failed, loaded and superseded batch counts (SQL
 * expressions): 'superseded' when batches were superseded by a newer tick (in part or entirely) and
 * none failed; a failure outranks it, since a failed batch is what an operator has to look at.
 */
const runOutcome = (failed: string, loaded: string, superseded = 'batches_superseded') =>
  `case when ${failed} = 0 and ${superseded} = 0 then 'loaded' when ${failed} = 0 then 'superseded'
        when ${loaded} = 0 then 'failed' else 'partial' end`;

/**
 * Whether a run row is to be finished (SQL), given its loaded, failed and superseded counts: once every
 * batch has settled. A run already finished as failed, partial or superseded is finished again when a
 * failed batch of it has since loaded (a job retried from Bull Board), so its status follows its
 * counters; a lost run (its jobs gone from Redis) stays lost.
 */
const finishes = (failed: string, loaded: string, superseded = 'batches_superseded') =>
  `(${loaded} + ${failed} + ${superseded} >= batches_planned
    and (finished_at is null
         or (status in ('failed', 'partial', 'superseded') and status <> ${runOutcome(failed, loaded, superseded)})))`;

const FINISH_RUN = `
  update pipeline.pipeline_runs
     set finished_at = now(), status = ${runOutcome('batches_failed', 'batches_loaded')}
   where run_id = $1 and ${finishes('batches_failed', 'batches_loaded')}`;

export async function markBatchFetched(
  pool: pg.Pool,
  runId: string,
  batchNo: number,
  recordsReceived: number,
): Promise<void> {
  await inTransaction(pool, async (client) => {
    await client.query(
      `with moved as (
         update pipeline.pipeline_batches set status = 'fetched', fetched_at = now(), records_received = $3
          where run_id = $1 and batch_no = $2 and status = 'planned' returning run_id)
       update pipeline.pipeline_runs r set batches_fetched = batches_fetched + 1 from moved where r.run_id = moved.run_id`,
      [runId, batchNo, recordsReceived],
    );
  });
}

export interface BatchLoadCounts {
  readonly recordsReceived: number;
  readonly rowsLoaded: number;
  readonly rowsDuplicate: number;
  /** Valid rows older than the raw retention window, not loaded (core/snapshots/stale-observations.ts). */
  readonly rowsStale: number;
  readonly recordsRejected: number;
}

export async function batchStatus(client: Queryable, runId: string, batchNo: number): Promise<string | undefined> {
  const result = await client.query<{ status: string }>(
    'select status from pipeline.pipeline_batches where run_id = $1 and batch_no = $2',
    [runId, batchNo],
  );
  return result.rows[0]?.status;
}

/**
 * Inside the load transaction (the batch row locked when it started, see core/snapshots/load-snapshots.ts),
 * after the rows are in: batch → loaded, run counters up, and the run finished if this was its last
 * batch, in one statement. A failed batch may load too: its job was retried from Bull Board once the
 * cause was fixed. It then moves out of batches_failed (and into batches_fetched if it failed before
 * its fetch), and the run, if already finished, is finished again with the status its counters now
 * give. Only the one transition out of planned/fetched/failed counts; a duplicate finds the batch
 * loaded. The run's SET expressions read the run row's newest version (a concurrent load of another
 * of its batches is waited for), so of two last batches loading at once the later finishes the run.
 */
export async function markBatchLoaded(
  client: Queryable,
  runId: string,
  batchNo: number,
  counts: BatchLoadCounts,
): Promise<void> {
  const failed = 'batches_failed - moved.was_failed';
  const loaded = 'batches_loaded + 1';
  await client.query({
    name: 'ledger-batch-loaded',
    text: `with previous as (
       select status, fetched_at from pipeline.pipeline_batches where run_id = $1 and batch_no = $2),
     moved as (
       update pipeline.pipeline_batches b
          set status = 'loaded', loaded_at = now(), fetched_at = coalesce(b.fetched_at, now()),
              records_received = $3, rows_loaded = $4, rows_duplicate = $5, records_rejected = $6, rows_stale = $7, error = null
         from previous
        where b.run_id = $1 and b.batch_no = $2 and previous.status in ('planned', 'fetched', 'failed')
        returning (previous.status = 'failed')::int as was_failed, (previous.fetched_at is null)::int as unfetched)
     update pipeline.pipeline_runs r
        set batches_loaded = ${loaded},
            batches_failed = ${failed},
            batches_fetched = batches_fetched + moved.unfetched,
            rows_loaded = rows_loaded + $4, rows_duplicate = rows_duplicate + $5, records_rejected = records_rejected + $6,
            rows_stale = rows_stale + $7,
            finished_at = case when ${finishes(failed, loaded)} then now() else finished_at end,
            status = case when ${finishes(failed, loaded)} then ${runOutcome(failed, loaded)} else status end
       from moved where r.run_id = $1`,
    values: [
      runId,
      batchNo,
      counts.recordsReceived,
      counts.rowsLoaded,
      counts.rowsDuplicate,
      counts.recordsRejected,
      counts.rowsStale,
    ],
  });
}

/**
 * A batch failed for good (its job exhausted attempts or hit a permanent error). `latestReason`: the
 * job's own failure hook passes it, so a job retried from Bull Board that fails again shows its new
 * reason (counted once all the same); the transform's sweep of BullMQ's record does not, since a load
 * failed by its fetch only says "child … failed" there and the fetch's reason is the useful one.
 */
export async function markBatchFailed(
  pool: pg.Pool,
  runId: string,
  batchNo: number,
  error: string,
  options: { latestReason?: boolean } = {},
): Promise<void> {
  await inTransaction(pool, async (client) => {
    await client.query(
      `with moved as (
         update pipeline.pipeline_batches set status = 'failed', failed_at = now(), error = left($3, 2000)
          where run_id = $1 and batch_no = $2 and status in ('planned', 'fetched') returning run_id)
       update pipeline.pipeline_runs r set batches_failed = batches_failed + 1 from moved where r.run_id = moved.run_id`,
      [runId, batchNo, error],
    );
    if (options.latestReason) {
      await client.query(
        `update pipeline.pipeline_batches set failed_at = now(), error = left($3, 2000)
          where run_id = $1 and batch_no = $2 and status = 'failed' and error is distinct from left($3, 2000)`,
        [runId, batchNo, error],
      );
    }
    await client.query(FINISH_RUN, [runId]);
  });
}

/**
 * A batch not fetched yet was superseded by a newer tick (`byRunId`), whose plan fetches its coins:
 * planned → superseded, with the reason in `error`, counted in the run, and the run finished if this
 * was its last batch to settle, in one statement. Called by producers/tick/supersede-batches.ts while
 * it holds the batch row (selected for update) and after the batch's jobs left the queue. Only the
 * one transition out of planned counts; returns whether it happened.
 */
export async function markBatchSuperseded(
  client: Queryable,
  runId: string,
  batchNo: number,
  byRunId: string,
): Promise<boolean> {
  const superseded = 'batches_superseded + 1';
  const result = await client.query(
    `with moved as (
       update pipeline.pipeline_batches
          set status = 'superseded', superseded_by = $3, superseded_at = now(),
              error = 'superseded by ' || $3 || ': not fetched before that newer tick was planned'
        where run_id = $1 and batch_no = $2 and status = 'planned' returning run_id)
     update pipeline.pipeline_runs r
        set batches_superseded = ${superseded},
            finished_at = case when ${finishes('batches_failed', 'batches_loaded', superseded)} then now() else finished_at end,
            status = case when ${finishes('batches_failed', 'batches_loaded', superseded)}
                          then ${runOutcome('batches_failed', 'batches_loaded', superseded)} else status end
       from moved where r.run_id = moved.run_id`,
    [runId, batchNo, byRunId],
  );
  return result.rowCount === 1;
}

export async function setTransformStatus(
  pool: pg.Pool,
  runId: string,
  status: 'queued' | 'running' | 'succeeded' | 'failed' | 'coalesced',
  details: { jobId?: string; error?: string } = {},
): Promise<void> {
  await pool.query(
    `update pipeline.pipeline_runs
        set transform_status = $2,
            transform_job_id = coalesce($3, transform_job_id),
            transform_finished_at = case when $2 in ('succeeded', 'failed', 'coalesced') then now() else transform_finished_at end,
            error = case when $2 = 'failed' then left($4, 2000) else error end
      where run_id = $1 and ($2 <> 'queued' or transform_status = 'pending')`,
    [runId, status, details.jobId ?? null, details.error ?? null],
  );
}
