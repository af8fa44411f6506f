import { boolean, duration, integer, list, oneOf, text, url, type Parser } from './parsers.js';

/**
 * Every environment variable the application reads, declared once. `.env.example` and the README's
 * configuration table are generated from this list (`npm run docs:env`), and a test keeps them in step.
 */
export interface Variable<T = unknown> {
  readonly name: string;
  readonly parser: Parser<T>;
  /** Default as it would be written in the environment; undefined means "unset unless given". */
  readonly default?: string;
  /** Secrets are redacted from logs and never echoed back in error messages. */
  readonly secret?: boolean;
  readonly description: string;
}

/**
 * A declaration, typed as written: its parser's value type and whether it has a default survive, so
 * Setting<N> (below) and AppConfig (load-config.ts) are derived from these declarations, not restated.
 * (The Omit keeps the optional fields, such as `secret`, on every declaration's type.)
 */
const v = <const V extends Variable>(variable: V): V & Omit<Variable, 'parser'> => variable;

const COIN_ID = /^[a-z0-9][a-z0-9._-]{0,99}$/;
/**
 * A host name or IPv4 address, or an IPv6 address without brackets (two colons at least, so that
 * host:port is refused): what net.Server#listen takes.
 */
const LISTEN_HOST = /^(?:[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?|[0-9A-Fa-f.]*:[0-9A-Fa-f.]*:[0-9A-Fa-f:.]*)$/;
const listenHost = () =>
  text({ pattern: LISTEN_HOST, describe: 'a host name or IP address to listen on, e.g. 0.0.0.0, 127.0.0.1 or ::' });

export const VARIABLES = {
  NODE_ENV: v({
    name: 'NODE_ENV',
    parser: oneOf(['development', 'production', 'test'] as const),
    default: 'development',
    description: 'Runtime environment. In production no secret may fall back to a default.',
  }),
  LOG_LEVEL: v({
    name: 'LOG_LEVEL',
    parser: oneOf(['error', 'warn', 'info', 'debug'] as const),
    default: 'info',
    description: 'Minimum level of the JSON log lines written to stdout.',
  }),

  DATABASE_URL: v({
    name: 'DATABASE_URL',
    parser: url(['postgres:', 'postgresql:']),
    default: 'postgres://postgres@127.0.0.1:5432/crypto_pipeline',
    secret: true,
    description: 'PostgreSQL connection URL (its password is treated as a secret).',
  }),
  DATABASE_POOL_MAX: v({
    name: 'DATABASE_POOL_MAX',
    parser: integer({ min: 1, max: 100 }),
    default: '4',
    description: 'Connections per process. Budget: pool size x processes < max_connections.',
  }),
  DATABASE_STATEMENT_TIMEOUT: v({
    name: 'DATABASE_STATEMENT_TIMEOUT',
    parser: duration({ minMs: 100 }),
    default: '120s',
    description: 'Server-side statement timeout for pipeline queries.',
  }),

  REDIS_URL: v({
    name: 'REDIS_URL',
    parser: url(['redis:', 'rediss:']),
    default: 'redis://127.0.0.1:6379',
    secret: true,
    description: 'Redis used by BullMQ (its password is treated as a secret). Needs maxmemory-policy noeviction.',
  }),
  QUEUE_PREFIX: v({
    name: 'QUEUE_PREFIX',
    parser: text({
      pattern: /^[A-Za-z0-9_{}-]{1,64}$/,
      describe: 'letters, digits, _ - { } (use {tag} for Redis Cluster)',
    }),
    default: 'cdp',
    description: 'BullMQ key prefix; every process of one pipeline must share it.',
  }),

  COINGECKO_PLAN: v({
    name: 'COINGECKO_PLAN',
    parser: oneOf(['public', 'demo', 'pro'] as const),
    default: 'public',
    description: 'CoinGecko access plan: decides the default base URL, key header and rate limit.',
  }),
  COINGECKO_API_KEY: v({
    name: 'COINGECKO_API_KEY',
    parser: text({ pattern: /^[A-Za-z0-9_-]{8,128}$/, describe: 'an API key (8-128 letters, digits, _ or -)' }),
    secret: true,
    description:
      'API key for the demo or pro plan (sent as a header, never in the URL). Required there by fetch workers only: no other process calls CoinGecko.',
  }),
  COINGECKO_BASE_URL: v({
    name: 'COINGECKO_BASE_URL',
    parser: url(['http:', 'https:']),
    description: "Override the plan's base URL, e.g. the simulator at http://127.0.0.1:8484/api/v3.",
  }),
  COINGECKO_RATE_LIMIT_PER_MIN: v({
    name: 'COINGECKO_RATE_LIMIT_PER_MIN',
    parser: integer({ min: 0, max: 100_000 }),
    description:
      'Calls per minute shared by all fetch workers (0 = unlimited). Default by plan: public 5, demo 30, pro 500.',
  }),
  COINGECKO_TIMEOUT: v({
    name: 'COINGECKO_TIMEOUT',
    parser: duration({ minMs: 100, maxMs: 600_000 }),
    default: '20s',
    description: 'Per-request timeout; a timeout is retried with backoff.',
  }),
  COINGECKO_MAX_IDS_PER_CALL: v({
    name: 'COINGECKO_MAX_IDS_PER_CALL',
    parser: integer({ min: 1, max: 250 }),
    default: '250',
    description: 'Coin ids per /coins/markets call (CoinGecko pages at 250).',
  }),
  COINGECKO_MAX_URL_BYTES: v({
    name: 'COINGECKO_MAX_URL_BYTES',
    parser: integer({ min: 512, max: 65_536 }),
    default: '4000',
    description: 'Id batches are also cut so that the request URL stays under this size (long ids lists hit HTTP 414).',
  }),
  COINGECKO_RATE_LIMIT_WAIT: v({
    name: 'COINGECKO_RATE_LIMIT_WAIT',
    parser: duration({ minMs: 100 }),
    default: '60s',
    description: 'Pause after a 429 that carries neither Retry-After nor x-ratelimit-reset.',
  }),
  VS_CURRENCY: v({
    name: 'VS_CURRENCY',
    parser: text({ pattern: /^[a-z]{2,10}$/, describe: 'a lowercase currency code such as usd' }),
    default: 'usd',
    description: 'Quote currency of every snapshot. Fixed for the life of a database.',
  }),

  TICK_INTERVAL: v({
    name: 'TICK_INTERVAL',
    parser: duration({ minMs: 1000 }),
    default: '60s',
    description: 'How often a tick fetches the tracked coins.',
  }),
  SCHEDULE_ENABLED: v({
    name: 'SCHEDULE_ENABLED',
    parser: boolean(),
    default: 'true',
    description:
      'Scheduler processes create the tick and universe job schedulers (false: only plan ticks added by hand, e.g. ONCE=1 runs and backfills).',
  }),
  TRACK_TOP_N: v({
    name: 'TRACK_TOP_N',
    parser: integer({ min: 1, max: 100_000 }),
    default: '1000',
    description: 'Track the top N coins by market cap (ignored when COIN_IDS is set).',
  }),
  COIN_IDS: v({
    name: 'COIN_IDS',
    parser: list({ pattern: COIN_ID, describe: 'CoinGecko coin ids', maxItems: 100_000 }),
    description: 'Explicit coin ids to track instead of the top N, e.g. bitcoin,ethereum.',
  }),
  UNIVERSE_REFRESH_INTERVAL: v({
    name: 'UNIVERSE_REFRESH_INTERVAL',
    parser: duration({ minMs: 10_000 }),
    default: '1h',
    description: 'How often the coin list and market-cap ranking are refreshed into raw.coins.',
  }),
  UNIVERSE_WAIT: v({
    name: 'UNIVERSE_WAIT',
    parser: duration({ minMs: 0 }),
    default: '5m',
    description: 'How long a tick waits for the first universe refresh before failing.',
  }),
  STALE_AFTER: v({
    name: 'STALE_AFTER',
    parser: duration({ minMs: 60_000, wholeSeconds: true }),
    default: '15m',
    description:
      "A tracked coin is stale when none of its snapshots loaded within this long. One setting for every freshness check: the dashboard's pipeline page and cdp_freshness_* gauges (Grafana's freshness alert compares with its cdp_freshness_stale_after_seconds), and dbt's dim_coin_freshness (var stale_after_seconds, passed by the transform worker). Give the dashboard and the transform worker the same value.",
  }),

  BACKFILL_DAYS: v({
    name: 'BACKFILL_DAYS',
    parser: integer({ min: 0, max: 100_000 }),
    default: '30',
    description:
      "Days of history the pipeline backfills once, on its first tick, for the coins it tracks (CoinGecko's market_chart/range, one call per coin per 90 days, behind every tick's calls); 0 = none. Clamped to the plan's reach (365 days on public and demo). `npm run backfill` fetches more at any time.",
  }),

  GAP_THRESHOLD: v({
    name: 'GAP_THRESHOLD',
    parser: duration({ minMs: 1000 }),
    description:
      "A coverage gap is a stretch this long with no tick that loaded; the scheduler records each one and repairs it from CoinGecko's market_chart/range. Default 2.5 x TICK_INTERVAL.",
  }),
  GAP_REPAIR_LOOKBACK: v({
    name: 'GAP_REPAIR_LOOKBACK',
    parser: duration({ minMs: 60_000 }),
    default: '24h',
    description:
      'How far back the scheduler looks for coverage gaps (never past TRANSFORM_RAW_RETENTION_DAYS, when set). Gaps older than this are left alone.',
  }),
  GAP_REPAIR_MAX_COINS: v({
    name: 'GAP_REPAIR_MAX_COINS',
    parser: integer({ min: 0, max: 100_000 }),
    default: '250',
    description:
      "Coins a gap repair fetches, the highest-ranked of those the tick after the gap tracked: one market_chart/range call each (a gap longer than 90 days costs one more per 90 days), behind every tick's calls. 0 = record gaps without repairing them.",
  }),

  FETCH_CONCURRENCY: v({
    name: 'FETCH_CONCURRENCY',
    parser: integer({ min: 1, max: 256 }),
    default: '4',
    description: 'Concurrent HTTP calls per fetch worker process.',
  }),
  FETCH_ATTEMPTS: v({
    name: 'FETCH_ATTEMPTS',
    parser: integer({ min: 1, max: 50 }),
    default: '6',
    description: 'Attempts per fetch job (429 waits do not use attempts up).',
  }),
  LOAD_CONCURRENCY: v({
    name: 'LOAD_CONCURRENCY',
    parser: integer({ min: 1, max: 64 }),
    default: '2',
    description: 'Concurrent COPY loads per load worker process.',
  }),
  LOAD_ATTEMPTS: v({
    name: 'LOAD_ATTEMPTS',
    parser: integer({ min: 1, max: 50 }),
    default: '8',
    description: 'Attempts per load job (database outages are retried with backoff).',
  }),
  RETRY_BASE_DELAY: v({
    name: 'RETRY_BASE_DELAY',
    parser: duration({ minMs: 1 }),
    default: '1s',
    description:
      'First retry delay; doubles per attempt, with equal jitter (each delay is drawn between half of it and all of it).',
  }),
  RETRY_MAX_DELAY: v({
    name: 'RETRY_MAX_DELAY',
    parser: duration({ minMs: 1 }),
    default: '2m',
    description: 'Upper bound of one retry delay.',
  }),
  PAYLOAD_TTL: v({
    name: 'PAYLOAD_TTL',
    parser: duration({ minMs: 10_000 }),
    default: '6h',
    description: 'How long a fetched response waits in Redis for its load job before it expires.',
  }),
  PARTITION_DAYS_AHEAD: v({
    name: 'PARTITION_DAYS_AHEAD',
    parser: integer({ min: 1, max: 60 }),
    default: '3',
    description: 'Daily partitions of the raw table created ahead of time.',
  }),

  TRANSFORM_RUNNER: v({
    name: 'TRANSFORM_RUNNER',
    parser: oneOf(['none', 'auto', 'dbt', 'bundled'] as const),
    default: 'auto',
    description:
      'How transform jobs run the dbt project: dbt (spawn dbt-core), bundled (the Node runner), auto (dbt when on PATH, else bundled), none (fail with a clear reason).',
  }),
  TRANSFORM_THREADS: v({
    name: 'TRANSFORM_THREADS',
    parser: integer({ min: 1, max: 16 }),
    default: '2',
    description:
      "Models and tests the bundled runner builds at once, each on its own connection (views and table rebuilds always run alone). dbt-core uses the profile's threads (1).",
  }),
  TRANSFORM_ATTEMPTS: v({
    name: 'TRANSFORM_ATTEMPTS',
    parser: integer({ min: 1, max: 20 }),
    default: '3',
    description: 'Attempts per transform job.',
  }),
  TRANSFORM_SCHEMA: v({
    name: 'TRANSFORM_SCHEMA',
    parser: text({ pattern: /^[a-z_][a-z0-9_]{0,40}$/, describe: 'a lowercase Postgres schema name' }),
    default: 'analytics',
    description: 'dbt target schema; models land in <schema>_staging, <schema>_intermediate and <schema>_marts.',
  }),
  TRANSFORM_RAW_RETENTION_DAYS: v({
    name: 'TRANSFORM_RAW_RETENTION_DAYS',
    parser: integer({ min: 0, max: 36_500 }),
    default: '30',
    description:
      'After a successful transform, drop daily raw snapshot partitions older than this many days once their candles exist (0 = keep raw forever). Load workers record a snapshot observed before this window (an inactive coin CoinGecko still lists) once in pipeline.stale_observations instead of loading it: give load and transform workers the same value.',
  }),
  TRANSFORM_RAW_RETENTION_LOCK_TIMEOUT: v({
    name: 'TRANSFORM_RAW_RETENTION_LOCK_TIMEOUT',
    parser: duration({ minMs: 10, maxMs: 60_000 }),
    default: '1s',
    description:
      'How long dropping an aged raw partition waits for the raw table while a load or a long read uses it. Loads arriving meanwhile queue behind the drop for at most this long; then the drop gives up and the next transform tries again.',
  }),

  JOB_LOCK_DURATION: v({
    name: 'JOB_LOCK_DURATION',
    parser: duration({ minMs: 1000 }),
    default: '10s',
    description:
      "Job lock, extended while the job runs (BullMQ does so every quarter of it): a SIGKILLed worker's job runs again within this plus JOB_STALLED_INTERVAL (13 s by default). A handler must not block the event loop for half of it, or a live job can lose its lock.",
  }),
  JOB_STALLED_INTERVAL: v({
    name: 'JOB_STALLED_INTERVAL',
    parser: duration({ minMs: 500 }),
    default: '3s',
    description: 'How often workers look for jobs whose worker died (one Redis script call per worker and interval).',
  }),
  JOB_MAX_STALLED: v({
    name: 'JOB_MAX_STALLED',
    parser: integer({ min: 1, max: 20 }),
    default: '3',
    description: 'Crashes a job survives before it is failed.',
  }),
  JOB_KEEP_COMPLETED: v({
    name: 'JOB_KEEP_COMPLETED',
    parser: duration({ minMs: 0 }),
    default: '24h',
    description: 'Completed jobs stay visible in Bull Board this long (at most 5000 per queue).',
  }),
  JOB_KEEP_FAILED: v({
    name: 'JOB_KEEP_FAILED',
    parser: duration({ minMs: 0 }),
    default: '7d',
    description: 'Failed jobs stay (with their reason) this long.',
  }),
  SHUTDOWN_TIMEOUT: v({
    name: 'SHUTDOWN_TIMEOUT',
    parser: duration({ minMs: 100 }),
    default: '25s',
    description: 'On SIGTERM, active jobs get this long to finish before they are handed back.',
  }),

  METRICS_PORT: v({
    name: 'METRICS_PORT',
    parser: integer({ min: 0, max: 65_535 }),
    default: '9464',
    description: "Port of this process's /metrics endpoint (0 = pick a free port).",
  }),
  METRICS_HOST: v({
    name: 'METRICS_HOST',
    parser: listenHost(),
    default: '0.0.0.0',
    description: 'Interface the /metrics endpoint listens on.',
  }),
  METRICS_ENABLED: v({
    name: 'METRICS_ENABLED',
    parser: boolean(),
    default: 'true',
    description: 'Serve /metrics from worker and scheduler processes.',
  }),

  DASHBOARD_PORT: v({
    name: 'DASHBOARD_PORT',
    parser: integer({ min: 0, max: 65_535 }),
    default: '3000',
    description: 'HTTP port of the dashboard (pages, /api/v1, /queues, /metrics).',
  }),
  DASHBOARD_HOST: v({
    name: 'DASHBOARD_HOST',
    parser: listenHost(),
    default: '0.0.0.0',
    description: 'Interface the dashboard listens on.',
  }),
  DASHBOARD_USER: v({
    name: 'DASHBOARD_USER',
    parser: text({ pattern: /^[^:\s]{1,64}$/, describe: '1-64 characters without spaces or colons' }),
    description: 'Admin user for Bull Board and state-changing actions (unset = read-only).',
  }),
  DASHBOARD_PASSWORD: v({
    name: 'DASHBOARD_PASSWORD',
    parser: text({ minLength: 12, describe: 'at least 12 characters' }),
    secret: true,
    description: 'Admin password (required together with DASHBOARD_USER).',
  }),
} as const satisfies Record<string, Variable>;

export type VariableName = keyof typeof VARIABLES;
/** What the variable's parser yields. */
export type VariableValue<N extends VariableName> = (typeof VARIABLES)[N]['parser'] extends Parser<infer T> ? T : never;
/** The variable as the configuration reads it: its value, or undefined only if it has no default. */
export type Setting<N extends VariableName> = (typeof VARIABLES)[N] extends { readonly default: string }
  ? VariableValue<N>
  : VariableValue<N> | undefined;
