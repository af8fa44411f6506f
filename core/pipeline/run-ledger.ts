import type pg from 'pg';
import { inTransaction } from '../db/pool.js';

/**
 * The run ledger: pipeline_runs (one row per tick) and pipeline_batches (one per id batch).
 * Batch transitions are idempotent (planned → fetched → loaded, or → failed) and move the run's
 * counters in the same transaction, so a retried or duplicated job never counts twice. The run is
 * finished by whichever transition completes it.
 */
type Queryable = Pick<pg.PoolClient, 'query'>;

export interface PlannedRun {
  readonly runId: string;
  readonly trigger: 'schedule' | 'manual' | 'backfill';
  readonly scheduledAt: Date | null;
  readonly batches: readonly (readonly string[])[];
}

/**
 * Records a planned run. If the run already exists (the tick job is being retried), the stored plan
 * wins and is returned, so a retry re-enqueues exactly the same batches.
 */
export async function recordPlannedRun(pool: pg.Pool, run: PlannedRun): Promise<{ batches: string[][]; created: boolean }> {
  return inTransaction(pool, async (client) => {
    const inserted = await client.query(
      `insert into pipeline.pipeline_runs (run_id, trigger, scheduled_at, coins_planned, batches_planned)
       values ($1, $2, $3, $4, $5) on conflict (run_id) do nothing`,
      [run.runId, run.trigger, run.scheduledAt, run.batches.reduce((n, b) => n + b.length, 0), run.batches.length],
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

const FINISH_RUN = `
  update pipeline.pipeline_runs
     set finished_at = now(),
         status = case when batches_failed = 0 then 'loaded' when batches_loaded = 0 then 'failed' else 'partial' end
   where run_id = $1 and finished_at is null and batches_loaded + batches_failed >= batches_planned`;

export async function markBatchFetched(pool: pg.Pool, runId: string, batchNo: number, recordsReceived: number): Promise<void> {
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
  readonly recordsRejected: number;
}

export async function batchStatus(client: Queryable, runId: string, batchNo: number): Promise<string | undefined> {
  const result = await client.query<{ status: string }>('select status from pipeline.pipeline_batches where run_id = $1 and batch_no = $2', [runId, batchNo]);
  return result.rows[0]?.status;
}

/** Current status of a batch (locks it until the transaction ends), or undefined when unknown. */
export async function lockBatch(client: Queryable, runId: string, batchNo: number): Promise<string | undefined> {
  const result = await client.query<{ status: string }>(
    'select status from pipeline.pipeline_batches where run_id = $1 and batch_no = $2 for update',
    [runId, batchNo],
  );
  return result.rows[0]?.status;
}

/** Inside the load transaction, after the rows are in: batch → loaded, run counters up, maybe finish. */
export async function markBatchLoaded(client: Queryable, runId: string, batchNo: number, counts: BatchLoadCounts): Promise<void> {
  await client.query(
    `with previous as (
       select status from pipeline.pipeline_batches where run_id = $1 and batch_no = $2),
     moved as (
       update pipeline.pipeline_batches b
          set status = 'loaded', loaded_at = now(), fetched_at = coalesce(b.fetched_at, now()),
              records_received = $3, rows_loaded = $4, rows_duplicate = $5, records_rejected = $6, error = null
         from previous
        where b.run_id = $1 and b.batch_no = $2 and previous.status in ('planned', 'fetched')
        returning previous.status as previous_status)
     update pipeline.pipeline_runs r
        set batches_loaded = batches_loaded + 1,
            batches_fetched = batches_fetched + (case when moved.previous_status = 'planned' then 1 else 0 end),
            rows_loaded = rows_loaded + $4, rows_duplicate = rows_duplicate + $5, records_rejected = records_rejected + $6
       from moved where r.run_id = $1`,
    [runId, batchNo, counts.recordsReceived, counts.rowsLoaded, counts.rowsDuplicate, counts.recordsRejected],
  );
  await client.query(FINISH_RUN, [runId]);
}

/** A batch failed for good (its job exhausted attempts or hit a permanent error). */
export async function markBatchFailed(pool: pg.Pool, runId: string, batchNo: number, error: string): Promise<void> {
  await inTransaction(pool, async (client) => {
    await client.query(
      `with moved as (
         update pipeline.pipeline_batches set status = 'failed', failed_at = now(), error = left($3, 2000)
          where run_id = $1 and batch_no = $2 and status in ('planned', 'fetched') returning run_id)
       update pipeline.pipeline_runs r set batches_failed = batches_failed + 1 from moved where r.run_id = moved.run_id`,
      [runId, batchNo, error],
    );
    await client.query(FINISH_RUN, [runId]);
  });
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
