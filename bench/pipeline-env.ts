import { loadConfig, type AppConfig } from '../core/config/index.js';
import { configureLogger, rootLogger } from '../core/log/logger.js';
import { Runtime } from '../core/runtime.js';
import { BENCH_REDIS_URL } from './services.js';

/** Environment of a benchmarked pipeline: its own database and prefix, production timings otherwise, no metrics port. */
export function pipelineEnv(options: {
  databaseUrl: string;
  prefix: string;
  coingeckoUrl: string;
  env?: Record<string, string>;
}): Record<string, string> {
  return {
    NODE_ENV: 'development',
    LOG_LEVEL: 'info',
    DATABASE_URL: options.databaseUrl,
    REDIS_URL: BENCH_REDIS_URL,
    QUEUE_PREFIX: options.prefix,
    COINGECKO_BASE_URL: options.coingeckoUrl,
    COINGECKO_RATE_LIMIT_PER_MIN: '0',
    METRICS_ENABLED: 'false',
    SHUTDOWN_TIMEOUT: '5s',
    ...options.env,
  };
}

/** A Runtime in the harness process, for adding jobs and reading their timings. */
export function benchRuntime(env: Record<string, string>): { runtime: Runtime; config: AppConfig } {
  const config = loadConfig({ ...env, LOG_LEVEL: 'error' });
  configureLogger({ level: 'error', service: 'bench', secrets: [] });
  return { runtime: new Runtime(config, rootLogger, 'bench'), config };
}
