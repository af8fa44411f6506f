import pg from 'pg';
import { loadConfig, type AppConfig } from '../../core/config/index.js';
import { jobIds } from '../../core/queues/registry.js';
import { enqueueTick, enqueueUniverseRefresh } from '../../producers/tick/enqueue-tick.js';
import { startSimulator, type SimulatorHandle } from '../../simulator/server.js';
import type { Benchmark, BenchContext, BenchDatabase, Measurement } from '../benchmark.js';
import { benchRuntime, pipelineEnv } from '../pipeline-env.js';
import { PipelineProcess, type ProcessKind } from '../pipeline-process.js';
import { loadAverage, median, sleep, waitFor } from '../stats.js';
import { runBundledTransform } from '../synthetic-history.js';
import { totalMs, tickTimeline, STAGES } from '../tick-latency/job-timeline.js';
import { copyDatabase, modelTimes, testTime, ticksStart } from '../transform-bench.js';
import { copyRealisticHistory, rawBytesPerRow } from './realistic-history.js';

/**
 * Sizes, all from the environment so a development run can be small
 * (e.g. BENCH_SCALE_COINS=1500 BENCH_SCALE_HISTORY_MINUTES=180):
 * - BENCH_SCALE_COINS: coins per minute (15,000);
 * - BENCH_SCALE_HISTORY_MINUTES: the long history (1440, a day: 21.6M rows at 15,000 coins);
 * - BENCH_SCALE_REFERENCE_MINUTES: the reference history (60);
 * - BENCH_SCALE_MINUTE: the minute of the hour both histories end at and the timed ticks start (55);
 * - BENCH_SCALE_ROUNDS: transform-only ticks timed on each database, alternately (3; the real ticks
 *   follow at the next minute, so at the default minute 55 they stay in the hour);
 * - BENCH_SCALE_TICKS: real ticks (simulator → fetch → load → transform) timed on each (5, after a warm-up);
 * - BENCH_SCALE_ENCODE_EVERY: in the long history, every this-many minutes go through the simulator and
 *   the load path's encoder, the minutes between repeat their rows in SQL (10; 1 = every minute, over
 *   an hour of Node at full size here). The reference history and the timed ticks encode every minute;
 * - BENCH_SCALE_BUDGET_S: the run's hard limit (5400);
 * - BENCH_SCALE_KEEP_DB=<name>: keep the long-history database under that name afterwards (for
 *   `BENCH_DASHBOARD_DB=<name> npm run bench -- dashboard`, or EXPLAIN); drop it by hand.
 */
const positive = (variable: string, fallback: number): number => {
  const raw = process.env[variable];
  const value = raw === undefined || raw === '' ? fallback : Number(raw);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${variable} must be a positive integer, got '${raw}'`);
  return value;
};
const COINS = positive('BENCH_SCALE_COINS', 15_000);
const HISTORY_MINUTES = positive('BENCH_SCALE_HISTORY_MINUTES', 1440);
const REFERENCE_MINUTES = positive('BENCH_SCALE_REFERENCE_MINUTES', 60);
const ROUNDS = positive('BENCH_SCALE_ROUNDS', 3);
const TICKS = positive('BENCH_SCALE_TICKS', 5);
const ENCODE_EVERY = positive('BENCH_SCALE_ENCODE_EVERY', 10);
const BUDGET_S = positive('BENCH_SCALE_BUDGET_S', 5400);
const MINUTE = 60_000;
const TRANSFORM_RATIO_TARGET = 1.25;
const TICK_TO_MARTS_TARGET_MS = 2000;
const BYTES_PER_ROW_TARGET = 350;
/** Real processes, as tick-latency deploys them: one scheduler, two fetch, two load, one transform. */
const TOPOLOGY: readonly [ProcessKind, number, string][] = [
  ['scheduler', 1, 'scheduler started'],
  ['fetch', 2, 'fetch worker started'],
  ['load', 2, 'load worker started'],
  ['transform', 1, 'transform worker started'],
];

interface History {
  readonly label: string;
  readonly db: BenchDatabase;
  readonly pool: pg.Pool;
  readonly config: AppConfig;
  rows: number;
  readonly ticks: { ms: number; models: Map<string, number>; tests: number }[];
  readonly tickToMarts: number[];
}

const hours = (minutes: number) => (minutes % 60 === 0 ? `${minutes / 60} h` : `${minutes} min`);

/** `minutes` of realistic history ending at `end` (exclusive), then the first transform run over it (untimed). */
async function prepare(
  ctx: BenchContext,
  simulator: SimulatorHandle,
  label: string,
  minutes: number,
  end: number,
): Promise<History> {
  const db = await ctx.database();
  const keep = process.env.BENCH_SCALE_KEEP_DB;
  // Registered before the pool, so it runs after the pool ends (a template must have no connections).
  if (keep && minutes === HISTORY_MINUTES) ctx.defer(() => copyDatabase(db.name, keep));
  const env = {
    ...pipelineEnv({ databaseUrl: db.url, prefix: ctx.prefix(), coingeckoUrl: 'http://127.0.0.1:9/api/v3' }),
    TRANSFORM_RUNNER: 'bundled',
    LOG_LEVEL: 'error',
  };
  const config = loadConfig(env);
  const pool = new pg.Pool({ connectionString: db.url, max: 2 });
  ctx.defer(() => pool.end());
  const started = performance.now();
  let logged = started;
  const rows = await copyRealisticHistory(pool, simulator.control, {
    from: end - minutes * MINUTE,
    to: end,
    signal: ctx.signal,
    encodeEvery: minutes === HISTORY_MINUTES ? ENCODE_EVERY : 1,
    progress: (n) => {
      if (performance.now() - logged < 30_000) return;
      logged = performance.now();
      ctx.log(`${label}: ${n.toLocaleString('en-US')} rows copied (${((logged - started) / 1000).toFixed(0)} s)`);
    },
  });
  const copiedS = (performance.now() - started) / 1000;
  await pool.query('analyze raw.coin_market_snapshots');
  const catchUp = await runBundledTransform(pool, config, `${label}-catch-up`, ctx.signal);
  // What autovacuum does within a minute or so of a first deployment, before the ticks timed here:
  // without statistics the incremental models' plans assume near-empty tables.
  await analyzeSchemas(pool, config);
  const warm = await runBundledTransform(pool, config, `${label}-warm`, ctx.signal);
  ctx.log(
    `${label}: ${rows.toLocaleString('en-US')} rows copied in ${copiedS.toFixed(0)} s, first run ${(catchUp.ms / 1000).toFixed(1)} s, warm run ${Math.round(warm.ms)} ms`,
  );
  return { label, db, pool, config, rows, ticks: [], tickToMarts: [] };
}

async function analyzeSchemas(pool: pg.Pool, config: AppConfig): Promise<void> {
  const tables = await pool.query<{ name: string }>(
    `select format('%I.%I', schemaname, tablename) as name from pg_tables where schemaname like $1`,
    [`${config.transform.schema}\\_%`],
  );
  for (const { name } of tables.rows) await pool.query(`analyze ${name}`);
}

/** One tick's rows at minute `at` (through the same encoder), then one transform run, timed per model. */
async function timeTransformTick(ctx: BenchContext, simulator: SimulatorHandle, history: History, at: number) {
  history.rows += await copyRealisticHistory(history.pool, simulator.control, {
    from: at,
    to: at + MINUTE,
    signal: ctx.signal,
    loadedNow: true,
  });
  const run = await runBundledTransform(history.pool, history.config, `${history.label}-tick-${at}`, ctx.signal);
  history.ticks.push({
    ms: run.ms,
    models: await modelTimes(history.pool, run.transformRunId),
    tests: await testTime(history.pool, run.transformRunId),
  });
}

/**
 * Real ticks on one database: a simulator whose clock continues the history from `from` (a new market
 * step every second, so every tick loads new rows), the deployed processes, tick added → transform
 * settled from BullMQ's own job timestamps.
 */
async function timeRealTicks(ctx: BenchContext, history: History, from: number): Promise<void> {
  const shift = from - Date.now();
  const simulator = await startSimulator({ coins: COINS, stepMs: 1000, clock: () => Date.now() + shift });
  const env = pipelineEnv({
    databaseUrl: history.db.url,
    prefix: ctx.prefix(),
    coingeckoUrl: simulator.url,
    env: {
      TRACK_TOP_N: String(COINS),
      SCHEDULE_ENABLED: 'false',
      COINGECKO_RATE_LIMIT_PER_MIN: '0',
      TRANSFORM_RUNNER: 'bundled',
      // A pipeline a day into its steady state: its one-time backfill long done, no gap to repair
      // (the history above was written without ledger runs).
      BACKFILL_DAYS: '0',
      GAP_REPAIR_MAX_COINS: '0',
    },
  });
  const { runtime } = benchRuntime(env);
  const processes = TOPOLOGY.flatMap(([kind, count]) =>
    Array.from({ length: count }, () => new PipelineProcess(kind, env)),
  );
  try {
    await Promise.all(processes.map((p) => p.waitForLog(TOPOLOGY.find(([kind]) => kind === p.kind)![2])));
    const refreshId = await enqueueUniverseRefresh(runtime);
    await waitFor(
      'universe refresh',
      async () => {
        const job = await runtime.queue('universe').getJob(jobIds.manualUniverse(refreshId));
        const state = await job?.getState();
        if (state === 'failed') throw new Error(`universe refresh failed: ${job?.failedReason}`);
        return state === 'completed';
      },
      120_000,
      ctx.signal,
      100,
    );
    for (let i = 0; i < TICKS + 1; i++) {
      await sleep(1100, ctx.signal); // the next simulator step
      const runId = await enqueueTick(runtime);
      await waitFor(
        `transform of ${runId}`,
        async () => {
          const state = await (await runtime.queue('transform').getJob(jobIds.transform(runId)))?.getState();
          if (state === 'failed') throw new Error(`transform of ${runId} failed`);
          return state === 'completed';
        },
        120_000,
        ctx.signal,
        20,
      );
      const timeline = await tickTimeline(runtime, runId);
      ctx.log(
        `${history.label}: ${i === 0 ? 'warm-up ' : ''}tick ${runId} → marts ${totalMs(timeline)} ms; ` +
          STAGES.map(([name, f]) => `${name.split(' ')[0]} ${f(timeline)}`).join(', '),
      );
      if (i > 0) history.tickToMarts.push(totalMs(timeline));
    }
  } finally {
    await Promise.all(processes.map((p) => p.stop()));
    await runtime.close();
    await simulator.close();
  }
}

/**
 * A day of 1-minute history for 15,000 coins (21.6M raw rows of CoinGecko-shaped records, written by
 * the load path's encoder) against an hour of it, both ending at minute 55 of an hour: per-tick
 * transform time and per model (target ≤ 1.25× the hour's), tick → marts with the deployed processes
 * (target ≤ 2 s), and raw's bytes per row. Opt-in (`npm run bench -- scale`): it takes 20+ minutes.
 */
export const scaleBenchmark: Benchmark = {
  name: 'scale',
  description: `${COINS} coins × ${hours(HISTORY_MINUTES)} of 1-minute realistic history vs ${hours(REFERENCE_MINUTES)}: per-tick transform per model, tick → marts, raw bytes per row (opt-in)`,
  budgetMs: BUDGET_S * 1000,
  optIn: true,
  async run(ctx) {
    const start = ticksStart('BENCH_SCALE_MINUTE', '55');
    ctx.log(
      `${COINS} coins; histories end at ${new Date(start).toISOString()}; ${ROUNDS} transform ticks, then ${TICKS} real ticks on each`,
    );
    // Seeded like the pipeline's simulator, so the real ticks' coin ids are the history's.
    const simulator = await startSimulator({ coins: COINS, stepMs: MINUTE });
    ctx.defer(() => simulator.close());
    const short = await prepare(ctx, simulator, `${hours(REFERENCE_MINUTES)} history`, REFERENCE_MINUTES, start);
    const long = await prepare(ctx, simulator, `${hours(HISTORY_MINUTES)} history`, HISTORY_MINUTES, start);
    // Every row of the reference history went through the encoder; the long one's mostly repeat them.
    const storage = await rawBytesPerRow(short.pool);
    const longStorage = await rawBytesPerRow(long.pool);
    for (const [label, size] of [
      [short.label, storage],
      [long.label, longStorage],
    ] as const)
      ctx.log(
        `raw after ${label}: ${size.rows.toLocaleString('en-US')} rows, ${(size.totalBytes / 2 ** 30).toFixed(2)} GiB, ` +
          `${Math.round(size.bytesPerRow)} bytes a row (indexes ${Math.round(size.indexBytesPerRow)})`,
      );

    const loadBefore = loadAverage();
    for (let round = 0; round < ROUNDS; round++) {
      const at = start + round * MINUTE;
      for (const history of round % 2 === 0 ? [short, long] : [long, short])
        await timeTransformTick(ctx, simulator, history, at);
      ctx.log(
        `transform round ${round + 1}/${ROUNDS}: ${short.label} ${Math.round(short.ticks[round]!.ms)} ms, ${long.label} ${Math.round(long.ticks[round]!.ms)} ms (load ${loadAverage()})`,
      );
    }
    ctx.log(`load average (1/5/15 min) ${loadBefore} before the transform ticks, ${loadAverage()} after`);

    const tickMs = (h: History) => median(h.ticks.map((t) => t.ms));
    const modelMs = (h: History, name: string) => median(h.ticks.map((t) => t.models.get(name) ?? 0));
    const names = [...long.ticks[0]!.models.keys()];
    for (const name of names)
      ctx.log(
        `  ${name}: ${modelMs(long, name)} ms vs ${modelMs(short, name)} ms (${(modelMs(long, name) / modelMs(short, name)).toFixed(2)}×)`,
      );
    for (const history of [short, long]) await timeRealTicks(ctx, history, start + ROUNDS * MINUTE);
    const after = `after ${hours(HISTORY_MINUTES)} (${(long.rows / 1e6).toFixed(1)}M rows)`;
    const reference = `same after ${hours(REFERENCE_MINUTES)}, target ≤ ${TRANSFORM_RATIO_TARGET}×`;
    const p50 = median(long.tickToMarts);
    return [
      {
        metric: `transform of one tick ${after}, median of ${ROUNDS}`,
        value: tickMs(long),
        unit: 'ms',
        reference,
        referenceValue: tickMs(short),
      },
      ...names.map((name): Measurement => ({
        metric: `model ${name}, ${after}`,
        value: modelMs(long, name),
        unit: 'ms',
        reference,
        referenceValue: modelMs(short, name),
      })),
      {
        metric: `tests + freshness, ${after}`,
        value: median(long.ticks.map((t) => t.tests)),
        unit: 'ms',
        reference: `same after ${hours(REFERENCE_MINUTES)}`,
        referenceValue: median(short.ticks.map((t) => t.tests)),
      },
      {
        metric: `tick → marts p50 ${after} (real processes, ${TICKS} ticks)`,
        value: p50,
        unit: 'ms',
        reference: 'target',
        referenceValue: TICK_TO_MARTS_TARGET_MS,
      },
      {
        metric: `tick → marts p50 ${after}`,
        value: p50,
        unit: 'ms',
        reference: `same after ${hours(REFERENCE_MINUTES)}`,
        referenceValue: median(short.tickToMarts),
      },
      {
        metric: `raw bytes per row (table + indexes + TOAST), ${storage.rows.toLocaleString('en-US')} rows all encoded`,
        value: storage.bytesPerRow,
        unit: 'B',
        reference: 'target',
        referenceValue: BYTES_PER_ROW_TARGET,
      },
    ];
  },
};
