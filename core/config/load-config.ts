import { existsSync, readFileSync } from 'node:fs';
import { parseEnv } from 'node:util';
import { PLANS } from '../coingecko/plans.js';
import { VARIABLES, type Setting, type Variable, type VariableName } from './variables.js';

type Env = Record<string, string | undefined>;

/**
 * The validated, nested, frozen configuration every process works from. Its type is what
 * assembleConfig (below) builds from the settings, whose types come from variables.ts: a variable
 * with a default is never undefined here, and nothing is restated by hand.
 */
export type AppConfig = DeepReadonly<ReturnType<typeof assembleConfig>>;

/** Readonly all the way down, as deepFreeze makes the configuration at run time. */
type DeepReadonly<T> = T extends readonly (infer U)[]
  ? readonly DeepReadonly<U>[]
  : T extends object
    ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
    : T;

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
          .map(
            (p) => `  - ${p.name}${p.value === undefined ? '' : `=${JSON.stringify(p.value)}`}: expected ${p.expected}`,
          )
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
  const { read, problems, invalid } = settingsReader(env);
  const need = (name: string, expected: string) => problems.push({ name, value: undefined, expected });

  // The message lists problems in the order they are found: the variables these checks read and
  // what the checks require, then the rest as assembleConfig reads them.
  const nodeEnv = read('NODE_ENV');
  const plan = read('COINGECKO_PLAN');
  const apiKey = read('COINGECKO_API_KEY');
  const planInfo = PLANS[plan];
  if (needs.has('coingecko-api') && planInfo.keyHeader && apiKey === undefined && !invalid.has('COINGECKO_API_KEY'))
    need('COINGECKO_API_KEY', `an API key: COINGECKO_PLAN=${plan} requires one`);
  if (!planInfo.keyHeader && apiKey !== undefined)
    need('COINGECKO_PLAN', 'demo or pro: COINGECKO_API_KEY is set but the public plan sends no key');

  const dashboardUser = read('DASHBOARD_USER');
  const dashboardPassword = read('DASHBOARD_PASSWORD');
  if (
    (dashboardUser === undefined) !== (dashboardPassword === undefined) &&
    !invalid.has('DASHBOARD_USER') &&
    !invalid.has('DASHBOARD_PASSWORD')
  ) {
    need(
      dashboardUser === undefined ? 'DASHBOARD_USER' : 'DASHBOARD_PASSWORD',
      'to be set together with its partner (DASHBOARD_USER and DASHBOARD_PASSWORD)',
    );
  }
  if (nodeEnv === 'production') {
    for (const name of ['DATABASE_URL', 'REDIS_URL'] as const) {
      if (!isGiven(env, name))
        need(name, 'an explicit value: NODE_ENV=production does not fall back to the development default');
    }
  }

  const retryBase = read('RETRY_BASE_DELAY');
  const retryMax = read('RETRY_MAX_DELAY');
  // Compared only when both are valid: a refused one reads as its default, which nobody chose.
  if (!invalid.has('RETRY_BASE_DELAY') && !invalid.has('RETRY_MAX_DELAY') && retryBase > retryMax)
    need('RETRY_MAX_DELAY', `at least RETRY_BASE_DELAY (${retryBase}ms)`);

  const config = assembleConfig(read);
  if (problems.length > 0) throw new ConfigError(problems);
  return deepFreeze(config);
}

const isGiven = (env: Env, name: string) => (env[name]?.trim() ?? '') !== '';

/** Reads one variable: typed by its declaration, so a variable with a default is never undefined. */
type Read = <N extends VariableName>(name: N) => Setting<N>;

/**
 * Reads each variable once (a second read returns the first one's value and records nothing again)
 * and records the problem of each one refused. A refused variable reads as its default, if it has
 * one: its problem is recorded, so no configuration built from it is ever returned.
 */
function settingsReader(env: Env): { read: Read; problems: ConfigProblem[]; invalid: ReadonlySet<VariableName> } {
  const problems: ConfigProblem[] = [];
  const invalid = new Set<VariableName>();
  const values = new Map<VariableName, unknown>();
  const parse = (name: VariableName): unknown => {
    const variable: Variable = VARIABLES[name];
    for (const raw of [isGiven(env, name) ? env[name] : undefined, variable.default]) {
      if (raw === undefined) continue;
      const result = variable.parser.parse(raw);
      if (result.ok) return result.value;
      if (!invalid.has(name))
        problems.push({ name, value: variable.secret ? '<redacted>' : raw, expected: variable.parser.expects });
      invalid.add(name);
    }
    return undefined;
  };
  // The cast is what Setting<N> states: the parser's value (or the default's), undefined only without a default.
  const read: Read = <N extends VariableName>(name: N) => {
    if (!values.has(name)) values.set(name, parse(name));
    return values.get(name) as Setting<N>;
  };
  return { read, problems, invalid };
}

/** The nested configuration, read variable by variable; AppConfig is its type. */
function assembleConfig(read: Read) {
  const planInfo = PLANS[read('COINGECKO_PLAN')];
  const [user, password] = [read('DASHBOARD_USER'), read('DASHBOARD_PASSWORD')];
  return {
    env: read('NODE_ENV'),
    logLevel: read('LOG_LEVEL'),
    postgres: {
      url: read('DATABASE_URL'),
      poolMax: read('DATABASE_POOL_MAX'),
      statementTimeoutMs: read('DATABASE_STATEMENT_TIMEOUT'),
    },
    redis: { url: read('REDIS_URL'), prefix: read('QUEUE_PREFIX') },
    coingecko: {
      plan: read('COINGECKO_PLAN'),
      baseUrl: (read('COINGECKO_BASE_URL') ?? planInfo.baseUrl).replace(/\/+$/, ''),
      apiKey: read('COINGECKO_API_KEY'),
      /** 0 means no limit is configured (the limiter still exists so 429 pauses reach every worker). */
      rateLimitPerMin: read('COINGECKO_RATE_LIMIT_PER_MIN') ?? planInfo.defaultRateLimitPerMin,
      timeoutMs: read('COINGECKO_TIMEOUT'),
      maxIdsPerCall: read('COINGECKO_MAX_IDS_PER_CALL'),
      maxUrlBytes: read('COINGECKO_MAX_URL_BYTES'),
      rateLimitWaitMs: read('COINGECKO_RATE_LIMIT_WAIT'),
      vsCurrency: read('VS_CURRENCY'),
    },
    universe: {
      topN: read('TRACK_TOP_N'),
      coinIds: read('COIN_IDS'),
      refreshIntervalMs: read('UNIVERSE_REFRESH_INTERVAL'),
      waitMs: read('UNIVERSE_WAIT'),
    },
    tick: { intervalMs: read('TICK_INTERVAL'), scheduleEnabled: read('SCHEDULE_ENABLED') },
    history: {
      backfillDays: read('BACKFILL_DAYS'),
      /** GAP_THRESHOLD, by default 2.5 ticks: one late tick is not a gap, three missing ones are. */
      gapThresholdMs: read('GAP_THRESHOLD') ?? Math.round(2.5 * read('TICK_INTERVAL')),
      gapLookbackMs: read('GAP_REPAIR_LOOKBACK'),
      gapRepairMaxCoins: read('GAP_REPAIR_MAX_COINS'),
    },
    /** STALE_AFTER: the one staleness threshold of the dashboard and the dbt project, in whole seconds. */
    freshness: { staleAfterSeconds: read('STALE_AFTER') / 1000 },
    fetch: { concurrency: read('FETCH_CONCURRENCY'), attempts: read('FETCH_ATTEMPTS') },
    load: {
      concurrency: read('LOAD_CONCURRENCY'),
      attempts: read('LOAD_ATTEMPTS'),
      payloadTtlMs: read('PAYLOAD_TTL'),
      partitionDaysAhead: read('PARTITION_DAYS_AHEAD'),
    },
    transform: {
      runner: read('TRANSFORM_RUNNER'),
      attempts: read('TRANSFORM_ATTEMPTS'),
      /** Nodes the bundled runner runs at once. */
      threads: read('TRANSFORM_THREADS'),
      /** dbt target schema; models go to <schema>_staging, _intermediate, _marts. */
      schema: read('TRANSFORM_SCHEMA'),
      /** 0 keeps raw snapshots forever. */
      rawRetentionDays: read('TRANSFORM_RAW_RETENTION_DAYS'),
      /** How long a retention drop waits for the raw table's lock before it leaves the partition for the next run. */
      rawRetentionLockTimeoutMs: read('TRANSFORM_RAW_RETENTION_LOCK_TIMEOUT'),
    },
    retry: { baseDelayMs: read('RETRY_BASE_DELAY'), maxDelayMs: read('RETRY_MAX_DELAY') },
    jobs: {
      lockDurationMs: read('JOB_LOCK_DURATION'),
      stalledIntervalMs: read('JOB_STALLED_INTERVAL'),
      maxStalledCount: read('JOB_MAX_STALLED'),
      keepCompletedMs: read('JOB_KEEP_COMPLETED'),
      keepFailedMs: read('JOB_KEEP_FAILED'),
      shutdownTimeoutMs: read('SHUTDOWN_TIMEOUT'),
    },
    metrics: { enabled: read('METRICS_ENABLED'), port: read('METRICS_PORT'), host: read('METRICS_HOST') },
    dashboard: {
      port: read('DASHBOARD_PORT'),
      host: read('DASHBOARD_HOST'),
      credentials: user && password ? { user, password } : undefined,
    },
  };
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

function deepFreeze<T>(value: T): DeepReadonly<T> {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value as DeepReadonly<T>;
}
