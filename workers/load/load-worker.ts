import type { Worker } from 'bullmq';
import { startWorker } from '../../core/jobs/run-job.js';
import { markBatchFailed } from '../../core/pipeline/run-ledger.js';
import type { Runtime } from '../../core/runtime.js';
import { loadHandler } from './handle-load.js';

export function startLoadWorker(runtime: Runtime): Worker {
  const { config, pool } = runtime;
  return startWorker('load', loadHandler(runtime), runtime, {
    concurrency: config.load.concurrency,
    onFinalFailure: ({ data }, reason) =>
      markBatchFailed(pool, data.runId, data.batchNo, reason, { latestReason: true }),
  });
}
