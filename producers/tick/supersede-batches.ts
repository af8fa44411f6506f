import { inTransaction } from '../../core/db/pool.js';
import { batchesSuperseded } from '../../core/metrics/registry.js';
import { markBatchSuperseded } from '../../core/pipeline/run-ledger.js';
import { jobIds } from '../../core/queues/registry.js';
import type { Runtime } from '../../core/runtime.js';

/** The states of a fetch job that is not running: it can leave the queue without losing anything. */
const UNFETCHED = new Set(['waiting', 'prioritized', 'delayed']);

/** A batch of an older run that the newer tick superseded. */
export interface SupersededBatch {
  readonly runId: string;
  readonly batchNo: number;
}

/**
 * Keeps the fetch queue bounded when ticks need more CoinGecko calls than the rate limit allows
 * (call-budget.ts): planning tick `runId` supersedes the batches of older unfinished runs that were
 * not fetched yet and whose coins this tick fetches. Each such batch's load job leaves the queue with
 * its fetch child (BullMQ then releases the transform waiting for it, which runs once the run's other
 * batches settle), and the ledger records it as superseded by `runId`. A fetch that started, or a
 * batch already fetched, is left alone: what is fetched is loaded. So is a fetch that failed an
 * attempt and waits for its retry: it goes on to load or to fail with its reason, so that an outage
 * shows as failed runs (and fires the failing-ticks alert) rather than as superseded ones.
 *
 * Why here and not in the fetch job (one that starts, finds a newer tick and ends without calling):
 * BullMQ's limiter counts job starts, so a superseded job starting would still use a call's slot and
 * the backlog would drain no faster than it grows. Removed at planning, it never starts.
 *
 * Race-free under any number of fetch workers because, per batch:
 * - the ledger row is held (select … for update) from before the job's state is read until the
 *   ledger says superseded: a fetch cannot complete meanwhile, since it marks the batch fetched
 *   (markBatchFetched, a write to that row) before it completes, and would wait for this transaction;
 * - BullMQ's removal is one Redis script that refuses while the fetch or its load holds a lock (the
 *   job became active after its state was read): the batch then is fetched and loaded as usual;
 * - a fetch that fails for good writes the row too (onFinalFailure, while it is still locked), so it
 *   either failed before the row was held (not planned any more, skipped) or its removal is refused.
 * The removal comes first and the ledger commit after: a planner that dies between the two leaves the
 * batch planned with no jobs; the tick's retry finds both jobs gone while the run's transform still
 * waits (so Redis was not wiped, see producers/scheduler/lost-runs.ts) and records it then.
 */
export async function supersedeOlderBatches(
  runtime: Runtime,
  runId: string,
  coinIds: readonly string[],
): Promise<SupersededBatch[]> {
  const { pool } = runtime;
  const candidates = await pool.query<{ run_id: string; batch_no: number }>(
    `select b.run_id, b.batch_no
       from pipeline.pipeline_batches b
       join pipeline.pipeline_runs r on r.run_id = b.run_id
      where b.status = 'planned' and r.finished_at is null and r.run_id <> $1
        and r.started_at < (select started_at from pipeline.pipeline_runs where run_id = $1)
        and b.coin_ids <@ $2::text[]
      order by r.started_at, b.batch_no`,
    [runId, coinIds],
  );
  const superseded: SupersededBatch[] = [];
  for (const { run_id: olderRunId, batch_no: batchNo } of candidates.rows) {
    const done = await inTransaction(pool, async (client) => {
      const row = await client.query<{ status: string }>(
        'select status from pipeline.pipeline_batches where run_id = $1 and batch_no = $2 for update',
        [olderRunId, batchNo],
      );
      if (row.rows[0]?.status !== 'planned') return false;
      if (!(await removeUnfetched(runtime, olderRunId, batchNo))) return false;
      return markBatchSuperseded(client, olderRunId, batchNo, runId);
    });
    if (done) superseded.push({ runId: olderRunId, batchNo });
  }
  batchesSuperseded.inc(superseded.length);
  return superseded;
}

/**
 * Removes a batch's load job with its fetch child if the fetch is not running and never failed an
 * attempt (a 429 wait uses none); false otherwise (or when the jobs are in a state this cannot
 * judge), so the batch goes its usual way.
 */
async function removeUnfetched(runtime: Runtime, runId: string, batchNo: number): Promise<boolean> {
  const [fetch, load] = await Promise.all([
    runtime.queue('fetch').getJob(jobIds.fetch(runId, batchNo)),
    runtime.queue('load').getJob(jobIds.load(runId, batchNo)),
  ]);
  if (!fetch || !load) {
    // Both gone while the run's transform still waits: removed by a planner that died before its
    // ledger commit. Anything else (Redis wiped, a job removed by hand) is not this function's to judge.
    return !fetch && !load && (await runtime.queue('transform').getJob(jobIds.transform(runId))) !== undefined;
  }
  if (fetch.attemptsMade > 0 || !UNFETCHED.has(await fetch.getState())) return false;
  try {
    await load.remove({ removeChildren: true });
    return true;
  } catch (error) {
    // Refused: the fetch (or its load) took a lock since its state was read; it runs as usual.
    if (/locked/.test((error as Error).message)) return false;
    throw error;
  }
}
