import type { Worker } from 'bullmq';
import { errorMessage } from '../../core/errors.js';
import { startWorker } from '../../core/jobs/run-job.js';
import { setTransformStatus } from '../../core/pipeline/run-ledger.js';
import type { Runtime } from '../../core/runtime.js';
import type { TransformRunner } from './engine/runner-types.js';
import { transformHandler } from './handle-transform.js';

/** One dbt run at a time across every process: the queue's global concurrency is 1. */
export async function startTransformWorker(runtime: Runtime, runner?: () => TransformRunner): Promise<Worker> {
  await runtime.queue('transform').setGlobalConcurrency(1);
  return startWorker('transform', transformHandler(runtime, runner), runtime, {
    concurrency: 1,
    onFinalFailure: ({ data }, reason) =>
      setTransformStatus(runtime.pool, data.runId, 'failed', { error: errorMessage(reason) }),
  });
}
