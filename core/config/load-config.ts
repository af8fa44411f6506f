import { existsSync, readFileSync } from 'node:fs';
import { parseEnv } from 'node:util';
import { PLANS, type CoinGeckoPlan } from '../coingecko/plans.js';
import { VARIABLES, type VariableName, type VariableValue } from './variables.js';

type Env = Record<string, string | undefined>;

/** The validated, nested, frozen configuration every process works from. */
export interface AppConfig {
  readonly env: 'development' | 'production' | 'test';
  readonly logLevel: 'error' | 'warn' | 'info' | 'debug';
  readonly postgres: { readonly url: string; readonly poolMax: number; readonly statementTimeoutMs: number };
  readonly redis: { readonly url: string; readonly prefix: string };
  readonly coingecko: {
    readonly plan: CoinGeckoPlan;
    readonly baseUrl: string;
    readonly apiKey: string | undefined;
    /** 0 means no limit is configured (the limiter still exists so 429 pauses reach every worker). */
    readonly rateLimitPerMin: number;
    readonly timeoutMs: number;
    readonly maxIdsPerCall: number;
    readonly maxUrlBytes: number;
    readonly rateLimitWaitMs: number;
    readonly vsCurrency: string;
  };
  readonly universe: {
    readonly topN: number;
    readonly coinIds: readonly string[] | undefined;
    readonly refreshIntervalMs: number;
    readonly waitMs: number;
  };
  readonly tick: { readonly intervalMs: number; readonly scheduleEnabled: boolean };
  /** STALE_AFTER: the one staleness threshold of the dashboard and the dbt project, in whole seconds. */
  readonly freshness: { readonly staleAfterSeconds: number };
  readonly fetch: { readonly concurrency: number; readonly attempts: number };
  readonly load: { readonly concurrency: number; readonly attempts: number; readonly payloadTtlMs: number; readonly partitionDaysAhead: number };
  readonly transform: {
    readonly runner: 'none' | 'auto' | 'dbt' | 'bundled';
    readonly attempts: number;
    /** Nodes the bundled runner runs at once. */
    readonly threads: number;
    /** dbt target schema; models go to <schema>_staging, _intermediate, _marts. */
    readonly schema: string;
    /** 0 keeps raw snapshots forever. */
    readonly rawRetentionDays: number;
  };
  readonly retry: { readonly baseDelayMs: number; readonly maxDelayMs: number };
  readonly jobs: {
    readonly lockDurationMs: number;
    readonly stalledIntervalMs: number;
    readonly maxStalledCount: number;
    readonly keepCompletedMs: number;
    readonly keepFailedMs: number;
    readonly shutdownTimeoutMs: number;
  };
  readonly metrics: { readonly enabled: boolean; readonly port: number; readonly host: string };
  readonly dashboard: {
    readonly port: number;
    readonly host: string;
    readonly credentials: { readonly user: string; readonly password: string } | undefined;
  };
}

/** One problem with one variable; the value is omitted for secrets. */
export interface ConfigProblem {
  readonly name: string;
  readonly value: string | undefined;
  readonly expected: string;
}

export class ConfigError extends Error {
  constructor(readonly problems: readonly ConfigProblem[]) {
    super(
      `Invalid configuration (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n` +
        problems
          .map((p) => `  - ${p.name}${p.value === undefined ? '' : `=${JSON.stringify(p.value)}`}: expected ${p.expected}`)
          .join('\n'),
    );
    this.name = 'ConfigError';
  }
}

/**
 * Something a process does that needs settings other processes can leave out. Only the fetch worker
 * sends HTTP requests to CoinGecko (the scheduler's universe refresh goes through the fetch queue),
 * so only it must have an API key on the demo and pro plans.
 */
export type ConfigNeed = 'coingecko-api';
export const CONFIG_NEEDS: readonly ConfigNeed[] = ['coingecko-api'];

export interface LoadConfigOptions {
  /** What this process does beyond Postgres and Redis; each need adds its required variables. Default: none. */
  readonly needs?: readonly ConfigNeed[];
}

/**
 * Parses and validates the whole configuration at once, so a bad deployment is told about every
 * problem in one message instead of one per restart.
 */
export function loadConfig(env: Env, options: LoadConfigOptions = {}): AppConfig {
  const needs = new Set(options.needs ?? []);
  const problems: ConfigProblem[] = [];
  const isGiven = (name: string) => (env[name]?.trim() ?? '') !== '';
  const invalid = new Set<string>();
  const read = <N extends VariableName>(name: N): VariableValue<N> | undefined => {
    const variable = VARIABLES[name];
    const raw = isGiven(name) ? env[name] : (variable as { default?: string }).default;
    if (raw === undefined) return undefined;
    const result = variable.parser.parse(raw);
    if (result.ok) return result.value as VariableValue<N>;
    problems.push({ name, value: 'secret' in variable && variable.secret ? '<redacted>' : raw, expected: variable.parser.expects });
    invalid.add(name);
    return undefined;
  };
  const need = (name: string, expected: string) => problems.push({ name, value: undefined, expected });

  const nodeEnv = read('NODE_ENV') ?? 'development';
  const plan = read('COINGECKO_PLAN') ?? 'public';
  const apiKey = read('COINGECKO_API_KEY');
  const planInfo = PLANS[plan];
  if (needs.has('coingecko-api') && planInfo.keyHeader && apiKey === undefined && !invalid.has('COINGECKO_API_KEY')) need('COINGECKO_API_KEY', `an API key: COINGECKO_PLAN=${plan} requires one`);
  if (!planInfo.keyHeader && apiKey !== undefined) need('COINGECKO_PLAN', 'demo or pro: COINGECKO_API_KEY is set but the public plan sends no key');

  const dashboardUser = read('DASHBOARD_USER');
  const dashboardPassword = read('DASHBOARD_PASSWORD');
  if ((dashboardUser === undefined) !== (dashboardPassword === undefined) && !invalid.has('DASHBOARD_USER') && !invalid.has('DASHBOARD_PASSWORD')) {
    need(dashboardUser === undefined ? 'DASHBOARD_USER' : 'DASHBOARD_PASSWORD', 'to be set together with its partner (DASHBOARD_USER and DASHBOARD_PASSWORD)');
  }
  if (nodeEnv === 'production') {
    for (const name of ['DATABASE_URL', 'REDIS_URL'] as const) {
      if (!isGiven(name)) need(name, 'an explicit value: NODE_ENV=production does not fall back to the development default');
    }
  }

  const retryBase = read('RETRY_BASE_DELAY');
  const retryMax = read('RETRY_MAX_DELAY');
  if (retryBase !== undefined && retryMax !== undefined && retryBase > retryMax) need('RETRY_MAX_DELAY', `at least RETRY_BASE_DELAY (${retryBase}ms)`);

  const config: AppConfig = {
    env: nodeEnv,
    logLevel: read('LOG_LEVEL') ?? 'info',
    postgres: {
      url: read('DATABASE_URL')!,
      poolMax: read('DATABASE_POOL_MAX')!,
      statementTimeoutMs: read('DATABASE_STATEMENT_TIMEOUT')!,
    },
    redis: { url: read('REDIS_URL')!, prefix: read('QUEUE_PREFIX')! },
    coingecko: {
      plan,
      baseUrl: (read('COINGECKO_BASE_URL') ?? planInfo.baseUrl).replace(/\/+$/, ''),
      apiKey,
      rateLimitPerMin: read('COINGECKO_RATE_LIMIT_PER_MIN') ?? planInfo.defaultRateLimitPerMin,
      timeoutMs: read('COINGECKO_TIMEOUT')!,
      maxIdsPerCall: read('COINGECKO_MAX_IDS_PER_CALL')!,
      maxUrlBytes: read('COINGECKO_MAX_URL_BYTES')!,
      rateLimitWaitMs: read('COINGECKO_RATE_LIMIT_WAIT')!,
      vsCurrency: read('VS_CURRENCY')!,
    },
    universe: {
      topN: read('TRACK_TOP_N')!,
      coinIds: read('COIN_IDS'),
      refreshIntervalMs: read('UNIVERSE_REFRESH_INTERVAL')!,
      waitMs: read('UNIVERSE_WAIT')!,
    },
    tick: { intervalMs: read('TICK_INTERVAL')!, scheduleEnabled: read('SCHEDULE_ENABLED')! },
    freshness: { staleAfterSeconds: read('STALE_AFTER')! / 1000 },
    fetch: { concurrency: read('FETCH_CONCURRENCY')!, attempts: read('FETCH_ATTEMPTS')! },
    load: {
      concurrency: read('LOAD_CONCURRENCY')!,
      attempts: read('LOAD_ATTEMPTS')!,
      payloadTtlMs: read('PAYLOAD_TTL')!,
      partitionDaysAhead: read('PARTITION_DAYS_AHEAD')!,
    },
    transform: { runner: read('TRANSFORM_RUNNER')!, attempts: read('TRANSFORM_ATTEMPTS')!, threads: read('TRANSFORM_THREADS')!, schema: read('TRANSFORM_SCHEMA')!, rawRetentionDays: read('TRANSFORM_RAW_RETENTION_DAYS')! },
    retry: { baseDelayMs: retryBase!, maxDelayMs: retryMax! },
    jobs: {
      lockDurationMs: read('JOB_LOCK_DURATION')!,
      stalledIntervalMs: read('JOB_STALLED_INTERVAL')!,
      maxStalledCount: read('JOB_MAX_STALLED')!,
      keepCompletedMs: read('JOB_KEEP_COMPLETED')!,
      keepFailedMs: read('JOB_KEEP_FAILED')!,
      shutdownTimeoutMs: read('SHUTDOWN_TIMEOUT')!,
    },
    metrics: { enabled: read('METRICS_ENABLED')!, port: read('METRICS_PORT')!, host: read('METRICS_HOST')! },
    dashboard: {
      port: read('DASHBOARD_PORT')!,
      host: read('DASHBOARD_HOST')!,
      credentials: dashboardUser && dashboardPassword ? { user: dashboardUser, password: dashboardPassword } : undefined,
    },
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return deepFreeze(config);
}

/**
 * Reads `.env` (or ENV_FILE) under the real environment: variables already set in the environment win,
 * as with `node --env-file`.
 */
export function environmentWithDotenv(env: Env = process.env, cwd = process.cwd()): Env {
  const file = env.ENV_FILE ?? `${cwd}/.env`;
  if (!existsSync(file)) return env;
  return { ...parseEnv(readFileSync(file, 'utf8')), ...env };
}

/** Every secret value in the config, for log redaction. */
export function secretValues(config: AppConfig): string[] {
  const secrets = [config.coingecko.apiKey, config.dashboard.credentials?.password];
  for (const connection of [config.postgres.url, config.redis.url]) {
    const password = new URL(connection).password;
    if (password) secrets.push(password, safeDecode(password));
  }
  return [...new Set(secrets.filter((s): s is string => typeof s === 'string' && s.length >= 4))];
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text; // a literal '%' that is not an escape
  }
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
