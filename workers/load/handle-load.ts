import { PermanentError } from '../../core/errors.js';
import type { Handler } from '../../core/jobs/run-job.js';
import { copyDuration, rowsLoaded, schemaDrift } from '../../core/metrics/registry.js';
import { batchStatus } from '../../core/pipeline/run-ledger.js';
import { deletePayload, readPayload } from '../../core/queues/payload-store.js';
import type { FetchResult } from '../../core/queues/registry.js';
import type { Runtime } from '../../core/runtime.js';
import { loadSnapshotBatch } from '../../core/snapshots/load-snapshots.js';

const MAX_DRIFT_LABELS = 50;

/** Loads the batch its fetch child parked in Redis; idempotent per (run, batch). */
export function loadHandler(runtime: Runtime): Handler<'load'> {
  const { pool, redis } = runtime;
  const driftLogged = new Set<string>();
  const driftLabels = new Set<string>();
  return async ({ job, data, log }) => {
    const fetched = Object.values(await job.getChildrenValues<FetchResult>());
    const payloadKey = fetched[0]?.payloadKey;
    if (!payloadKey) throw new PermanentError(`load ${job.id} has no fetch result to load`);
    // A re-delivered job (crash after commit, manual retry) finds its batch loaded and its payload gone.
    if ((await batchStatus(pool, data.runId, data.batchNo)) === 'loaded') {
      await deletePayload(redis, payloadKey);
      log.info('batch already loaded; nothing to do');
      return { status: 'already-loaded', rowsLoaded: 0, rowsDuplicate: 0, recordsRejected: 0 };
    }

    const body = await readPayload(redis, payloadKey);
    let items: unknown;
    try {
      items = JSON.parse(body);
    } catch {
      throw new PermanentError(`payload ${payloadKey} is not JSON (it was checked when fetched; Redis data corrupted?)`);
    }
    if (!Array.isArray(items)) throw new PermanentError(`payload ${payloadKey} is not a JSON array`);

    const started = performance.now();
    const outcome = await loadSnapshotBatch(pool, { runId: data.runId, batchNo: data.batchNo, vsCurrency: data.vsCurrency, items });
    copyDuration.observe((performance.now() - started) / 1000);
    await deletePayload(redis, payloadKey);

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
