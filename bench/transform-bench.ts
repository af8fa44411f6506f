import pg from 'pg';
import { loadConfig, type AppConfig } from '../core/config/index.js';
import { rootLogger } from '../core/log/logger.js';
import { BundledRunner } from '../core/transform/bundled/bundled-runner.js';
import { dbtVars } from '../core/transform/dbt-env.js';
import { findProjectDir } from '../core/transform/project-dir.js';
import { finishTransformRun, startTransformRun } from '../core/transform/record-results.js';
import type { Benchmark, BenchContext, Measurement } from './benchmark.js';
import { pipelineEnv } from './pipeline-env.js';
import { BENCH_PG_ADMIN_URL } from './services.js';

const COINS = Number(process.env.BENCH_TRANSFORM_COINS ?? 1000);
/** History of the large case: 3.5 days of 1-minute ticks, ~5M rows at 1000 coins. */
const HISTORY_MINUTES = Number(process.env.BENCH_TRANSFORM_HISTORY_MINUTES ?? 5040);
/** Ticks timed per case; the median counts (one tick is noisy at tens of milliseconds). */
const TIMED_TICKS = 3;
const MINUTE = 60_000;

/**
 * Inserts one snapshot per coin per minute in [from, to] straight into raw (what the load workers
 * would have written), with prices that drift smoothly. `loadedAt` null: loaded 2 s after observed.
 */
async function insertTicks(pool: pg.Pool, from: Date, to: Date, loadedNow: boolean): Promise<number> {
  await pool.query('select raw.ensure_snapshot_partitions($1::date, $2::date)', [from.toISOString().slice(0, 10), to.toISOString().slice(0, 10)]);
  const result = await pool.query(
    `insert into raw.coin_market_snapshots
       (coin_id, vs_currency, last_updated, run_id, batch_no, loaded_at, symbol, name, current_price, market_cap, market_cap_rank,
        total_volume, high_24h, low_24h, price_change_percentage_1h_in_currency, price_change_percentage_24h_in_currency,
        price_change_percentage_7d_in_currency, circulating_supply, record)
     select case c when 1 then 'bitcoin' when 2 then 'ethereum' else 'coin-' || c end, 'usd', t,
            'bench-' || to_char(t at time zone 'UTC', 'YYYYMMDDHH24MI'), 0,
            case when $4 then now() else t + interval '2 seconds' end,
            'c' || c, 'Coin ' || c, p, p * 1e7 * (${COINS + 1} - c), c, p * 1e5, p * 1.02, p * 0.98, 0.1, -1.2, 3.4, 1e7, '{}'
       from generate_series($1::timestamptz, $2::timestamptz, interval '1 minute') as t
      cross join generate_series(1, $3::int) as c
      cross join lateral (select (1000.0 / c) * (1 + 0.05 * sin(extract(epoch from t) / 3600.0 + c) + 0.002 * sin(extract(epoch from t) / 61.0 * c)) as p) as price`,
    [from.toISOString(), to.toISOString(), COINS, loadedNow],
  );
  return result.rowCount ?? 0;
}

async function copyDatabase(from: string, to: string): Promise<void> {
  const client = new pg.Client({ connectionString: BENCH_PG_ADMIN_URL });
  await client.connect();
  try {
    await client.query(`drop database if exists "${to}" with (force)`);
    await client.query(`create database "${to}" template "${from}"`);
  } finally {
    await client.end();
  }
}

interface TimedRun {
  readonly ms: number;
  readonly transformRunId: number;
}

/** One transform run with the bundled runner, recorded like the worker records it. */
async function transform(pool: pg.Pool, config: AppConfig, runId: string): Promise<TimedRun> {
  const runner = new BundledRunner({ projectDir: findProjectDir(), config, vars: dbtVars(config) });
  const transformRunId = await startTransformRun(pool, { runId, jobId: undefined, runner: 'bundled', covers: [] });
  const started = performance.now();
  const summary = await runner.run({ runId, signal: new AbortController().signal, log: rootLogger });
  const ms = performance.now() - started;
  await finishTransformRun(pool, transformRunId, summary, ms);
  if (summary.status !== 'success') throw new Error(`transform ${runId} failed: ${summary.failureReason ?? summary.detail}`);
  return { ms, transformRunId };
}

const median = (values: readonly number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/** Times TIMED_TICKS ticks of COINS new rows each, at `first`, first + 1 min, ...; returns the median run. */
async function timeTicks(ctx: BenchContext, pool: pg.Pool, config: AppConfig, label: string, first: Date): Promise<TimedRun> {
  const runs: TimedRun[] = [];
  for (let i = 0; i < TIMED_TICKS; i++) {
    const at = new Date(first.getTime() + i * MINUTE);
    await insertTicks(pool, at, at, true);
    const run = await transform(pool, config, `${label}-tick-${i}`);
    ctx.log(`${label}: tick of ${COINS} rows transformed in ${Math.round(run.ms)} ms`);
    runs.push(run);
  }
  const ms = median(runs.map((r) => r.ms));
  return runs.find((r) => r.ms === ms)!;
}

async function modelTimes(pool: pg.Pool, transformRunId: number): Promise<{ name: string; ms: number; rows: number | null }[]> {
  const result = await pool.query<{ name: string; ms: number; rows: string | null }>(
    `select name, execution_time_ms as ms, rows_affected as rows from pipeline.transform_node_results
      where transform_run_id = $1 and resource_type = 'model' order by started_at`,
    [transformRunId],
  );
  return result.rows.map((r) => ({ name: r.name, ms: r.ms, rows: r.rows === null ? null : Number(r.rows) }));
}

async function testTime(pool: pg.Pool, transformRunId: number): Promise<number> {
  const result = await pool.query<{ ms: number }>(
    `select coalesce(sum(execution_time_ms), 0)::int as ms from pipeline.transform_node_results where transform_run_id = $1 and resource_type in ('test', 'source')`,
    [transformRunId],
  );
  return result.rows[0]!.ms;
}

/**
 * Transform time of one new tick after a short history (~10k snapshot rows) and after a long one
 * (~5M rows, 3.5 days of 1-minute ticks for 1000 coins). Incremental models must make the work
 * proportional to new data: the ratio stays under 2.
 */
export const transformBenchmark: Benchmark = {
  name: 'transform',
  description: `bundled dbt run for one tick of ${COINS} rows after ${COINS * 10} vs ~${((COINS * HISTORY_MINUTES) / 1e6).toFixed(1)}M snapshot rows of history; per-model times`,
  budgetMs: 600_000,
  async run(ctx) {
    const db = await ctx.database();
    // BENCH_TRANSFORM_KEEP_DB=<name>: after the run, copy the database under that name (for EXPLAIN
    // ANALYZE against a long history); registered before the pool, so it runs after the pool ends.
    const keep = process.env.BENCH_TRANSFORM_KEEP_DB;
    if (keep) ctx.defer(() => copyDatabase(db.name, keep));
    const env = { ...pipelineEnv({ databaseUrl: db.url, prefix: ctx.prefix(), coingeckoUrl: 'http://127.0.0.1:9/api/v3' }), TRANSFORM_RUNNER: 'bundled', LOG_LEVEL: 'error' };
    const config = loadConfig(env);
    const pool = new pg.Pool({ connectionString: db.url, max: 2 });
    ctx.defer(() => pool.end());
    const now = Math.floor(Date.now() / MINUTE) * MINUTE;

    // Short history: 10 ticks ending 4 minutes ago, one warm run, then the timed ticks.
    const shortFrom = new Date(now - (10 + TIMED_TICKS) * MINUTE);
    await insertTicks(pool, shortFrom, new Date(shortFrom.getTime() + 9 * MINUTE), false);
    await pool.query('analyze raw.coin_market_snapshots');
    const warm = await transform(pool, config, 'short-warm');
    ctx.log(`short history: ${COINS * 10} rows, warm run ${Math.round(warm.ms)} ms`);
    const short = await timeTicks(ctx, pool, config, 'short history', new Date(shortFrom.getTime() + 10 * MINUTE));

    // Long history: 3.5 days of ticks before the short one. They are older than the look-back window,
    // so an incremental run would (rightly) not aggregate them: the analytics schemas are dropped and
    // built again from the whole history (the untimed catch-up), as a first deployment would.
    const historyTo = new Date(shortFrom.getTime() - MINUTE);
    const historyFrom = new Date(historyTo.getTime() - (HISTORY_MINUTES - 1) * MINUTE);
    let inserted = 0;
    const started = performance.now();
    for (let from = historyFrom.getTime(); from <= historyTo.getTime(); from += 720 * MINUTE) {
      ctx.signal.throwIfAborted();
      const to = Math.min(from + 719 * MINUTE, historyTo.getTime());
      inserted += await insertTicks(pool, new Date(from), new Date(to), false);
      ctx.log(`long history: ${inserted.toLocaleString('en-US')} rows inserted (${((performance.now() - started) / 1000).toFixed(0)} s)`);
    }
    await pool.query('analyze raw.coin_market_snapshots');
    const total = Number((await pool.query<{ n: string }>('select count(*) as n from raw.coin_market_snapshots')).rows[0]!.n);
    for (const layer of ['staging', 'intermediate', 'marts']) await pool.query(`drop schema if exists "${config.transform.schema}_${layer}" cascade`);
    const catchUp = await transform(pool, config, 'long-catch-up');
    ctx.log(`long history: ${total.toLocaleString('en-US')} rows, catch-up run ${(catchUp.ms / 1000).toFixed(1)} s`);
    for (const table of ['int_coin_prices__hourly', 'fct_coin_candles_hourly', 'fct_coin_returns_hourly', 'fct_price_anomalies']) {
      const schema = table.startsWith('int_') ? 'intermediate' : 'marts';
      await pool.query(`analyze "${config.transform.schema}_${schema}"."${table}"`);
    }
    await transform(pool, config, 'long-warm');
    const long = await timeTicks(ctx, pool, config, 'long history', new Date(now));

    const ratio = long.ms / short.ms;
    ctx.log(`one tick after ${COINS * 10} rows: ${Math.round(short.ms)} ms; after ${total.toLocaleString('en-US')} rows: ${Math.round(long.ms)} ms; ratio ${ratio.toFixed(2)} (must stay under 2)`);
    const shortModels = new Map((await modelTimes(pool, short.transformRunId)).map((m) => [m.name, m.ms]));
    const models = await modelTimes(pool, long.transformRunId);
    for (const m of models) ctx.log(`  ${m.name}: ${m.ms} ms (${m.rows ?? '-'} rows) vs ${shortModels.get(m.name) ?? '-'} ms after the short history`);
    const tests = await testTime(pool, long.transformRunId);
    ctx.log(`  tests and freshness: ${tests} ms vs ${await testTime(pool, short.transformRunId)} ms`);

    const out: Measurement[] = [
      { metric: `one tick after ~${(total / 1e6).toFixed(1)}M rows (median of ${TIMED_TICKS})`, value: long.ms, unit: 'ms', reference: `one tick after ${COINS * 10} rows`, referenceValue: short.ms },
      ...models.map((m): Measurement => ({
        metric: `model ${m.name}, after ~${(total / 1e6).toFixed(1)}M rows`, value: m.ms, unit: 'ms', reference: 'same model after the short history', referenceValue: shortModels.get(m.name) ?? 0,
      })),
      { metric: `tests + freshness, after ~${(total / 1e6).toFixed(1)}M rows`, value: tests, unit: 'ms', reference: 'same after the short history', referenceValue: await testTime(pool, short.transformRunId) },
    ];
    return out;
  },
};
