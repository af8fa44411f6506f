import {
  ConfigError,
  environmentWithDotenv,
  loadConfig,
  secretValues,
  type AppConfig,
  type ConfigNeed,
} from '../config/index.js';
import { configureLogger, type Logger } from '../log/logger.js';
import { Lifecycle } from './lifecycle.js';

/** EX_CONFIG from sysexits.h: supervisors can tell "fix the settings" from a crash. */
export const EXIT_BAD_CONFIG = 78;

/**
 * Start of every process: configuration parsed and validated once (every problem listed, then exit
 * 78), logger scoped to the service with secrets redacted, signal handlers for graceful shutdown.
 * `needs` names what this process does that requires more settings (see ConfigNeed), e.g. the fetch
 * worker's calls to CoinGecko.
 */
export function boot(
  service: string,
  env: Record<string, string | undefined> = environmentWithDotenv(),
  needs: readonly ConfigNeed[] = [],
): {
  config: AppConfig;
  logger: Logger;
  lifecycle: Lifecycle;
} {
  const config = loadConfigOrExit(service, env, needs);
  const logger = configureLogger({ level: config.logLevel, service, secrets: secretValues(config) });
  const lifecycle = new Lifecycle(logger, config.jobs.shutdownTimeoutMs);
  lifecycle.installSignalHandlers();
  process.on('unhandledRejection', (reason) => logger.error('unhandled rejection', { reason: String(reason) }));
  return { config, logger, lifecycle };
}

/**
 * The configuration, or, when it is invalid, every problem on stderr under the service's name and
 * exit 78, with no stack trace. boot() starts every process with it; a process with signal handling
 * of its own (scripts/run-local.ts) calls it directly.
 */
export function loadConfigOrExit(
  service: string,
  env: Record<string, string | undefined> = environmentWithDotenv(),
  needs: readonly ConfigNeed[] = [],
): AppConfig {
  try {
    return loadConfig(env, { needs });
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${service}: ${error.message}\n`);
      process.exit(EXIT_BAD_CONFIG);
    }
    throw error;
  }
}
