import pg from 'pg';
import { loadConfig, type AppConfig } from '../core/config/index.js';
import type { Benchmark, BenchContext, Measurement } from './benchmark.js';
import { pipelineEnv } from './pipeline-env.js';
import { BENCH_PG_ADMIN_URL } from './services.js';
import { loadAverage, median } from './stats.js';
import { insertSyntheticSnapshots, runBundledTransform } from './synthetic-history.js';

const COINS = Number(process.env.BENCH_TRANSFORM_COINS ?? 1000);
/** History of the large case: 3.5 days of 1-minute ticks, ~5M rows at 1000 coins. */
const HISTORY_MINUTES = Number(process.env.BENCH_TRANSFORM_HISTORY_MINUTES ?? 5040);
/** History of the small case: 10 ticks, ~10k rows. */
const SHORT_MINUTES = 10;
/**
 * Rounds timed; each round times one tick on each database, alternating which goes first. The machine
 * is shared, so the two sizes are measured interleaved (a burst of load hits both) and the medians count.
 */
const ROUNDS = Number(process.env.BENCH_TRANSFORM_ROUNDS ?? 7);
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/**
 * Where both histories end and the timed ticks start: now, or with BENCH_TRANSFORM_MINUTE=<0-59> the
 * latest past instant at that minute of an hour. The rebuilt hour holds as many snapshots per coin as
 * the minute it is at (up to its history), so e.g. 50 times the late-hour case whatever the clock says.
 */
export function ticksStart(variable = 'BENCH_TRANSFORM_MINUTE', fallback?: string): number {
  const now = Math.floor(Date.now() / MINUTE) * MINUTE;
  const setting = process.env[variable] || fallback;
  if (setting === undefined || setting === '') return now;
  const minute = Number(setting);
  if (!Number.isInteger(minute) || minute < 0 || minute > 59)
    throw new Error(`${variable} must be a minute 0-59, got '${setting}'`);
  const at = Math.floor(now / HOUR) * HOUR + minute * MINUTE;
  return at <= now ? at : at - HOUR;
}

export async function copyDatabase(from: string, to: string): Promise<void> {
  const client = new pg.Client({ connectionString: BENCH_PG_ADMIN_URL });
  await client.connect();
  try {
    await client.query(`drop database if exists "${to}" with (force)`);
    await client.query(`create database "${to}" template "${from}"`);
  } finally {
    await client.end();
  }
}

interface History {
  readonly label: string;
  readonly pool: pg.Pool;
  readonly config: AppConfig;
  rows: number;
  readonly ticks: { ms: number; models: Map<string, number>; tests: number }[];
}

export async function modelTimes(pool: pg.Pool, transformRunId: number): Promise<Map<string, number>> {
  const result = await pool.query<{ name: string; ms: number }>(
    `select name, execution_time_ms as ms from pipeline.transform_node_results
      where transform_run_id = $1 and resource_type = 'model' order by started_at`,
    [transformRunId],
  );
  return new Map(result.rows.map((r) => [r.name, r.ms]));
}

export async function testTime(pool: pg.Pool, transformRunId: number): Promise<number> {
  const result = await pool.query<{ ms: number }>(
    `select coalesce(sum(execution_time_ms), 0)::int as ms from pipeline.transform_node_results where transform_run_id = $1 and resource_type in ('test', 'source')`,
    [transformRunId],
  );
  return result.rows[0]!.ms;
}

/** Inserts `minutes` ticks ending one minute before `end`, builds the analytics schemas from them (untimed). */
async function prepare(ctx: BenchContext, label: string, minutes: number, end: number): Promise<History> {
  const db = await ctx.database();
  // BENCH_TRANSFORM_KEEP_DB=<name>: after the run, copy the long-history database under that name (for
  // EXPLAIN ANALYZE); registered before the pool, so it runs after the pool ends.
  const keep = process.env.BENCH_TRANSFORM_KEEP_DB;
  if (keep && minutes === HISTORY_MINUTES) ctx.defer(() => copyDatabase(db.name, keep));
  const env = {
    ...pipelineEnv({ databaseUrl: db.url, prefix: ctx.prefix(), coingeckoUrl: 'http://127.0.0.1:9/api/v3' }),
    TRANSFORM_RUNNER: 'bundled',
    LOG_LEVEL: 'error',
  };
  const config = loadConfig(env);
  const pool = new pg.Pool({ connectionString: db.url, max: 2 });
  ctx.defer(() => pool.end());
  const from = end - minutes * MINUTE;
  const started = performance.now();
  let rows = 0;
  for (let chunk = from; chunk < end; chunk += 720 * MINUTE) {
    ctx.signal.throwIfAborted();
    const to = Math.min(chunk + 719 * MINUTE, end - MINUTE);
    rows += await insertSyntheticSnapshots(pool, {
      coins: COINS,
      from: new Date(chunk),
      to: new Date(to),
      loadedNow: false,
    });
    if (minutes > 720)
      ctx.log(
        `${label}: ${rows.toLocaleString('en-US')} rows inserted (${((performance.now() - started) / 1000).toFixed(0)} s)`,
      );
  }
  await pool.query('analyze raw.coin_market_snapshots');
  // The first run builds every model from the whole history, as a first deployment would.
  const catchUp = await runBundledTransform(pool, config, `${label}-catch-up`);
  for (const table of [
    'int_coin_prices__hourly',
    'fct_coin_candles_hourly',
    'fct_coin_returns_hourly',
    'fct_price_anomalies',
  ]) {
    const schema = table.startsWith('int_') ? 'intermediate' : 'marts';
    await pool.query(`analyze "${config.transform.schema}_${schema}"."${table}"`);
  }
  const warm = await runBundledTransform(pool, config, `${label}-warm`);
  ctx.log(
    `${label}: ${rows.toLocaleString('en-US')} rows, catch-up run ${(catchUp.ms / 1000).toFixed(1)} s, warm run ${Math.round(warm.ms)} ms`,
  );
  return { label, pool, config, rows, ticks: [] };
}

async function timeTick(history: History, at: Date, round: number): Promise<void> {
  history.rows += await insertSyntheticSnapshots(history.pool, { coins: COINS, from: at, to: at, loadedNow: true });
  const run = await runBundledTransform(history.pool, history.config, `${history.label}-tick-${round}`);
  history.ticks.push({
    ms: run.ms,
    models: await modelTimes(history.pool, run.transformRunId),
    tests: await testTime(history.pool, run.transformRunId),
  });
}

const spread = (values: readonly number[]) => `${Math.round(Math.min(...values))}-${Math.round(Math.max(...values))}`;
/**
 * Transform time of one new tick after a short history (~10k snapshot rows) and after a long one
 * (~5M rows, 3.5 days of 1-minute ticks for 1000 coins), in two databases timed alternately at the same
 * clock minutes. Incremental models must make the work proportional to new data: the ratio of the
 * medians stays under 2.
 */
export const transformBenchmark: Benchmark = {
  name: 'transform',
  description: `bundled dbt run for one tick of ${COINS} rows after ${COINS * SHORT_MINUTES} vs ~${((COINS * HISTORY_MINUTES) / 1e6).toFixed(1)}M snapshot rows of history, ${ROUNDS} alternating rounds; per-model medians`,
  budgetMs: 900_000,
  async run(ctx) {
    // Both histories end at the same minute, and the timed ticks follow it in both at the same minutes
    // (so an hour holds as many snapshots in both, up to its history).
    const start = ticksStart();
    ctx.log(
      `ticks at minutes ${new Date(start).getUTCMinutes()}-${new Date(start + (ROUNDS - 1) * MINUTE).getUTCMinutes()} of the hour`,
    );
    const short = await prepare(ctx, 'short history', SHORT_MINUTES, start);
    const long = await prepare(ctx, 'long history', HISTORY_MINUTES, start);
    const loadBefore = loadAverage();
    for (let round = 0; round < ROUNDS; round++) {
      ctx.signal.throwIfAborted();
      const at = new Date(start + round * MINUTE);
      const order = round % 2 === 0 ? [short, long] : [long, short];
      for (const history of order) await timeTick(history, at, round);
      ctx.log(
        `round ${round + 1}/${ROUNDS}: short ${Math.round(short.ticks[round]!.ms)} ms, long ${Math.round(long.ticks[round]!.ms)} ms (load ${loadAverage()})`,
      );
    }
    const loadAfter = loadAverage();

    const shortMs = median(short.ticks.map((t) => t.ms));
    const longMs = median(long.ticks.map((t) => t.ms));
    const roundRatios = long.ticks.map((t, i) => t.ms / short.ticks[i]!.ms);
    ctx.log(
      `one tick after ${short.rows.toLocaleString('en-US')} rows: median ${Math.round(shortMs)} ms (${spread(short.ticks.map((t) => t.ms))}); ` +
        `after ${long.rows.toLocaleString('en-US')} rows: median ${Math.round(longMs)} ms (${spread(long.ticks.map((t) => t.ms))}); ` +
        `ratio of medians ${(longMs / shortMs).toFixed(2)} (must stay under 2), per round ${median(roundRatios).toFixed(2)} median, ` +
        `${Math.min(...roundRatios).toFixed(2)}-${Math.max(...roundRatios).toFixed(2)}; load average (1/5/15 min) ${loadBefore} before, ${loadAfter} after`,
    );
    const modelMedian = (history: History, name: string) => median(history.ticks.map((t) => t.models.get(name) ?? 0));
    const names = [...long.ticks[0]!.models.keys()];
    for (const name of names) {
      ctx.log(
        `  ${name}: ${modelMedian(long, name)} ms (${spread(long.ticks.map((t) => t.models.get(name) ?? 0))}) vs ${modelMedian(short, name)} ms after the short history`,
      );
    }
    const testsLong = median(long.ticks.map((t) => t.tests));
    const testsShort = median(short.ticks.map((t) => t.tests));
    ctx.log(`  tests and freshness: ${testsLong} ms vs ${testsShort} ms`);

    const millions = (long.rows / 1e6).toFixed(1);
    const out: Measurement[] = [
      {
        metric: `one tick after ~${millions}M rows (median of ${ROUNDS}, alternating)`,
        value: longMs,
        unit: 'ms',
        reference: `one tick after ${short.rows.toLocaleString('en-US')} rows`,
        referenceValue: shortMs,
      },
      ...names.map((name): Measurement => ({
        metric: `model ${name}, after ~${millions}M rows`,
        value: modelMedian(long, name),
        unit: 'ms',
        reference: 'same model after the short history',
        referenceValue: modelMedian(short, name),
      })),
      {
        metric: `tests + freshness, after ~${millions}M rows`,
        value: testsLong,
        unit: 'ms',
        reference: 'same after the short history',
        referenceValue: testsShort,
      },
    ];
    return out;
  },
};
