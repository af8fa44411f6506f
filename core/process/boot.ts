import { ConfigError, environmentWithDotenv, loadConfig, secretValues, type AppConfig } from '../config/index.js';
import { configureLogger, type Logger } from '../log/logger.js';
import { Lifecycle } from './lifecycle.js';

/** EX_CONFIG from sysexits.h: supervisors can tell "fix the settings" from a crash. */
export const EXIT_BAD_CONFIG = 78;

/**
 * Start of every process: configuration parsed and validated once (every problem listed, then exit
 * 78), logger scoped to the service with secrets redacted, signal handlers for graceful shutdown.
 */
export function boot(service: string, env: Record<string, string | undefined> = environmentWithDotenv()): {
  config: AppConfig;
  logger: Logger;
  lifecycle: Lifecycle;
} {
  let config: AppConfig;
  try {
    config = loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${service}: ${error.message}\n`);
      process.exit(EXIT_BAD_CONFIG);
    }
    throw error;
  }
  const logger = configureLogger({ level: config.logLevel, service, secrets: secretValues(config) });
  const lifecycle = new Lifecycle(logger, config.jobs.shutdownTimeoutMs);
  lifecycle.installSignalHandlers();
  process.on('unhandledRejection', (reason) => logger.error('unhandled rejection', { reason: String(reason) }));
  return { config, logger, lifecycle };
}
