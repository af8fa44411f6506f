/** Transform worker process: runs the dbt project once per tick (one run at a time cluster-wide). */
import { closeWorker } from '../../core/jobs/close-worker.js';
import { boot } from '../../core/process/boot.js';
import { serveMetrics } from '../../core/process/serve-metrics.js';
import { Runtime } from '../../core/runtime.js';
import { startTransformWorker } from './transform-worker.js';

const SERVICE = 'transform-worker';
const { config, logger, lifecycle } = boot(SERVICE);
const runtime = new Runtime(config, logger, SERVICE);
lifecycle.onShutdown('runtime', () => runtime.close());
await serveMetrics(config, logger, lifecycle);
const worker = await startTransformWorker(runtime);
lifecycle.onShutdown('transform worker', () => closeWorker(worker, config.jobs.shutdownTimeoutMs));
logger.info('transform worker started', { runner: config.transform.runner });
