import type { Redis } from 'ioredis';
import winston from 'winston';
import { createApp } from '../../dashboard/app.js';
import { rootLogger } from '../../core/log/logger.js';
import { createRedis } from '../../core/queues/redis.js';
import type { QueueKey } from '../../core/queues/registry.js';
import { Runtime } from '../../core/runtime.js';
import { testConfig } from '../helpers/config.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { TEST_REDIS_URL } from '../helpers/env.js';
import { deletePrefix, testPrefix } from '../helpers/redis.js';
import { call, serve, type Served } from './http.js';

/**
 * The dashboard judges freshness by STALE_AFTER (config.freshness), on the pipeline page's API and in
 * the gauges Grafana reads, and exports the threshold itself: one ledger whose newest batch loaded
 * 10 minutes ago is stale to a dashboard configured with 7 minutes and fresh to one with 20.
 */
let db: TestDatabase;
let prefix: string;
let runtime: Runtime;
let probeRedis: Redis;
const servers: Served[] = [];
const urls: Record<string, string> = {};

beforeAll(async () => {
  db = await createTestDatabase();
  prefix = testPrefix();
  const config = (staleAfter: string) =>
    testConfig({
      databaseUrl: db.url,
      prefix,
      coingeckoUrl: 'http://127.0.0.1:9/api/v3',
      env: { STALE_AFTER: staleAfter },
    });
  runtime = new Runtime(config('7m'), rootLogger, 'test');
  probeRedis = createRedis(TEST_REDIS_URL, 'fail-fast', `${prefix}:probe`);
  await db.pool.query(`
    insert into pipeline.pipeline_runs (run_id, trigger, started_at, finished_at, coins_planned, batches_planned, batches_fetched, batches_loaded, rows_loaded, status)
    values ('tstale', 'schedule', now() - interval '10 minutes', now() - interval '10 minutes', 2, 1, 1, 1, 2, 'loaded');
    insert into pipeline.pipeline_batches (run_id, batch_no, coin_ids, status, fetched_at, loaded_at, rows_loaded)
    values ('tstale', 0, '{bitcoin,ethereum}', 'loaded', now() - interval '10 minutes', now() - interval '10 minutes', 2);`);
  const silent = winston.createLogger({ silent: true });
  for (const staleAfter of ['7m', '20m']) {
    const app = createApp({
      config: config(staleAfter),
      pool: runtime.pool,
      redis: probeRedis,
      queues: (key: QueueKey) => runtime.queue(key),
      checkMigrations: async () => false,
      logger: silent,
    });
    const served = await serve(app);
    servers.push(served);
    urls[staleAfter] = served.url;
  }
});

afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
  await runtime?.close();
  probeRedis?.disconnect();
  await deletePrefix(prefix);
  await db?.drop();
});

it.each([
  ['7m', { staleAfterSeconds: 420, stale: true, trackedCoins: 2, staleCoins: 2 }],
  ['20m', { staleAfterSeconds: 1200, stale: false, trackedCoins: 2, staleCoins: 0 }],
])("with STALE_AFTER=%s, reports the pipeline page's freshness by it", async (staleAfter, expected) => {
  const { freshness } = (await call(`${urls[staleAfter]}/api/v1/pipeline/freshness`)).json();
  expect(freshness).toMatchObject(expected);
  expect(freshness.ageSeconds).toBeGreaterThanOrEqual(600);
});

it.each([
  ['7m', 420, 2],
  ['20m', 1200, 0],
])(
  'with STALE_AFTER=%s, exports the threshold and the stale coins judged by it',
  async (staleAfter, seconds, staleCoins) => {
    const { text } = await call(`${urls[staleAfter]}/metrics`);
    expect(text).toMatch(new RegExp(`^cdp_freshness_stale_after_seconds ${seconds}$`, 'm'));
    expect(text).toMatch(new RegExp(`^cdp_freshness_stale_coins ${staleCoins}$`, 'm'));
    expect(text).toMatch(/^cdp_freshness_tracked_coins 2$/m);
  },
);
