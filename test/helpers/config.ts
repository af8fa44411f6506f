import { loadConfig, type AppConfig } from '../../core/config/index.js';
import { configureLogger } from '../../core/log/logger.js';
import { TEST_REDIS_URL } from './env.js';

/**
 * Environment for a pipeline under test: its own database and prefix, short lock/stall timings so
 * crash recovery takes seconds, fast retries, and no metrics port.
 */
export function testEnv(options: {
  databaseUrl: string;
  prefix: string;
  coingeckoUrl: string;
  env?: Record<string, string>;
}): Record<string, string> {
  return {
    NODE_ENV: 'test',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'error',
    DATABASE_URL: options.databaseUrl,
    REDIS_URL: TEST_REDIS_URL,
    QUEUE_PREFIX: options.prefix,
    COINGECKO_BASE_URL: options.coingeckoUrl,
    COINGECKO_RATE_LIMIT_PER_MIN: '0',
    COINGECKO_TIMEOUT: '3s',
    TRACK_TOP_N: '15000',
    RETRY_BASE_DELAY: '100ms',
    RETRY_MAX_DELAY: '2s',
    JOB_LOCK_DURATION: '3s',
    JOB_STALLED_INTERVAL: '1s',
    UNIVERSE_WAIT: '60s',
    // Extract/load tests need no dbt run; transform tests ask for the bundled runner.
    TRANSFORM_RUNNER: 'none',
    // Many tests pin the simulator's clock to fixed days; retention counts from the real clock and
    // would, weeks later, make their rows stale (not loaded) or drop them. Tests of retention set it.
    TRANSFORM_RAW_RETENTION_DAYS: '0',
    METRICS_ENABLED: 'false',
    // No first-start backfill: its calls would share every test's fetch queue; history tests ask for it.
    BACKFILL_DAYS: '0',
    SHUTDOWN_TIMEOUT: '5s',
    ...options.env,
  };
}

export function testConfig(options: Parameters<typeof testEnv>[0]): AppConfig {
  const env = testEnv(options);
  const logger = configureLogger({ level: env.LOG_LEVEL!, service: 'test', secrets: [] });
  // In-process workers log expected failures (that is what many tests provoke); keep the test
  // output readable unless TEST_LOG_LEVEL asks for logs. Spawned processes log to their own pipes.
  for (const transport of logger.transports) transport.silent = process.env.TEST_LOG_LEVEL === undefined;
  return loadConfig(env);
}
