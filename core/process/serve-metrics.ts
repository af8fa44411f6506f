import type { AppConfig } from '../config/index.js';
import type { Logger } from '../log/logger.js';
import { startMetricsServer } from '../metrics/server.js';
import type { Lifecycle } from './lifecycle.js';

/** Starts this process's /metrics endpoint when enabled and registers its shutdown. */
export async function serveMetrics(
  config: AppConfig,
  logger: Logger,
  lifecycle: Lifecycle,
): Promise<number | undefined> {
  if (!config.metrics.enabled) return undefined;
  const server = await startMetricsServer(config.metrics.port, config.metrics.host);
  lifecycle.onShutdown('metrics server', () => server.close());
  logger.info('metrics endpoint listening', { port: server.port, path: '/metrics' });
  return server.port;
}
