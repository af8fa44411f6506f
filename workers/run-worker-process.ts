import type { Worker } from 'bullmq';
import type { AppConfig, ConfigNeed } from '../core/config/index.js';
import { closeWorker } from '../core/jobs/close-worker.js';
import { boot } from '../core/process/boot.js';
import { watchRedis } from '../core/process/redis-watch.js';
import { serveMetrics } from '../core/process/serve-metrics.js';
import { Runtime } from '../core/runtime.js';

/**
 * The life of a worker process, the same for every kind: boot (config, logger, signals), shared
 * connections, /metrics, the worker, and a graceful shutdown in reverse order.
 */
export async function runWorkerProcess(
  service: string,
  start: (runtime: Runtime) => Worker | Promise<Worker>,
  describe: (config: AppConfig) => Record<string, unknown>,
  needs: readonly ConfigNeed[] = [],
): Promise<void> {
  const { config, logger, lifecycle } = boot(service, undefined, needs);
  const runtime = new Runtime(config, logger, service);
  lifecycle.onShutdown('runtime', () => runtime.close());
  await serveMetrics(config, logger, lifecycle);
  const stopWatch = watchRedis(runtime.redis, logger);
  lifecycle.onShutdown('redis watch', async () => stopWatch());
  const worker = await start(runtime);
  lifecycle.onShutdown(`${service} worker`, () => closeWorker(worker, config.jobs.shutdownTimeoutMs));
  logger.info(`${service.replace('-', ' ')} started`, describe(config));
}
