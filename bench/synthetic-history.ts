import type pg from 'pg';
import type { AppConfig } from '../core/config/index.js';
import { rootLogger } from '../core/log/logger.js';
import { BundledRunner } from '../workers/transform/engine/bundled/bundled-runner.js';
import { dbtVars } from '../workers/transform/engine/dbt-env.js';
import { findProjectDir } from '../workers/transform/engine/project-dir.js';
import { executeTransformRun } from '../workers/transform/engine/execute-run.js';

/**
 * One snapshot per coin per minute in [from, to] straight into raw (what the load workers would
 * have written), for benchmarks that need millions of rows of history fast. Coin 1 is 'bitcoin',
 * 2 'ethereum', then 'coin-<n>'; ranks follow the coin number and prices drift smoothly. Rows are
 * loaded 2 s after they were observed, or now with `loadedNow` (a fresh tick).
 */
export async function insertSyntheticSnapshots(
  pool: pg.Pool,
  options: { coins: number; from: Date; to: Date; loadedNow?: boolean },
): Promise<number> {
  const { coins, from, to, loadedNow = false } = options;
  await pool.query('select raw.ensure_snapshot_partitions($1::date, $2::date)', [
    from.toISOString().slice(0, 10),
    to.toISOString().slice(0, 10),
  ]);
  const result = await pool.query(
    `insert into raw.coin_market_snapshots
       (coin_id, vs_currency, last_updated, run_id, batch_no, loaded_at, symbol, name, current_price, market_cap, market_cap_rank,
        total_volume, high_24h, low_24h, price_change_percentage_1h_in_currency, price_change_percentage_24h_in_currency,
        price_change_percentage_7d_in_currency, circulating_supply, record)
     select case c when 1 then 'bitcoin' when 2 then 'ethereum' else 'coin-' || c end, 'usd', t,
            'bench-' || to_char(t at time zone 'UTC', 'YYYYMMDDHH24MI'), 0,
            case when $4 then now() else t + interval '2 seconds' end,
            'c' || c, 'Coin ' || c, p, p * 1e7 * ($3::int + 1 - c), c, p * 1e5, p * 1.02, p * 0.98, 0.1, -1.2, 3.4, 1e7, '{}'
       from generate_series($1::timestamptz, $2::timestamptz, interval '1 minute') as t
      cross join generate_series(1, $3::int) as c
      cross join lateral (select (1000.0 / c) * (1 + 0.05 * sin(extract(epoch from t) / 3600.0 + c) + 0.002 * sin(extract(epoch from t) / 61.0 * c)) as p) as price`,
    [from.toISOString(), to.toISOString(), coins, loadedNow],
  );
  return result.rowCount ?? 0;
}

/** One run of the dbt project with the bundled runner, recorded like the transform worker records it. */
export async function runBundledTransform(
  pool: pg.Pool,
  config: AppConfig,
  runId: string,
  signal: AbortSignal = new AbortController().signal,
): Promise<{ ms: number; transformRunId: number }> {
  const runner = new BundledRunner({ projectDir: findProjectDir(), config, vars: dbtVars(config) });
  const { summary, durationMs, transformRunId } = await executeTransformRun(pool, runner, {
    runId,
    signal,
    log: rootLogger,
  });
  if (summary.status !== 'success')
    throw new Error(`transform ${runId} failed: ${summary.failureReason ?? summary.detail}`);
  return { ms: durationMs, transformRunId };
}
