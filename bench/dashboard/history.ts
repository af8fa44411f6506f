import type pg from 'pg';
import type { AppConfig } from '../../core/config/index.js';
import { insertSyntheticSnapshots, runBundledTransform } from '../synthetic-history.js';

const MINUTE = 60_000;
/** Minutes inserted per statement: ~720k rows at 1000 coins, so progress shows and the abort signal is checked. */
const CHUNK_MINUTES = 720;

/** Inserts `minutes` of history for `coins` coins ending at the current minute; returns the row count. */
export async function insertHistory(
  pool: pg.Pool,
  options: { coins: number; minutes: number; signal: AbortSignal; log: (message: string) => void },
): Promise<number> {
  const end = Math.floor(Date.now() / MINUTE) * MINUTE;
  const start = end - (options.minutes - 1) * MINUTE;
  const started = performance.now();
  let inserted = 0;
  for (let from = start; from <= end; from += CHUNK_MINUTES * MINUTE) {
    options.signal.throwIfAborted();
    inserted += await insertSyntheticSnapshots(pool, {
      coins: options.coins,
      from: new Date(from),
      to: new Date(Math.min(from + (CHUNK_MINUTES - 1) * MINUTE, end)),
    });
    options.log(
      `history: ${inserted.toLocaleString('en-US')} rows inserted (${((performance.now() - started) / 1000).toFixed(0)} s)`,
    );
  }
  await pool.query('analyze raw.coin_market_snapshots');
  return inserted;
}

/** One full build of the marts with the bundled runner, recorded like the transform worker records it. */
export async function buildMarts(
  pool: pg.Pool,
  config: AppConfig,
  runId: string,
  signal: AbortSignal,
): Promise<number> {
  const { ms } = await runBundledTransform(pool, config, runId, signal);
  // Fresh tables: statistics now, as autovacuum would soon after a deployment's first build.
  const marts = `${config.transform.schema}_marts`;
  const tables = await pool.query<{ name: string }>(`select tablename as name from pg_tables where schemaname = $1`, [
    marts,
  ]);
  for (const { name } of tables.rows) await pool.query(`analyze "${marts}"."${name}"`);
  return ms;
}
