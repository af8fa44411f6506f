import pg from 'pg';
import type { AppConfig } from '../config/index.js';

// timestamptz and bigint come back as strings/Dates by default; counts fit in a JS number.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));

/**
 * The pg pool the pipeline's hot paths use (COPY, ledger updates). TypeORM keeps its own small pool
 * for migrations and entity reads.
 */
export function createPool(config: AppConfig, applicationName: string): pg.Pool {
  const pool = new pg.Pool({
    connectionString: config.postgres.url,
    max: config.postgres.poolMax,
    application_name: applicationName,
    statement_timeout: config.postgres.statementTimeoutMs,
    connectionTimeoutMillis: 10_000,
    idleTimeoutMillis: 30_000,
    // Every statement on this pool is a short read or write (ledger, loads, the dashboard's queries).
    // One whose estimate crosses jit_above_cost (a misestimate, e.g. while autovacuum lags behind a
    // ledger's updates) was JIT-compiled on each run: 140 ms of compilation for a 1 ms freshness
    // query at 15,000 coins, on every /metrics scrape (docs/benchmarks.md). The transform's own
    // connections turn JIT off for the same reason (TRANSFORM_PGOPTIONS).
    options: '-c jit=off',
  });
  // An idle client losing its connection (Postgres restart) must not crash the process; the next
  // checkout reconnects.
  pool.on('error', () => undefined);
  return pool;
}

export async function inTransaction<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken = false;
  // A backend killed mid-transaction (pg_terminate_backend, restart) also emits 'error' on the
  // client; the failing query already rejects, so note it and discard the client instead of crashing.
  const onError = () => {
    broken = true;
  };
  client.on('error', onError);
  try {
    await client.query('begin');
    const result = await work(client);
    await client.query('commit');
    return result;
  } catch (error) {
    await client.query('rollback').catch(() => {
      broken = true;
    });
    throw error;
  } finally {
    client.off('error', onError);
    client.release(broken);
  }
}
