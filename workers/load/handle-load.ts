import { parseJsonArrayItems } from '../../core/coingecko/json-array-items.js';
import { PermanentError } from '../../core/errors.js';
import type { Handler } from '../../core/jobs/run-job.js';
import { copyDuration, rowsLoaded, schemaDrift } from '../../core/metrics/registry.js';
import { batchStatus } from '../../core/pipeline/run-ledger.js';
import { deletePayload, readPayload } from '../../core/queues/payload-store.js';
import type { FetchResult, PayloadOf } from '../../core/queues/registry.js';
import type { Runtime } from '../../core/runtime.js';
import { loadSnapshotBatch, type LoadBatchOutcome } from '../../core/snapshots/load-snapshots.js';

const MAX_DRIFT_LABELS = 50;

/** Loads the batch its fetch child parked in Redis; idempotent per (run, batch). */
export function loadHandler(runtime: Runtime): Handler<'load'> {
  const driftLogged = new Set<string>();
  const driftLabels = new Set<string>();
  return async ({ job, data, log }) => {
    const fetched = Object.values(await job.getChildrenValues<FetchResult>());
    const payloadKey = fetched[0]?.payloadKey;
    if (!payloadKey) throw new PermanentError(`load ${job.id} has no fetch result to load`);
    const started = performance.now();
    const outcome = await loadParkedBatch(runtime, payloadKey, data);
    if (outcome.status === 'already-loaded') {
      log.info('batch already loaded; nothing to do');
      return { status: 'already-loaded', rowsLoaded: 0, rowsDuplicate: 0, recordsRejected: 0 };
    }
    copyDuration.observe((performance.now() - started) / 1000);

    rowsLoaded.inc({ outcome: 'inserted' }, outcome.rowsLoaded);
    rowsLoaded.inc({ outcome: 'duplicate' }, outcome.rowsDuplicate);
    rowsLoaded.inc({ outcome: 'quarantined' }, outcome.recordsRejected);
    for (const [field, { records, exampleCoin }] of Object.entries(outcome.unknownFields)) {
      // Label values stay a small, bounded set even if CoinGecko sends many new names.
      const label = driftLabels.has(field) || driftLabels.size < MAX_DRIFT_LABELS ? field.slice(0, 64) : 'other';
      driftLabels.add(field);
      schemaDrift.inc({ field: label }, records);
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
 * Everything a load job does with its batch once it knows the payload key: skip a batch already
 * loaded, read the parked body, split and parse it, load it, delete the payload. The load benchmark
 * times this same function, so what it measures is what the worker does per batch.
 */
export async function loadParkedBatch(
  { pool, redis }: Pick<Runtime, 'pool' | 'redis'>,
  payloadKey: string,
  data: Pick<PayloadOf<'load'>, 'runId' | 'batchNo' | 'vsCurrency'>,
): Promise<LoadBatchOutcome> {
  let body: string;
  try {
    body = await readPayload(redis, payloadKey);
  } catch (error) {
    // A re-delivered job (crash after commit, manual retry) finds its batch loaded and its payload
    // gone. Asked only then, which saves a round trip on every other batch; a batch loaded with its
    // payload still there is caught under the ledger lock in loadSnapshotBatch.
    if (error instanceof PermanentError && (await batchStatus(pool, data.runId, data.batchNo)) === 'loaded') {
      return { status: 'already-loaded', rowsLoaded: 0, rowsDuplicate: 0, recordsRejected: 0, unknownFields: {} };
    }
    throw error;
  }
  let parsed: { items: unknown[]; texts: string[] };
  try {
    // Each record's text is kept so the raw table stores it as sent, without serialising it again.
    parsed = parseJsonArrayItems(body);
  } catch (error) {
    throw new PermanentError(`payload ${payloadKey} is not a JSON array (${(error as Error).message}; it was checked when fetched: Redis data corrupted?)`);
  }
  const outcome = await loadSnapshotBatch(pool, { runId: data.runId, batchNo: data.batchNo, vsCurrency: data.vsCurrency, ...parsed });
  await deletePayload(redis, payloadKey);
  return outcome;
}
