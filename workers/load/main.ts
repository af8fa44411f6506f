/** Load worker process: run N of these on any number of machines against one Redis and Postgres. */
import { closeWorker } from '../../core/jobs/close-worker.js';
import { boot } from '../../core/process/boot.js';
import { serveMetrics } from '../../core/process/serve-metrics.js';
import { Runtime } from '../../core/runtime.js';
import { startLoadWorker } from './load-worker.js';

const SERVICE = 'load-worker';
const { config, logger, lifecycle } = boot(SERVICE);
const runtime = new Runtime(config, logger, SERVICE);
lifecycle.onShutdown('runtime', () => runtime.close());
await serveMetrics(config, logger, lifecycle);
const worker = startLoadWorker(runtime);
lifecycle.onShutdown('load worker', () => closeWorker(worker, config.jobs.shutdownTimeoutMs));
logger.info('load worker started', { concurrency: config.load.concurrency });
