/** Fetch worker process: run N of these on any number of machines against one Redis and Postgres. */
import { closeWorker } from '../../core/jobs/close-worker.js';
import { boot } from '../../core/process/boot.js';
import { serveMetrics } from '../../core/process/serve-metrics.js';
import { Runtime } from '../../core/runtime.js';
import { startFetchWorker } from './fetch-worker.js';

const SERVICE = 'fetch-worker';
const { config, logger, lifecycle } = boot(SERVICE);
const runtime = new Runtime(config, logger, SERVICE);
lifecycle.onShutdown('runtime', () => runtime.close());
await serveMetrics(config, logger, lifecycle);
const worker = startFetchWorker(runtime);
lifecycle.onShutdown('fetch worker', () => closeWorker(worker, config.jobs.shutdownTimeoutMs));
logger.info('fetch worker started', { concurrency: config.fetch.concurrency });
