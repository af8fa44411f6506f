import { WaitingChildrenError, type Job } from 'bullmq';
import type pg from 'pg';
import { PermanentError } from '../errors.js';
import type { JobContext } from '../jobs/run-job.js';
import { batchStatus } from '../pipeline/run-ledger.js';
import { jobIds, type FetchResult } from '../queues/registry.js';
import type { Runtime } from '../runtime.js';
import type { LoadBatchOutcome } from '../snapshots/load-snapshots.js';
import type { SnapshotContext } from '../snapshots/snapshot-row.js';
import { ParkedBatchGoneError } from './parked-batch.js';

/**
 * How the fetch and load stages recover a batch together, written down once. Each batch of a tick is
 * a load job whose one child is the batch's fetch job (a BullMQ flow); the fetch hands the batch to
 * the load as a parked batch in Redis (core/handoff/parked-batch.ts).
 *
 * Who parks, reads and drops:
 * - The fetch worker parks the batch under its job's payload key for PAYLOAD_TTL, marks it fetched in
 *   the ledger, and returns the key as its result (FetchResult.payloadKey).
 * - The load worker takes the key from its fetch child's result, reads the parked batch (refused
 *   unless parked for this very batch), loads it in one transaction and drops it once that commits.
 *   A load that fails leaves it parked, so a retry reads it again.
 * - Nothing else drops it: a batch never loaded expires after PAYLOAD_TTL.
 *
 * What happens when:
 * - Redelivery. A load run again after its commit (a crash before BullMQ recorded the completion, a
 *   Retry of a completed load) finds nothing parked and the ledger saying loaded: nothing to do
 *   (alreadyLoadedOrGone). One that still finds its batch parked is stopped under the batch's ledger
 *   row lock (core/snapshots/load-snapshots.ts). Either way no row is loaded twice.
 * - Expiry or damage. A load that finds nothing parked for a batch not loaded yet (PAYLOAD_TTL passed,
 *   a disk full overnight; lost with Redis), or bytes that do not decode for its batch (damaged in
 *   Redis, or a plain response body parked by a release before parked batches), gets
 *   ParkedBatchGoneError. It then retries its completed fetch, waits for it in waiting-children, and
 *   loads what the new fetch parked (loadRefetchingOnce): once per load job, counted in the job's
 *   progress, so a batch that keeps vanishing fails instead of looping.
 * - Failed fetch. A fetch that fails for good fails its load with it (failParentOnFailure). A Retry of
 *   either recovers the batch: a retried load finds no fetch result, retries the failed fetch and
 *   waits for it (parkedBatchKey); a retried fetch, once it has parked the batch, retries the failed
 *   load (retryFailedLoad), which waits for the fetch if it finds no result yet.
 * - Failed load (a revoked grant, a full disk). The batch stays parked: a Retry of the load within
 *   PAYLOAD_TTL loads it, a later one fetches again as for expiry.
 * - Fetch job removed (JOB_KEEP_COMPLETED / JOB_KEEP_FAILED) when a load needs it again: the load
 *   fails for good, saying so; the next tick loads those coins.
 */

/**
 * Fetch side, once the batch is parked and marked fetched: a fetch that failed for good failed its
 * load with it. When that fetch is retried (from Bull Board), BullMQ puts it back among the load's
 * dependencies but leaves the load failed; retrying the load here makes the one Retry recover the
 * batch. The load, finding no fetch result yet, waits for this job in waiting-children.
 */
export async function retryFailedLoad(runtime: Runtime, runId: string, batchNo: number): Promise<void> {
  const load = await runtime.queue('load').getJob(jobIds.load(runId, batchNo));
  if (!load || (await load.getState()) !== 'failed') return;
  // Not failed any more by the time we retry (an operator retried it too): nothing left to do.
  await load.retry('failed').catch(async (error: unknown) => {
    if ((await load.getState()) === 'failed') throw error;
  });
}

/**
 * Load side: the key the batch is parked under, from the fetch's result. With none (the fetch failed
 * for good and this load was retried, or the fetch has not completed yet), the fetch is retried if it
 * failed and this load waits for it.
 */
export async function parkedBatchKey(runtime: Runtime, context: JobContext<'load'>): Promise<string> {
  return (await fetchResult(context.job)) ?? (await awaitFetch(runtime, context, 'failed'));
}

/**
 * Load side: `load` of the batch parked under `key`; when the parked batch is gone
 * (ParkedBatchGoneError), the batch's completed fetch run again and waited for, then `load` of what it
 * parked. Once per load job, so nothing can loop.
 */
export async function loadRefetchingOnce<T>(
  runtime: Runtime,
  context: JobContext<'load'>,
  key: string,
  load: (key: string) => Promise<T>,
): Promise<T> {
  const { job } = context;
  try {
    return await load(key);
  } catch (error) {
    if (!(error instanceof ParkedBatchGoneError) || refetches(job) >= 1) throw error;
    await job.updateProgress({ refetches: refetches(job) + 1 });
    return load(await awaitFetch(runtime, context, 'completed'));
  }
}

/**
 * Load side, nothing parked under `key`: a load redelivered after its commit finds its batch loaded,
 * and has nothing to do. The ledger is asked only then, which saves a round trip on every other batch.
 * Otherwise the parked batch is gone.
 */
export async function alreadyLoadedOrGone(
  pool: pg.Pool,
  key: string,
  context: SnapshotContext,
): Promise<LoadBatchOutcome> {
  if ((await batchStatus(pool, context.runId, context.batchNo)) === 'loaded') {
    return {
      status: 'already-loaded',
      rowsLoaded: 0,
      rowsDuplicate: 0,
      recordsRejected: 0,
      rowsStale: 0,
      staleRecorded: 0,
      unknownFields: {},
      staleKeyCheck: false,
    };
  }
  throw new ParkedBatchGoneError(
    `parked batch ${context.batchNo} of run ${context.runId} is gone (${key} expired or was lost with Redis); the batch must be fetched again`,
  );
}

/** The parked batch's key from the fetch child's result (FetchResult.payloadKey, stored in Redis, hence its name). */
async function fetchResult(job: Job): Promise<string | undefined> {
  return Object.values(await job.getChildrenValues<FetchResult>())[0]?.payloadKey;
}

/** How often this load job had its fetch run again because its parked batch was gone. */
function refetches(job: Job): number {
  const progress = job.progress as { refetches?: number } | number | undefined;
  return typeof progress === 'object' && progress !== null ? (progress.refetches ?? 0) : 0;
}

/**
 * Runs the batch's fetch again if it is in state `from` ('failed': it failed for good; 'completed':
 * what it parked is gone since), and makes the load wait for it in waiting-children: BullMQ moves the
 * retried fetch back into the load's dependencies. Returns the key when the fetch completed between
 * the two looks.
 */
async function awaitFetch(
  runtime: Runtime,
  { job, data, token, log }: JobContext<'load'>,
  from: 'failed' | 'completed',
): Promise<string> {
  const fetchId = jobIds.fetch(data.runId, data.batchNo);
  const fetch = await runtime.queue('fetch').getJob(fetchId);
  if (!fetch) {
    throw new PermanentError(
      `load ${job.id} has nothing to load and its fetch job ${fetchId} is gone (removed after JOB_KEEP_COMPLETED/JOB_KEEP_FAILED); the next tick loads these coins`,
    );
  }
  if (!token) throw new PermanentError(`load ${job.id} has no fetch result to load`);
  if ((await fetch.getState()) === from) {
    log.info(
      from === 'failed'
        ? "the batch's fetch failed for good: fetching again, then loading"
        : 'the parked batch is gone: fetching again, then loading',
      { fetchJobId: fetch.id },
    );
    // Not in that state any more by the time we retry (retried by an operator too): waiting for it is enough.
    await fetch.retry(from).catch(async (error: unknown) => {
      if ((await fetch.getState()) === from) throw error;
    });
  }
  if (await job.moveToWaitingChildren(token)) throw new WaitingChildrenError();
  // The fetch completed between our two looks.
  const key = await fetchResult(job);
  if (!key)
    throw new PermanentError(
      `load ${job.id} has no fetch result to load (its fetch ${fetch.id} is ${await fetch.getState()})`,
    );
  return key;
}
