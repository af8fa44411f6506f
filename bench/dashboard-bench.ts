import { readFileSync } from 'node:fs';
import http from 'node:http';
import { cpus } from 'node:os';
import pg from 'pg';
import { loadConfig } from '../core/config/index.js';
import type { Benchmark, BenchContext, BenchDatabase, Measurement } from './benchmark.js';
import { measureCpu, describeCpu } from './cpu-usage.js';
import { PipelineProcess } from './pipeline-process.js';
import { buildMarts, insertHistory } from './dashboard/history.js';
import { httpGetter, latencies, runLoad, type Latencies, type LoadResult } from './dashboard/load-loop.js';
import { pipelineEnv } from './pipeline-env.js';
import { databaseUrl } from './services.js';
import { sleep } from './stats.js';

const COINS = Number(process.env.BENCH_DASHBOARD_COINS ?? 1000);
/** 3.5 days of 1-minute ticks: 5.04M snapshot rows at 1000 coins. */
const HISTORY_MINUTES = Number(process.env.BENCH_DASHBOARD_HISTORY_MINUTES ?? 5040);
const CONCURRENCY = 50;
const WARMUP_MS = Number(process.env.BENCH_DASHBOARD_WARMUP_MS ?? 3000);
const DURATION_MS = Number(process.env.BENCH_DASHBOARD_DURATION_MS ?? 15_000);
/**
 * A transform run recorded this far into each measured window (0: none), so every window holds the
 * misses that follow an invalidation, as production does once a minute. Default: mid-window.
 */
const INVALIDATE_AT_MS = Number(process.env.BENCH_DASHBOARD_INVALIDATE_AT_MS ?? DURATION_MS / 2);
/** Unloaded latency (one connection) per endpoint, to tell query cost from queueing. */
const SINGLE_MS = 2000;
/** First requests after an invalidation, timed one at a time per endpoint. */
const COLD_SAMPLES = Number(process.env.BENCH_DASHBOARD_COLD_SAMPLES ?? 15);
const TARGET_P95_MS = 50;

/** Deterministic pseudo-random numbers (mulberry32), so runs request the same spread of keys. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const pickFrom = <T>(rnd: () => number, values: readonly T[]): T => values[Math.floor(rnd() * values.length)]!;

/** The synthetic history's coin ids (bench/synthetic-history.ts). */
const coinIds = Array.from({ length: COINS }, (_, i) => (i === 0 ? 'bitcoin' : i === 1 ? 'ethereum' : `coin-${i + 1}`));
const SORTS = ['rank', 'name', 'price', 'change_1h', 'change_24h', 'change_7d', 'market_cap', 'volume'];
const INTERVALS = ['hourly', 'daily'];
const RANGES = ['24h', '7d', '30d', 'all'];

/**
 * The overview page's two calls and the coin page's two calls, each spread over every key a user
 * could ask for (every coin; every sort, order and page; every interval and range), so the cache
 * cannot answer from one hot entry. The overview takes no parameters: it has one key by nature.
 */
const ENDPOINTS: readonly { page: string; name: string; path: (rnd: () => number) => string }[] = [
  { page: 'market overview', name: '/api/v1/market/overview', path: () => '/api/v1/market/overview' },
  {
    page: 'market overview',
    name: '/api/v1/coins?sort&order&page',
    path: (rnd) =>
      `/api/v1/coins?sort=${pickFrom(rnd, SORTS)}&order=${rnd() < 0.5 ? 'asc' : 'desc'}&page=${1 + Math.floor(rnd() * Math.ceil(COINS / 25))}`,
  },
  { page: 'coin detail', name: '/api/v1/coins/:id', path: (rnd) => `/api/v1/coins/${pickFrom(rnd, coinIds)}` },
  {
    page: 'coin detail',
    name: '/api/v1/coins/:id/candles?interval&range',
    path: (rnd) =>
      `/api/v1/coins/${pickFrom(rnd, coinIds)}/candles?interval=${pickFrom(rnd, INTERVALS)}&range=${pickFrom(rnd, RANGES)}`,
  },
];

/** CPU seconds (user + system) a process has used so far, from /proc/<pid>/stat. */
function processCpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime, stime in USER_HZ
}

/** The 1-minute load average: other work on a shared machine shows here. */
const loadAverage = () => Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);

const ms = (l: Latencies) =>
  `p50 ${l.p50.toFixed(2)} / p95 ${l.p95.toFixed(2)} / p99 ${l.p99.toFixed(2)} / max ${l.max.toFixed(1)} ms (${l.requests})`;
const fmt = (r: LoadResult) =>
  `${ms(r)}, ${Math.round(r.perSecond)} req/s, ${r.errors} errors; ` +
  Object.entries(r.byTag)
    .map(([tag, l]) => `${tag}: ${ms(l)}`)
    .join('; ') +
  `; warm-up: ${ms(r.warmup)}`;

/**
 * BENCH_DASHBOARD_DB=<name>: use this existing database (history and marts already built, e.g. kept
 * from an earlier run with BENCH_DASHBOARD_KEEP_DB) instead of generating 5M rows again; it is not dropped.
 */
async function prepareDatabase(
  ctx: BenchContext,
  env: (url: string) => Record<string, string>,
): Promise<BenchDatabase> {
  const reuse = process.env.BENCH_DASHBOARD_DB;
  if (reuse) {
    ctx.log(`reusing database ${reuse} (BENCH_DASHBOARD_DB)`);
    return { name: reuse, url: databaseUrl(reuse) };
  }
  const db = await ctx.database();
  const keep = process.env.BENCH_DASHBOARD_KEEP_DB;
  if (keep) {
    ctx.defer(async () => {
      const admin = new pg.Client({ connectionString: databaseUrl('postgres') });
      await admin.connect();
      try {
        await admin.query(`drop database if exists "${keep}" with (force)`);
        await admin.query(`create database "${keep}" template "${db.name}"`);
      } finally {
        await admin.end();
      }
    });
  }
  const config = loadConfig({ ...env(db.url), TRANSFORM_RUNNER: 'bundled', LOG_LEVEL: 'error' });
  const pool = new pg.Pool({ connectionString: db.url, max: 2 });
  try {
    const rows = await insertHistory(pool, {
      coins: COINS,
      minutes: HISTORY_MINUTES,
      signal: ctx.signal,
      log: ctx.log,
    });
    const ms = await buildMarts(pool, config, 'bench-dashboard-build', ctx.signal);
    ctx.log(
      `${rows.toLocaleString('en-US')} snapshot rows; marts built once with the bundled runner in ${(ms / 1000).toFixed(1)} s`,
    );
  } finally {
    await pool.end();
  }
  return db;
}

/**
 * The dashboard's market API under load: the real dashboard process over marts built from 5M
 * snapshot rows of 1000 coins, 50 keep-alive connections per endpoint with requests spread over
 * every coin and parameter, a transform run in the middle of each window (so cache misses are part
 * of the number), against a `select 1` round trip through pg at the same concurrency (the floor any
 * endpoint reading Postgres stands on) and the 50 ms p95 target. Also times the first request after
 * an invalidation one at a time, so the cost of a miss is reported and not only hits.
 */
export const dashboardBenchmark: Benchmark = {
  name: 'dashboard',
  description: `dashboard API p50/p95/p99 and req/s at ${CONCURRENCY} connections (overview + coin detail calls, spread over ${COINS} coins) over marts of ~${((COINS * HISTORY_MINUTES) / 1e6).toFixed(1)}M snapshot rows, with a transform run mid-window; cache-miss latency; vs select 1 through pg and the ${TARGET_P95_MS} ms p95 target`,
  budgetMs: 900_000,
  async run(ctx) {
    const prefix = ctx.prefix();
    const env = (url: string) => pipelineEnv({ databaseUrl: url, prefix, coingeckoUrl: 'http://127.0.0.1:9/api/v3' });
    const db = await prepareDatabase(ctx, env);

    // As deployed (DATABASE_POOL_MAX default) unless BENCH_DASHBOARD_POOL_MAX says otherwise.
    const poolMax = process.env.BENCH_DASHBOARD_POOL_MAX;
    const dashboard = new PipelineProcess('dashboard', {
      ...env(db.url),
      DASHBOARD_PORT: '0',
      DASHBOARD_HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      ...(poolMax ? { DATABASE_POOL_MAX: poolMax } : {}),
    });
    ctx.defer(() => dashboard.stop());
    const url = String(await dashboard.logField('dashboard listening', 'url'));
    const dashboardPool = loadConfig({ ...env(db.url), ...(poolMax ? { DATABASE_POOL_MAX: poolMax } : {}) }).postgres
      .poolMax;
    ctx.log(
      `dashboard at ${url} (pid ${dashboard.pid}, pg pool of ${dashboardPool}); load average ${loadAverage()} on ${cpus().length} cores`,
    );

    // Invalidates every cached response: a settled transform run, recorded as the transform worker does.
    const admin = new pg.Pool({ connectionString: db.url, max: 1 });
    ctx.defer(() => admin.end());
    let runs = 0;
    const transformRun = async () => {
      await admin.query(
        `insert into pipeline.transform_runs (run_id, runner, status, finished_at) values ($1, 'bundled', 'success', now())`,
        [`bench-invalidate-${Date.now()}-${++runs}`],
      );
    };

    // One keep-alive socket per loop; created before timing starts by the warm-up.
    const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY, maxFreeSockets: CONCURRENCY });
    ctx.defer(() => agent.destroy());
    const rnd = random(20261127);
    for (const e of ENDPOINTS) await httpGetter(url, e.path(rnd), agent)(); // fails fast on a 503/404

    // Reference: select 1 from this process, 50 loops over a pool of 50.
    // Closed before the endpoints run, so its 50 connections do not sit in Postgres meanwhile.
    const pool = new pg.Pool({ connectionString: db.url, max: CONCURRENCY });
    let select1: LoadResult;
    try {
      select1 = await runLoad({
        concurrency: CONCURRENCY,
        warmupMs: WARMUP_MS,
        durationMs: DURATION_MS,
        signal: ctx.signal,
        request: async () => void (await pool.query('select 1')),
      });
    } finally {
      await pool.end();
    }
    ctx.log(`select 1 through pg, ${CONCURRENCY} clients: ${fmt(select1)}`);

    // Cold: after each transform run (and the dashboard's 1 s version check), one request per endpoint.
    const cold = new Map<string, number[]>(ENDPOINTS.map((e) => [e.name, []]));
    for (let i = 0; i < COLD_SAMPLES; i++) {
      ctx.signal.throwIfAborted();
      await transformRun();
      await sleep(1100, ctx.signal);
      for (const e of ENDPOINTS) {
        const started = performance.now();
        const tag = await httpGetter(url, e.path(rnd), agent)();
        if (tag !== 'miss')
          throw new Error(
            `${e.name}: the first request after a transform run was a ${tag ?? 'response without X-Cache'}, not a miss`,
          );
        cold.get(e.name)!.push(performance.now() - started);
      }
    }

    const out: Measurement[] = [];
    const loads: number[] = [loadAverage()];
    for (const e of ENDPOINTS) {
      ctx.signal.throwIfAborted();
      const request = httpGetter(url, () => e.path(rnd), agent);
      const single = await runLoad({
        concurrency: 1,
        warmupMs: 200,
        durationMs: SINGLE_MS,
        signal: ctx.signal,
        request,
      });
      const cpu0 = processCpuMs(dashboard.pid);
      const at = INVALIDATE_AT_MS > 0 ? [{ offsetMs: INVALIDATE_AT_MS, action: transformRun }] : [];
      const { result: r, cpu } = await measureCpu(() =>
        runLoad({
          concurrency: CONCURRENCY,
          warmupMs: WARMUP_MS,
          durationMs: DURATION_MS,
          signal: ctx.signal,
          request,
          at,
        }),
      );
      const dashboardCpu = (100 * (processCpuMs(dashboard.pid) - cpu0)) / cpu.wallMs;
      const firstAfterRun = latencies(cold.get(e.name)!);
      loads.push(loadAverage());
      ctx.log(`${e.name}: first request after a transform run, 1 connection: ${ms(firstAfterRun)}`);
      ctx.log(`${e.name}: 1 connection ${fmt(single)}`);
      ctx.log(
        `${e.name}: ${CONCURRENCY} connections ${fmt(r)}; dashboard process ${Math.round(dashboardCpu)}% of a core, ${describeCpu(cpu)}; load average ${loads.at(-1)}`,
      );
      if (r.errors > 0) ctx.log(`${e.name}: first error: ${r.firstError}`);
      if (r.requests === 0) throw new Error(`${e.name}: no request completed (${r.firstError ?? 'no error'})`);
      const name = `${e.page} ${e.name}`;
      const miss = r.byTag.miss;
      const hit = r.byTag.hit;
      out.push(
        {
          metric: `${name} p50 @${CONCURRENCY}`,
          value: r.p50,
          unit: 'ms',
          reference: `select 1 p50 @${CONCURRENCY}`,
          referenceValue: select1.p50,
        },
        {
          metric: `${name} p95 @${CONCURRENCY}`,
          value: r.p95,
          unit: 'ms',
          reference: `select 1 p95 @${CONCURRENCY}`,
          referenceValue: select1.p95,
        },
        {
          metric: `${name} p95 @${CONCURRENCY}`,
          value: r.p95,
          unit: 'ms',
          reference: 'target',
          referenceValue: TARGET_P95_MS,
        },
        {
          metric: `${name} p99 @${CONCURRENCY}`,
          value: r.p99,
          unit: 'ms',
          reference: `select 1 p99 @${CONCURRENCY}`,
          referenceValue: select1.p99,
        },
        ...(hit
          ? [
              {
                metric: `${name} cache hits p95 @${CONCURRENCY} (${hit.requests})`,
                value: hit.p95,
                unit: 'ms',
                reference: `select 1 p95 @${CONCURRENCY}`,
                referenceValue: select1.p95,
              },
            ]
          : []),
        ...(miss
          ? [
              {
                metric: `${name} cache misses p95 @${CONCURRENCY} (${miss.requests} of ${r.requests})`,
                value: miss.p95,
                unit: 'ms',
                reference: 'target',
                referenceValue: TARGET_P95_MS,
              },
            ]
          : []),
        {
          metric: `${name} first request after a transform run p95, 1 connection (${firstAfterRun.requests})`,
          value: firstAfterRun.p95,
          unit: 'ms',
          reference: 'same, any request, p95 1 connection',
          referenceValue: single.p95,
        },
        {
          metric: `${name} throughput @${CONCURRENCY}`,
          value: r.perSecond,
          unit: 'req/s',
          reference: `select 1 @${CONCURRENCY}`,
          referenceValue: select1.perSecond,
        },
        {
          metric: `${name} p50, 1 connection`,
          value: single.p50,
          unit: 'ms',
          reference: 'same, p50 @50',
          referenceValue: r.p50,
        },
      );
    }
    out.push({
      metric: 'load average (1 min), highest seen',
      value: Math.max(...loads),
      unit: 'processes',
      reference: 'cores',
      referenceValue: cpus().length,
    });
    return out;
  },
};
