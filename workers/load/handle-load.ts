import { dropParkedBatch, readParkedBatch } from '../../core/handoff/parked-batch.js';
import { alreadyLoadedOrGone, loadRefetchingOnce, parkedBatchKey } from '../../core/handoff/recovery.js';
import type { Handler } from '../../core/jobs/run-job.js';
import {
  copyDuration,
  rowsLoaded,
  schemaDrift,
  staleKeyChecks,
  staleObservations,
} from '../../core/metrics/registry.js';
import type { PayloadOf } from '../../core/queues/registry.js';
import type { Runtime } from '../../core/runtime.js';
import { loadBatch, type LoadBatchOutcome } from '../../core/snapshots/load-snapshots.js';
import { schemaDriftCounter } from './schema-drift-labels.js';

/**
 * One per process, as the metric is: however many load workers a process runs, the label set of
 * cdp_coingecko_schema_drift_total stays within its cap.
 */
const countSchemaDrift = schemaDriftCounter(schemaDrift);

/**
 * Loads the batch its fetch child parked in Redis; idempotent per (run, batch). Where the parked batch
 * is, and what happens when it is gone, is the recovery protocol (core/handoff/recovery.ts).
 */
export function loadHandler(runtime: Runtime): Handler<'load'> {
  const driftLogged = new Set<string>();
  return async (context) => {
    const { data, log } = context;
    const key = await parkedBatchKey(runtime, context);
    const started = performance.now();
    const outcome = await loadRefetchingOnce(runtime, context, key, (parkedAt) =>
      loadParkedBatch(runtime, parkedAt, data, runtime.config.transform.rawRetentionDays),
    );
    if (outcome.staleKeyCheck) staleKeyChecks.inc();
    if (outcome.status === 'already-loaded') {
      log.info('batch already loaded; nothing to do');
      return { status: 'already-loaded', rowsLoaded: 0, rowsDuplicate: 0, recordsRejected: 0 };
    }
    copyDuration.observe((performance.now() - started) / 1000);

    rowsLoaded.inc({ outcome: 'inserted' }, outcome.rowsLoaded);
    rowsLoaded.inc({ outcome: 'duplicate' }, outcome.rowsDuplicate);
    rowsLoaded.inc({ outcome: 'quarantined' }, outcome.recordsRejected);
    rowsLoaded.inc({ outcome: 'stale' }, outcome.rowsStale);
    staleObservations.inc(outcome.staleRecorded);
    if (outcome.staleRecorded > 0)
      log.info('recorded observations older than the raw retention window as stale (not loaded)', {
        recorded: outcome.staleRecorded,
      });
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

/**
 * Everything a load job does with its batch once it knows where it is parked: read the parked batch,
 * load it, drop it. With nothing parked, the batch is either loaded already (a redelivered job) or
 * gone. The load benchmark times this same function, so what it measures is what the worker does per
 * batch. `retentionDays` (TRANSFORM_RAW_RETENTION_DAYS) decides which rows are stale (see loadBatch).
 */
export async function loadParkedBatch(
  { pool, redis }: Pick<Runtime, 'pool' | 'redis'>,
  key: string,
  data: Pick<PayloadOf<'load'>, 'runId' | 'batchNo' | 'vsCurrency'>,
  retentionDays = 0,
): Promise<LoadBatchOutcome> {
  const context = { runId: data.runId, batchNo: data.batchNo, vsCurrency: data.vsCurrency };
  const batch = await readParkedBatch(redis, key, context);
  if (batch === undefined) return alreadyLoadedOrGone(pool, key, context);
  const outcome = await loadBatch(pool, batch, { retentionDays });
  await dropParkedBatch(redis, key);
  return outcome;
}
