import type { Worker } from 'bullmq';
import type { AppConfig, ConfigNeed } from '../core/config/index.js';
import { closeWorker } from '../core/jobs/close-worker.js';
import { boot } from '../core/process/boot.js';
import { watchRedis } from '../core/process/redis-watch.js';
import { serveMetrics } from '../core/process/serve-metrics.js';
import { Runtime } from '../core/runtime.js';

/** Time allowed to cancel and hand back active jobs once SHUTDOWN_TIMEOUT has passed. */
const HAND_BACK_MS = 5000;

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
  // closeWorker waits SHUTDOWN_TIMEOUT for active jobs, then hands them back, which takes a moment
  // more: the lifecycle must not give up on it at the same instant.
  const { shutdownTimeoutMs } = config.jobs;
  lifecycle.onShutdown(
    `${service} worker`,
    async () => {
      const outcome = await closeWorker(worker, shutdownTimeoutMs);
      if (outcome === 'forced')
        logger.warn('active jobs did not finish within SHUTDOWN_TIMEOUT and were handed back', {
          timeoutMs: shutdownTimeoutMs,
        });
      else logger.info('worker closed: every active job finished');
    },
    shutdownTimeoutMs + HAND_BACK_MS,
  );
  logger.info(`${service.replace('-', ' ')} started`, describe(config));
}
