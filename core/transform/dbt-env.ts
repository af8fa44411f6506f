import type { AppConfig } from '../config/index.js';

/** The vars every run passes to the project (dbt --vars), derived from the pipeline's configuration. */
export function dbtVars(config: AppConfig): Record<string, string | number> {
  return {
    tick_interval_minutes: Math.max(1, Math.round(config.tick.intervalMs / 60_000)),
    vs_currency: config.coingecko.vsCurrency,
  };
}

/**
 * The environment profiles.yml reads (env_var('DBT_HOST') ...), taken apart from DATABASE_URL so the
 * project needs no second copy of the connection settings.
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
    ...(sslmode ? { DBT_SSLMODE: sslmode } : {}),
  };
}
