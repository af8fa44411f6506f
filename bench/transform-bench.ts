import pg from 'pg';
import { loadConfig, type AppConfig } from '../core/config/index.js';
import type { Benchmark, BenchContext, Measurement } from './benchmark.js';
import { pipelineEnv } from './pipeline-env.js';
import { BENCH_PG_ADMIN_URL } from './services.js';
import { median } from './stats.js';
import { insertSyntheticSnapshots, runBundledTransform } from './synthetic-history.js';

const COINS = Number(process.env.BENCH_TRANSFORM_COINS ?? 1000);
/** History of the large case: 3.5 days of 1-minute ticks, ~5M rows at 1000 coins. */
const HISTORY_MINUTES = Number(process.env.BENCH_TRANSFORM_HISTORY_MINUTES ?? 5040);
/** Ticks timed per case; the median counts (one tick is noisy at tens of milliseconds). */
const TIMED_TICKS = 3;
const MINUTE = 60_000;

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

/** Times TIMED_TICKS ticks of COINS new rows each, at `first`, first + 1 min, ...; returns the median run. */
async function timeTicks(ctx: BenchContext, pool: pg.Pool, config: AppConfig, label: string, first: Date): Promise<TimedRun> {
  const runs: TimedRun[] = [];
  for (let i = 0; i < TIMED_TICKS; i++) {
    const at = new Date(first.getTime() + i * MINUTE);
    await insertSyntheticSnapshots(pool, { coins: COINS, from: at, to: at, loadedNow: true });
    const run = await runBundledTransform(pool, config, `${label}-tick-${i}`);
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
    await insertSyntheticSnapshots(pool, { coins: COINS, from: shortFrom, to: new Date(shortFrom.getTime() + 9 * MINUTE), loadedNow: false });
    await pool.query('analyze raw.coin_market_snapshots');
    const warm = await runBundledTransform(pool, config, 'short-warm');
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
      inserted += await insertSyntheticSnapshots(pool, { coins: COINS, from: new Date(from), to: new Date(to), loadedNow: false });
      ctx.log(`long history: ${inserted.toLocaleString('en-US')} rows inserted (${((performance.now() - started) / 1000).toFixed(0)} s)`);
    }
    await pool.query('analyze raw.coin_market_snapshots');
    const total = Number((await pool.query<{ n: string }>('select count(*) as n from raw.coin_market_snapshots')).rows[0]!.n);
    for (const layer of ['staging', 'intermediate', 'marts']) await pool.query(`drop schema if exists "${config.transform.schema}_${layer}" cascade`);
    const catchUp = await runBundledTransform(pool, config, 'long-catch-up');
    ctx.log(`long history: ${total.toLocaleString('en-US')} rows, catch-up run ${(catchUp.ms / 1000).toFixed(1)} s`);
    for (const table of ['int_coin_prices__hourly', 'fct_coin_candles_hourly', 'fct_coin_returns_hourly', 'fct_price_anomalies']) {
      const schema = table.startsWith('int_') ? 'intermediate' : 'marts';
      await pool.query(`analyze "${config.transform.schema}_${schema}"."${table}"`);
    }
    await runBundledTransform(pool, config, 'long-warm');
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
