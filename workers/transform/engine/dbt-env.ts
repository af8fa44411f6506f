import type { AppConfig } from '../../../core/config/index.js';

/** The vars every run passes to the project (dbt --vars), derived from the pipeline's configuration. */
export function dbtVars(config: AppConfig): Record<string, string | number> {
  return {
    tick_interval_minutes: Math.max(1, Math.round(config.tick.intervalMs / 60_000)),
    vs_currency: config.coingecko.vsCurrency,
    // STALE_AFTER: dim_coin_freshness judges staleness by the threshold the dashboard uses.
    stale_after_seconds: config.freshness.staleAfterSeconds,
  };
}

/**
 * Session settings of every transform connection (libpq's PGOPTIONS, which dbt-postgres' psycopg2
 * reads; the bundled runner passes the same string). JIT off: a run is a series of small incremental
 * queries whose plans are costed against watermarks Postgres cannot see, so their estimates cross
 * jit_above_cost, and compiling them took far longer than running them.
 * work_mem 64MB: the window and group sorts of returns and anomaly scores (a week of hours per coin)
 * spilled to disk at the 4MB default; one transform connection at a time can afford it.
 */
export const TRANSFORM_PGOPTIONS = '-c jit=off -c work_mem=64MB';

/**
 * The environment profiles.yml reads (env_var('DBT_HOST') ...), taken apart from DATABASE_URL so the
 * project needs no second copy of the connection settings, plus PGOPTIONS.
 */
export function dbtEnv(config: AppConfig): Record<string, string> {
  const url = new URL(config.postgres.url);
  const sslmode = url.searchParams.get('sslmode');
  return {
    DBT_HOST: url.hostname || '127.0.0.1',
    DBT_PORT: url.port || '5432',
    DBT_USER: decodeURIComponent(url.username || 'postgres'),
    DBT_PASSWORD: decodeURIComponent(url.password),
    DBT_DATABASE: decodeURIComponent(url.pathname.replace(/^\//, '')),
    DBT_SCHEMA: config.transform.schema,
    PGOPTIONS: TRANSFORM_PGOPTIONS,
    ...(sslmode ? { DBT_SSLMODE: sslmode } : {}),
  };
}
