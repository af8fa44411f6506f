import { WaitingChildrenError, type Job } from 'bullmq';
import { PermanentError } from '../../core/errors.js';
import { dropParkedBatch, ParkedBatchGoneError, readParkedBatch } from '../../core/handoff/parked-batch.js';
import type { Handler } from '../../core/jobs/run-job.js';
import { copyDuration, rowsLoaded, schemaDrift, staleKeyChecks } from '../../core/metrics/registry.js';
import { batchStatus } from '../../core/pipeline/run-ledger.js';
import { jobIds, type FetchResult, type PayloadOf } from '../../core/queues/registry.js';
import type { Logger } from '../../core/log/logger.js';
import type { Runtime } from '../../core/runtime.js';
import { loadBatch, type LoadBatchOutcome } from '../../core/snapshots/load-snapshots.js';
import { schemaDriftCounter } from './schema-drift-labels.js';

/**
 * One per process, as the metric is: however many load workers a process runs, the label set of
 * cdp_coingecko_schema_drift_total stays within its cap.
 */
const countSchemaDrift = schemaDriftCounter(schemaDrift);

/** Loads the batch its fetch child parked in Redis; idempotent per (run, batch). */
export function loadHandler(runtime: Runtime): Handler<'load'> {
  const driftLogged = new Set<string>();
  return async ({ job, data, log, token }) => {
    let payloadKey = (await fetchResult(job)) ?? (await awaitFetch(runtime, job, data, token, log, 'failed'));
    const started = performance.now();
    let outcome: LoadBatchOutcome;
    try {
      outcome = await loadParkedBatch(runtime, payloadKey, data);
    } catch (error) {
      // Retried after PAYLOAD_TTL (a disk full overnight), or the parked batch damaged: the batch is
      // not loaded and its body unusable. Fetched again (once per job, so nothing can loop), then loaded.
      if (!(error instanceof ParkedBatchGoneError) || refetches(job) >= 1) throw error;
      await job.updateProgress({ refetches: refetches(job) + 1 });
      payloadKey = await awaitFetch(runtime, job, data, token, log, 'completed');
      outcome = await loadParkedBatch(runtime, payloadKey, data);
    }
    if (outcome.staleKeyCheck) staleKeyChecks.inc();
    if (outcome.status === 'already-loaded') {
      log.info('batch already loaded; nothing to do');
      return { status: 'already-loaded', rowsLoaded: 0, rowsDuplicate: 0, recordsRejected: 0 };
    }
    copyDuration.observe((performance.now() - started) / 1000);

    rowsLoaded.inc({ outcome: 'inserted' }, outcome.rowsLoaded);
    rowsLoaded.inc({ outcome: 'duplicate' }, outcome.rowsDuplicate);
    rowsLoaded.inc({ outcome: 'quarantined' }, outcome.recordsRejected);
    for (const [field, { records, exampleCoin }] of Object.entries(outcome.unknownFields)) {
      countSchemaDrift(field, records);
      if (!driftLogged.has(field) && driftLogged.size < 100) {
        driftLogged.add(field);
        log.warn('schema drift: CoinGecko sent an undocumented field', { field, exampleCoin });
      }
    }
    if (outcome.recordsRejected > 0) log.warn('records quarantined', { rejected: outcome.recordsRejected });
    return {
      status: outcome.status,
      rowsLoaded: outcome.rowsLoaded,
      rowsDuplicate: outcome.rowsDuplicate,
      recordsRejected: outcome.recordsRejected,
    };
  };
}

async function fetchResult(job: Job): Promise<string | undefined> {
  return Object.values(await job.getChildrenValues<FetchResult>())[0]?.payloadKey;
}

/** How often this job had its fetch run again because the parked body was gone. */
function refetches(job: Job): number {
  const progress = job.progress as { refetches?: number } | number | undefined;
  return typeof progress === 'object' && progress !== null ? (progress.refetches ?? 0) : 0;
}

/**
 * Runs the batch's fetch again and waits for it, for a load retried from Bull Board ("redo this
 * batch"): `from` 'failed' when the fetch failed for good (the load failed with it, so it ran without
 * a fetch result), 'completed' when its parked body has expired since. BullMQ moves the retried fetch
 * back into this job's dependencies, and this job waits in waiting-children until it completes; so
 * one Retry of the load recovers the batch. A fetch retried on its own retries its failed load the
 * same way (workers/fetch/handle-fetch.ts), and the load waits here for it.
 */
async function awaitFetch(
  runtime: Runtime,
  job: Job,
  data: Pick<PayloadOf<'load'>, 'runId' | 'batchNo'>,
  token: string | undefined,
  log: Logger,
  from: 'failed' | 'completed',
): Promise<string> {
  const fetch = await runtime.queue('fetch').getJob(jobIds.fetch(data.runId, data.batchNo));
  if (!fetch) {
    throw new PermanentError(`load ${job.id} has nothing to load and its fetch job ${jobIds.fetch(data.runId, data.batchNo)} is gone (removed after JOB_KEEP_COMPLETED/JOB_KEEP_FAILED); the next tick loads these coins`);
  }
  if (!token) throw new PermanentError(`load ${job.id} has no fetch result to load`);
  if ((await fetch.getState()) === from) {
    log.info(from === 'failed' ? "the batch's fetch failed for good: fetching again, then loading" : "the batch's fetched body is gone: fetching again, then loading", { fetchJobId: fetch.id });
    // Not in that state any more by the time we retry (retried by an operator too): waiting for it is enough.
    await fetch.retry(from).catch(async (error: unknown) => {
      if ((await fetch.getState()) === from) throw error;
    });
  }
  if (await job.moveToWaitingChildren(token)) throw new WaitingChildrenError();
  // The fetch completed between our two looks.
  const payloadKey = await fetchResult(job);
  if (!payloadKey) throw new PermanentError(`load ${job.id} has no fetch result to load (its fetch ${fetch.id} is ${await fetch.getState()})`);
  return payloadKey;
}

/**
 * Everything a load job does with its batch once it knows where it is parked: read the parked batch,
 * load it, drop it. A batch found loaded with nothing parked any more is a redelivered job: nothing to
 * do. The load benchmark times this same function, so what it measures is what the worker does per
 * batch.
 */
export async function loadParkedBatch(
  { pool, redis }: Pick<Runtime, 'pool' | 'redis'>,
  key: string,
  data: Pick<PayloadOf<'load'>, 'runId' | 'batchNo' | 'vsCurrency'>,
): Promise<LoadBatchOutcome> {
  const context = { runId: data.runId, batchNo: data.batchNo, vsCurrency: data.vsCurrency };
  const batch = await readParkedBatch(redis, key, context);
  if (batch === undefined) {
    // A re-delivered job (crash after commit, manual retry) finds its batch loaded and nothing parked.
    // Asked only then, which saves a round trip on every other batch; a batch loaded with its parked
    // batch still there is caught under the ledger lock in loadBatch.
    if ((await batchStatus(pool, data.runId, data.batchNo)) === 'loaded') {
      return { status: 'already-loaded', rowsLoaded: 0, rowsDuplicate: 0, recordsRejected: 0, unknownFields: {}, staleKeyCheck: false };
    }
    throw new ParkedBatchGoneError(`parked batch ${data.batchNo} of run ${data.runId} is gone (${key} expired or was lost with Redis); the batch must be fetched again`);
  }
  const outcome = await loadBatch(pool, batch);
  await dropParkedBatch(redis, key);
  return outcome;
}
