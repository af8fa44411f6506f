import pg from 'pg';
import { parseHistory } from '../../core/history/history-points.js';
import { DAY_MS, HOUR_MS } from '../../core/history/plan-history.js';
import { startHistoryRun } from '../../core/history/start-history-run.js';
import { storeHistory } from '../../core/history/store-history.js';
import { recordHistoryRun } from '../../core/history/history-ledger.js';
import { jobIds } from '../../core/queues/registry.js';
import type { Runtime } from '../../core/runtime.js';
import { enqueueTick, enqueueUniverseRefresh } from '../../producers/tick/enqueue-tick.js';
import { startSimulator } from '../../simulator/server.js';
import type { Benchmark, BenchContext, Measurement } from '../benchmark.js';
import { benchRuntime, pipelineEnv } from '../pipeline-env.js';
import { PipelineProcess, type ProcessKind } from '../pipeline-process.js';
import { median, sleep, waitFor } from '../stats.js';

const LIMIT_PER_MIN = 500;
/** Tracked by the ticks: 10 calls of 250 ids each. */
const TRACKED = 2500;
/** Backfilled: one call each (30 days), ~2.5 minutes of calls at the limit, so ticks run inside it. */
const BACKFILL_COINS = 1200;
const BACKFILL_DAYS = 30;
const TICKS = 3;
/** Bodies stored without the limiter, to measure the store path itself. */
const STORE_CALLS = 150;

const TOPOLOGY: readonly [ProcessKind, number, string][] = [
  ['scheduler', 1, 'scheduler started'],
  ['fetch', 2, 'fetch worker started'],
  ['load', 1, 'load worker started'],
];

/**
 * History against the live pipeline at a 500 calls/min limit (simulator enforcing it too): tick
 * latency with a backfill running vs without one (target ≤ 1.1×), the calls per minute the backfill
 * keeps up against the limit (target ≥ 0.95, no 429), and rows per second into raw, through the
 * workers and through the store path alone against a bare COPY of the same rows.
 */
export const backfillBenchmark: Benchmark = {
  name: 'backfill',
  description: `market_chart/range backfill of ${BACKFILL_COINS} coins × ${BACKFILL_DAYS} days at ${LIMIT_PER_MIN} calls/min beside ticks of ${TRACKED} coins: tick latency with vs without it, calls/min vs the limit, 429s, rows/s into raw`,
  budgetMs: 480_000,
  async run(ctx) {
    const db = await ctx.database();
    const prefix = ctx.prefix();
    const simulator = await startSimulator({ coins: 3000, rateLimit: LIMIT_PER_MIN, stepMs: 1000 });
    ctx.defer(() => simulator.close());
    const env = pipelineEnv({
      databaseUrl: db.url,
      prefix,
      coingeckoUrl: simulator.url,
      env: {
        TRACK_TOP_N: String(TRACKED),
        SCHEDULE_ENABLED: 'false',
        COINGECKO_RATE_LIMIT_PER_MIN: String(LIMIT_PER_MIN),
        TRANSFORM_RUNNER: 'none',
        BACKFILL_DAYS: '0',
      },
    });
    const { runtime } = benchRuntime(env);
    ctx.defer(() => runtime.close());
    const processes = TOPOLOGY.flatMap(([kind, count]) =>
      Array.from({ length: count }, () => new PipelineProcess(kind, env)),
    );
    ctx.defer(() => Promise.all(processes.map((p) => p.stop())));
    await Promise.all(processes.map((p) => p.waitForLog(TOPOLOGY.find(([kind]) => kind === p.kind)![2])));
    const refreshId = await enqueueUniverseRefresh(runtime);
    await waitFor(
      'universe refresh',
      async () =>
        (await (await runtime.queue('universe').getJob(jobIds.manualUniverse(refreshId)))?.getState()) === 'completed',
      60_000,
      ctx.signal,
      100,
    );

    const alone: number[] = [];
    for (let i = 0; i < TICKS + 1; i++) {
      const ms = await tickLatency(ctx, runtime, db.url);
      if (i > 0) alone.push(ms); // the first tick warms up
    }
    ctx.log(`ticks alone: ${alone.join(', ')} ms`);

    const now = Date.now();
    const ids = simulator.control.universeIds().slice(0, BACKFILL_COINS);
    const started = await startHistoryRun(runtime, {
      historyRunId: `bench${now}`,
      kind: 'backfill',
      coinIds: ids,
      fromMs: now - BACKFILL_DAYS * DAY_MS,
      toMs: now,
      minSpanMs: HOUR_MS,
      requested: { bench: true },
    });
    const doneItems = async () =>
      Number(
        (
          await runtime.pool.query<{ n: string }>(
            `select count(*) as n from pipeline.history_items where history_run_id = $1 and status <> 'pending'`,
            [started.historyRunId],
          )
        ).rows[0]!.n,
      );
    await waitFor('the backfill at full speed', async () => (await doneItems()) >= 50, 60_000, ctx.signal, 200);
    const during: number[] = [];
    for (let i = 0; i < TICKS; i++) during.push(await tickLatency(ctx, runtime, db.url));
    const pendingAfterTicks = started.items - (await doneItems());
    ctx.log(`ticks beside the backfill: ${during.join(', ')} ms; ${pendingAfterTicks} history calls still pending`);
    if (pendingAfterTicks <= 0) throw new Error('the backfill ended before the ticks did: it did not run beside them');
    await waitFor(
      'the backfill',
      async () => (await doneItems()) === started.items,
      started.items * 200 + 60_000,
      ctx.signal,
      500,
    );

    const log = simulator.control.requests(0);
    const history = log.filter((r) => r.path.endsWith('/market_chart/range'));
    const first = Math.min(...history.map((r) => r.t));
    const last = Math.max(...history.map((r) => r.t));
    const inBackfill = log.filter((r) => r.t >= first && r.t <= last && r.status === 200);
    const minutes = (last - first) / 60_000;
    const throttled = log.filter((r) => r.status === 429).length;
    const { rows: stored } = await runtime.pool.query<{ rows: string; points: string }>(
      `select coalesce(sum(rows_inserted), 0) as rows, coalesce(sum(points_received), 0) as points
         from pipeline.history_items where history_run_id = $1`,
      [started.historyRunId],
    );
    const rowsStored = Number(stored[0]!.rows);
    const pointsPerCall = Number(stored[0]!.points) / started.items;
    ctx.log(
      `backfill: ${history.length} history calls and ${inBackfill.length - history.filter((r) => r.status === 200).length} others served in ${(minutes * 60).toFixed(1)} s; ${throttled} × 429; ${rowsStored} rows`,
    );

    const store = await storeThroughput(ctx, simulator.url.replace(/\/api\/v3$/, ''), ids.slice(0, STORE_CALLS));
    const out: Measurement[] = [
      {
        metric: `tick latency (added → loaded, median of ${TICKS}) beside a backfill at the limit`,
        value: median(during),
        unit: 'ms',
        reference: 'same ticks without a backfill (target ≤ 1.1×)',
        referenceValue: median(alone),
      },
      {
        metric: 'calls per minute while the backfill ran (history + ticks)',
        value: inBackfill.length / minutes,
        unit: 'calls/min',
        reference: `limit (target ≥ 0.95×)`,
        referenceValue: LIMIT_PER_MIN,
      },
      {
        metric: 'history calls per minute while the backfill ran',
        value: history.filter((r) => r.status === 200).length / minutes,
        unit: 'calls/min',
        reference: 'limit',
        referenceValue: LIMIT_PER_MIN,
      },
      {
        metric: 'HTTP 429s during the benchmark (pipeline)',
        value: throttled,
        unit: 'responses',
        reference: 'allowed 429s',
        referenceValue: 0,
      },
      {
        metric: 'rows/s into raw.coin_history_points through the fetch workers',
        value: rowsStored / (minutes * 60),
        unit: 'rows/s',
        reference: `what the limit allows (${LIMIT_PER_MIN}/min × ${pointsPerCall.toFixed(0)} points a call)`,
        referenceValue: (LIMIT_PER_MIN * pointsPerCall) / 60,
      },
      {
        metric: `rows/s of the store path alone (${STORE_CALLS} bodies, parse + COPY + insert, 1 connection)`,
        value: store.storeRowsPerS,
        unit: 'rows/s',
        reference: 'COPY of the same rows into a bare table',
        referenceValue: store.copyRowsPerS,
      },
    ];
    return out;
  },
};

/** One tick of the tracked coins: tick job added → run loaded (ledger), in ms. */
async function tickLatency(ctx: BenchContext, runtime: Runtime, databaseUrl: string): Promise<number> {
  await sleep(1100, ctx.signal); // the simulator's next step: every tick loads new rows
  const runId = await enqueueTick(runtime);
  const added = Date.now();
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const finished = await waitFor(
      `tick ${runId}`,
      async () =>
        (
          await client.query<{ finished_at: Date; status: string }>(
            `select finished_at, status from pipeline.pipeline_runs where run_id = $1 and finished_at is not null`,
            [runId],
          )
        ).rows[0],
      120_000,
      ctx.signal,
      20,
    );
    if (finished.status !== 'loaded') throw new Error(`tick ${runId} ended ${finished.status}`);
    return finished.finished_at.getTime() - added;
  } finally {
    await client.end();
  }
}

/**
 * The store path without the limiter, in a database of its own: 90-day bodies fetched before the
 * clock starts, then parsed and stored one call at a time (as the fetch worker does), against a COPY
 * of the same rows into a bare table on the same single connection.
 */
async function storeThroughput(
  ctx: BenchContext,
  simulatorBase: string,
  ids: readonly string[],
): Promise<{ storeRowsPerS: number; copyRowsPerS: number }> {
  const db = await ctx.database();
  const pool = new pg.Pool({ connectionString: db.url, max: 1 });
  ctx.defer(() => pool.end());
  const now = Math.floor(Date.now() / 1000);
  const span = { fromS: now - 90 * 86_400, toS: now };
  const bodies: unknown[] = [];
  for (const id of ids) {
    for (;;) {
      const res = await fetch(
        `${simulatorBase}/api/v3/coins/${id}/market_chart/range?vs_currency=usd&from=${span.fromS}&to=${span.toS}`,
      );
      // The simulator enforces the limit for this client too: wait for its next window.
      if (res.status === 429) await sleep(1000, ctx.signal);
      else {
        bodies.push(await res.json());
        break;
      }
    }
  }
  const historyRunId = `store${now}`;
  const parsed = bodies.map((b) => parseHistory(b, span));
  await recordHistoryRun(pool, {
    historyRunId,
    kind: 'backfill',
    vsCurrency: 'usd',
    fromMs: span.fromS * 1000,
    toMs: span.toS * 1000,
    coins: parsed.length,
    requested: {},
    items: parsed.map((_, i) => ({ coinId: `c${i}`, fromMs: span.fromS * 1000, toMs: span.toS * 1000 })),
  });
  let rows = 0;
  const storeStart = performance.now();
  for (const [i, p] of parsed.entries()) {
    rows += (await storeHistory(pool, { historyRunId, itemNo: i, coinId: `c${i}`, vsCurrency: 'usd' }, p, 200))
      .rowsInserted;
  }
  const storeMs = performance.now() - storeStart;

  await pool.query(
    `create table bare_points (coin_id text, vs_currency text, observed_at timestamptz, price float8, market_cap float8, total_volume float8)`,
  );
  const lines = parsed.flatMap((p, i) =>
    p.points.map(
      (pt) =>
        `c${i}\tusd\t${new Date(pt.observedAtMs).toISOString()}\t${pt.price}\t${pt.marketCap ?? '\\N'}\t${pt.totalVolume ?? '\\N'}\n`,
    ),
  );
  const { from: copyFrom } = await import('pg-copy-streams');
  const client = await pool.connect();
  const copyStart = performance.now();
  try {
    const stream = client.query(copyFrom('copy bare_points from stdin'));
    stream.end(Buffer.from(lines.join('')));
    await new Promise<void>((resolve, reject) => stream.on('finish', resolve).on('error', reject));
  } finally {
    client.release();
  }
  const copyMs = performance.now() - copyStart;
  ctx.log(
    `store path: ${rows} rows in ${storeMs.toFixed(0)} ms; bare COPY of ${lines.length} rows in ${copyMs.toFixed(0)} ms`,
  );
  return { storeRowsPerS: (rows * 1000) / storeMs, copyRowsPerS: (lines.length * 1000) / copyMs };
}
