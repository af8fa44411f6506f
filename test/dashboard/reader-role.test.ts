import type { Redis } from 'ioredis';
import type pg from 'pg';
import winston from 'winston';
import { createApp } from '../../dashboard/app.js';
import { migrationCheck } from '../../dashboard/http/migration-check.js';
import { createRedis } from '../../core/queues/redis.js';
import { Runtime } from '../../core/runtime.js';
import { TEST_REDIS_URL } from '../helpers/env.js';
import { call, serve, type Served } from './http.js';
import { urlAsRole } from '../helpers/database.js';
import { startSyntheticMarts, type SyntheticMarts } from './synthetic-marts.js';

/**
 * The dashboard as deployed with least privilege: connected as cdp_reader (core/db/migrations
 * least-privilege-roles), over marts the transform built as cdp_transformer. Every page, API endpoint
 * and probe must answer 200, not "permission denied"; and the connection must not be able to write.
 */
const silent = winston.createLogger({ silent: true });
const denied = /permission denied/;

let marts: SyntheticMarts;
let runtime: Runtime;
let probe: Redis;
let migrations: ReturnType<typeof migrationCheck>;
let served: Served;
const warnings: string[] = [];

beforeAll(async () => {
  marts = await startSyntheticMarts({ coins: 5, minutes: 6 * 60, transformRole: 'cdp_transformer' });
  const config = marts.config({ DATABASE_URL: urlAsRole(marts.db.url, 'cdp_reader') });
  runtime = new Runtime(config, silent, 'dashboard');
  probe = createRedis(TEST_REDIS_URL, 'fail-fast', 'cdp:test:reader-probe');
  probe.on('error', () => undefined);
  migrations = migrationCheck(config.postgres.url);
  // Warnings name the failed check or query: shown when an assertion below fails.
  const logger = winston.createLogger({
    silent: false,
    transports: [new winston.transports.Console({ silent: true })],
  });
  logger.on('data', (info: { message: string; reason?: string }) =>
    warnings.push(`${info.message}: ${info.reason ?? ''}`),
  );
  const app = createApp({
    config,
    pool: runtime.pool,
    redis: probe,
    queues: (key) => runtime.queue(key),
    checkMigrations: migrations.pending,
    logger,
  });
  served = await serve(app);
});

afterAll(async () => {
  await served?.close();
  await migrations?.close();
  probe?.disconnect();
  await runtime?.close();
  await marts?.close();
});

it('connects as cdp_reader', async () => {
  expect((await runtime.pool.query('select current_user as role')).rows).toEqual([{ role: 'cdp_reader' }]);
});

it.each([
  '/readyz',
  '/healthz',
  '/metrics',
  '/',
  '/pipeline',
  '/coins/bitcoin',
  '/queues',
  '/api/v1/runs',
  '/api/v1/market/overview',
  '/api/v1/coins',
  '/api/v1/coins?sort=name&q=coin',
  '/api/v1/coins/bitcoin',
  '/api/v1/coins/bitcoin/candles',
  '/api/v1/coins/ethereum/candles?interval=daily&range=all',
  '/api/v1/pipeline/freshness',
  '/api/v1/pipeline/transform-runs',
  '/api/v1/pipeline/quarantine',
  '/api/v1/pipeline/stale-coins',
  '/api/v1/pipeline/stale-observations',
  '/api/v1/pipeline/queues',
  '/api/v1/pipeline/gaps',
  '/api/v1/pipeline/operations?window=7d',
  '/anomalies',
  '/api/v1/anomalies?window=7d',
  '/api/v1/anomalies.csv',
])('GET %s answers 200 as cdp_reader', async (path) => {
  const reply = await call(`${served.url}${path}`);
  if (reply.status !== 200)
    throw new Error(`${path}: HTTP ${reply.status} ${reply.text.slice(0, 300)}\nwarnings: ${warnings.join('\n')}`);
  if (path === '/readyz')
    expect(reply.json().checks).toMatchObject({
      postgres: { ok: true },
      redis: { ok: true },
      migrations: { ok: true },
    });
  if (path === '/api/v1/coins/bitcoin')
    expect(reply.json().coin).toMatchObject({ id: 'bitcoin', price: expect.any(Number) });
});

it('streams live updates as cdp_reader', async () => {
  const controller = new AbortController();
  const response = await fetch(`${served.url}/api/v1/events`, { signal: controller.signal });
  expect(response.status).toBe(200);
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  let text = '';
  while (!text.includes('event: transform')) text += (await reader.read()).value ?? '';
  expect(text).toMatch(/"status":"success"/);
  controller.abort();
});

it('reports no warnings (no query was refused)', () => {
  expect(warnings).toEqual([]);
});

it('cannot write anything, nor read raw data', async () => {
  const pool: pg.Pool = runtime.pool;
  await expect(
    pool.query("insert into pipeline.transform_runs (run_id, runner) values ('x', 'bundled')"),
  ).rejects.toThrow(denied);
  await expect(pool.query("update pipeline.pipeline_runs set status = 'failed'")).rejects.toThrow(denied);
  await expect(pool.query('delete from analytics_marts.dim_coins')).rejects.toThrow(denied);
  await expect(pool.query('delete from public.typeorm_migrations')).rejects.toThrow(denied);
  await expect(pool.query("insert into public.typeorm_migrations (timestamp, name) values (1, 'x')")).rejects.toThrow(
    denied,
  );
  await expect(pool.query('create table public.mine (x int)')).rejects.toThrow(denied);
  await expect(pool.query('select count(*) from raw.coin_market_snapshots')).rejects.toThrow(denied);
});
