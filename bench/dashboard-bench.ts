import { readFileSync } from 'node:fs';
import http from 'node:http';
import pg from 'pg';
import { loadConfig } from '../core/config/index.js';
import type { Benchmark, BenchContext, BenchDatabase, Measurement } from './benchmark.js';
import { measureCpu, describeCpu } from './cpu-usage.js';
import { PipelineProcess } from './pipeline-process.js';
import { buildMarts, insertHistory } from './dashboard/history.js';
import { httpGetter, runLoad, type LoadResult } from './dashboard/load-loop.js';
import { pipelineEnv } from './pipeline-env.js';
import { databaseUrl } from './services.js';

const COINS = Number(process.env.BENCH_DASHBOARD_COINS ?? 1000);
/** 3.5 days of 1-minute ticks: 5.04M snapshot rows at 1000 coins. */
const HISTORY_MINUTES = Number(process.env.BENCH_DASHBOARD_HISTORY_MINUTES ?? 5040);
const CONCURRENCY = 50;
const WARMUP_MS = Number(process.env.BENCH_DASHBOARD_WARMUP_MS ?? 3000);
const DURATION_MS = Number(process.env.BENCH_DASHBOARD_DURATION_MS ?? 15_000);
/** Unloaded latency (one connection) per endpoint, to tell query cost from queueing. */
const SINGLE_MS = 2000;
const TARGET_P95_MS = 50;

/** The overview page's two calls and the coin page's two calls. */
const ENDPOINTS: readonly { page: string; path: string }[] = [
  { page: 'market overview', path: '/api/v1/market/overview' },
  { page: 'market overview', path: '/api/v1/coins?sort=market_cap&page=1' },
  { page: 'coin detail', path: '/api/v1/coins/bitcoin' },
  { page: 'coin detail', path: '/api/v1/coins/bitcoin/candles?interval=hourly&range=7d' },
];

/** CPU seconds (user + system) a process has used so far, from /proc/<pid>/stat. */
function processCpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime, stime in USER_HZ
}

const fmt = (r: LoadResult) =>
  `p50 ${r.p50.toFixed(2)} / p95 ${r.p95.toFixed(2)} / p99 ${r.p99.toFixed(2)} / max ${r.max.toFixed(1)} ms, ${Math.round(r.perSecond)} req/s (${r.requests} requests, ${r.errors} errors)`;

/**
 * BENCH_DASHBOARD_DB=<name>: use this existing database (history and marts already built, e.g. kept
 * from an earlier run with BENCH_DASHBOARD_KEEP_DB) instead of generating 5M rows again; it is not dropped.
 */
async function prepareDatabase(ctx: BenchContext, env: (url: string) => Record<string, string>): Promise<BenchDatabase> {
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
    const rows = await insertHistory(pool, { coins: COINS, minutes: HISTORY_MINUTES, signal: ctx.signal, log: ctx.log });
    const ms = await buildMarts(pool, config, 'bench-dashboard-build', ctx.signal);
    ctx.log(`${rows.toLocaleString('en-US')} snapshot rows; marts built once with the bundled runner in ${(ms / 1000).toFixed(1)} s`);
  } finally {
    await pool.end();
  }
  return db;
}

/**
 * The dashboard's market API under load: the real dashboard process over marts built from 5M
 * snapshot rows of 1000 coins, 50 keep-alive connections per endpoint, against a `select 1` round
 * trip through pg at the same concurrency (the floor any endpoint reading Postgres stands on) and the
 * 50 ms p95 target.
 */
export const dashboardBenchmark: Benchmark = {
  name: 'dashboard',
  description: `dashboard API p50/p95/p99 and req/s at ${CONCURRENCY} connections (overview + coin detail calls) over marts of ${COINS} coins, ~${((COINS * HISTORY_MINUTES) / 1e6).toFixed(1)}M snapshot rows, vs select 1 through pg and the ${TARGET_P95_MS} ms p95 target`,
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
    const dashboardPool = loadConfig({ ...env(db.url), ...(poolMax ? { DATABASE_POOL_MAX: poolMax } : {}) }).postgres.poolMax;
    ctx.log(`dashboard at ${url} (pid ${dashboard.pid}, pg pool of ${dashboardPool})`);

    // One keep-alive socket per loop; created before timing starts by the warm-up.
    const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY, maxFreeSockets: CONCURRENCY });
    ctx.defer(() => agent.destroy());
    for (const e of ENDPOINTS) await httpGetter(url, e.path, agent)(); // fails fast on a 503/404

    // Reference: select 1 from this process, 50 loops over a pool of 50.
    // Closed before the endpoints run, so its 50 connections do not sit in Postgres meanwhile.
    const pool = new pg.Pool({ connectionString: db.url, max: CONCURRENCY });
    let select1: LoadResult;
    try {
      select1 = await runLoad({ concurrency: CONCURRENCY, warmupMs: WARMUP_MS, durationMs: DURATION_MS, signal: ctx.signal, request: async () => void (await pool.query('select 1')) });
    } finally {
      await pool.end();
    }
    ctx.log(`select 1 through pg, ${CONCURRENCY} clients: ${fmt(select1)}`);

    const out: Measurement[] = [];
    for (const e of ENDPOINTS) {
      ctx.signal.throwIfAborted();
      const request = httpGetter(url, e.path, agent);
      const single = await runLoad({ concurrency: 1, warmupMs: 200, durationMs: SINGLE_MS, signal: ctx.signal, request });
      const cpu0 = processCpuMs(dashboard.pid);
      const { result: r, cpu } = await measureCpu(() => runLoad({ concurrency: CONCURRENCY, warmupMs: WARMUP_MS, durationMs: DURATION_MS, signal: ctx.signal, request }));
      const dashboardCpu = (100 * (processCpuMs(dashboard.pid) - cpu0)) / cpu.wallMs;
      ctx.log(`${e.path}: 1 connection ${fmt(single)}`);
      ctx.log(`${e.path}: ${CONCURRENCY} connections ${fmt(r)}; dashboard process ${Math.round(dashboardCpu)}% of a core, ${describeCpu(cpu)}`);
      if (r.errors > 0) ctx.log(`${e.path}: first error: ${r.firstError}`);
      if (r.requests === 0) throw new Error(`${e.path}: no request completed (${r.firstError ?? 'no error'})`);
      const name = `${e.page} ${e.path}`;
      out.push(
        { metric: `${name} p50 @${CONCURRENCY}`, value: r.p50, unit: 'ms', reference: `select 1 p50 @${CONCURRENCY}`, referenceValue: select1.p50 },
        { metric: `${name} p95 @${CONCURRENCY}`, value: r.p95, unit: 'ms', reference: `select 1 p95 @${CONCURRENCY}`, referenceValue: select1.p95 },
        { metric: `${name} p95 @${CONCURRENCY}`, value: r.p95, unit: 'ms', reference: 'target', referenceValue: TARGET_P95_MS },
        { metric: `${name} p99 @${CONCURRENCY}`, value: r.p99, unit: 'ms', reference: `select 1 p99 @${CONCURRENCY}`, referenceValue: select1.p99 },
        { metric: `${name} throughput @${CONCURRENCY}`, value: r.perSecond, unit: 'req/s', reference: `select 1 @${CONCURRENCY}`, referenceValue: select1.perSecond },
        { metric: `${name} p50, 1 connection`, value: single.p50, unit: 'ms', reference: 'same, p50 @50', referenceValue: r.p50 },
      );
    }
    return out;
  },
};
