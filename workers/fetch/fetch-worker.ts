import type { Worker } from 'bullmq';
import { startWorker } from '../../core/jobs/run-job.js';
import { markBatchFailed } from '../../core/pipeline/run-ledger.js';
import type { Runtime } from '../../core/runtime.js';
import { fetchHandler } from './handle-fetch.js';
import { fetchLimiter } from './rate-limiter.js';

/** 429 waits do not use attempts up; this bounds how many times one job may be started in total. */
const MAX_STARTS = 200;

export function startFetchWorker(runtime: Runtime): Worker {
  const { config, pool } = runtime;
  return startWorker('fetch', fetchHandler(runtime), runtime, {
    concurrency: config.fetch.concurrency,
    limiter: fetchLimiter(config),
    rateLimitQueue: runtime.queue('fetch'),
    maxStartedAttempts: MAX_STARTS,
    onFinalFailure: async ({ data }, reason) => {
      if (data.request.endpoint === 'markets') await markBatchFailed(pool, data.runId, data.batchNo, reason, { latestReason: true });
    },
  });
}
