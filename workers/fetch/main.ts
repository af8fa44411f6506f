/** Fetch worker process: run N of these on any number of machines against one Redis and Postgres. */
import { runWorkerProcess } from '../run-worker-process.js';
import { fetchLimiter } from './rate-limiter.js';
import { startFetchWorker } from './fetch-worker.js';

// The only process that calls CoinGecko, so the only one that needs an API key on the demo and pro plans.
await runWorkerProcess(
  'fetch-worker',
  startFetchWorker,
  (config) => ({
    concurrency: config.fetch.concurrency,
    rateLimitPerMin: config.coingecko.rateLimitPerMin,
    limiter: fetchLimiter(config),
  }),
  ['coingecko-api'],
);
