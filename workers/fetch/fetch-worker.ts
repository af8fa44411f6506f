import type { Worker } from 'bullmq';
import { MARKET_CHART_RANGE_ROUTE } from '../../core/coingecko/client.js';
import { markHistoryItemFailed } from '../../core/history/history-ledger.js';
import { startWorker } from '../../core/jobs/run-job.js';
import { coingeckoRequests } from '../../core/metrics/registry.js';
import { markBatchFailed } from '../../core/pipeline/run-ledger.js';
import type { Runtime } from '../../core/runtime.js';
import { fetchHandler } from './handle-fetch.js';
import { fetchLimiter } from './rate-limiter.js';

/** 429 waits do not use attempts up; this bounds how many times one job may be started in total. */
const MAX_STARTS = 200;

/** The paths the fetch worker calls (core/coingecko/client.ts, requestTarget). */
const CALLED_PATHS = ['/coins/markets', '/coins/list', MARKET_CHART_RANGE_ROUTE];

export function startFetchWorker(runtime: Runtime): Worker {
  const { config, pool } = runtime;
  // The 429 alert compares rates of this counter. A series born at its first 429 has no earlier
  // sample, so rate() sees no increase and the first storm after a start would never fire it.
  for (const endpoint of CALLED_PATHS) coingeckoRequests.inc({ endpoint, status: '429' }, 0);
  return startWorker('fetch', fetchHandler(runtime), runtime, {
    concurrency: config.fetch.concurrency,
    limiter: fetchLimiter(config),
    rateLimitQueue: runtime.queue('fetch'),
    maxStartedAttempts: MAX_STARTS,
    onFinalFailure: async ({ data }, reason) => {
      if (data.request.endpoint === 'markets')
        await markBatchFailed(pool, data.runId, data.batchNo, reason, { latestReason: true });
      if (data.request.endpoint === 'market-chart-range')
        await markHistoryItemFailed(pool, data.runId, data.batchNo, reason);
    },
  });
}
