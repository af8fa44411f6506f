import express from 'express';
import { createApiRouter } from '../../dashboard/api/api-router.js';
import { markHistoryItemFailed, recordHistoryRun } from '../../core/history/history-ledger.js';
import { parseHistory } from '../../core/history/history-points.js';
import { storeHistory } from '../../core/history/store-history.js';
import { createTestDatabase, urlAsRole, type TestDatabase } from '../helpers/database.js';
import pg from 'pg';
import winston from 'winston';
import { chromium } from 'playwright-core';
import { createApp } from '../../dashboard/app.js';
import { Runtime } from '../../core/runtime.js';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../helpers/chromium.js';
import { testConfig } from '../helpers/config.js';
import { deletePrefix, testPrefix } from '../helpers/redis.js';
import { call, serve, type Served } from './http.js';

/**
 * GET /api/v1/pipeline/history: history runs as the ledger records them (through the same functions
 * the fetch workers use), read as the dashboard reads, with the reader role.
 */
let db: TestDatabase;
let reader: pg.Pool;
let served: Served;

const HOUR = 3_600_000;
const now = Date.now();

beforeAll(async () => {
  db = await createTestDatabase();
  reader = new pg.Pool({ connectionString: urlAsRole(db.url, 'cdp_reader'), max: 2 });
  const app = express();
  app.use(
    '/api/v1',
    createApiRouter({
      pool: reader,
      martsSchema: 'analytics_marts',
      staleAfterSeconds: 900,
      queues: [],
      timeoutMs: 2000,
    }),
  );
  served = await serve(app);

  await recordHistoryRun(db.pool, {
    historyRunId: 'b1',
    kind: 'backfill',
    vsCurrency: 'usd',
    fromMs: now - 48 * HOUR,
    toMs: now,
    coins: 3,
    requested: { argv: ['--days', '2'] },
    items: ['bitcoin', 'ethereum', 'no-such-coin'].map((coinId) => ({ coinId, fromMs: now - 48 * HOUR, toMs: now })),
  });
  const body = {
    prices: [
      [now - 2 * HOUR, 100],
      [now - HOUR, null],
      [now, 101],
    ],
    market_caps: [],
    total_volumes: [],
  };
  const span = { fromS: Math.floor((now - 48 * HOUR) / 1000), toS: Math.floor(now / 1000) };
  await storeHistory(
    db.pool,
    { historyRunId: 'b1', itemNo: 0, coinId: 'bitcoin', vsCurrency: 'usd' },
    parseHistory(body, span),
    200,
  );
  await markHistoryItemFailed(db.pool, 'b1', 2, 'GET /coins/no-such-coin/market_chart/range: HTTP 404: coin not found');
  await recordHistoryRun(db.pool, {
    historyRunId: 'i0',
    kind: 'initial',
    vsCurrency: 'usd',
    fromMs: now - 30 * 24 * HOUR,
    toMs: now - 24 * HOUR,
    coins: 0,
    requested: {},
    items: [],
  });
  await db.pool.query(
    `update pipeline.history_runs set created_at = now() - interval '1 hour' where history_run_id = 'i0'`,
  );
});
afterAll(async () => {
  await served?.close();
  await reader?.end();
  await db?.drop();
});

describe('GET /api/v1/pipeline/history', () => {
  it('lists the newest runs first with their calls, rows, rejects and failures', async () => {
    const reply = await call(`${served.url}/api/v1/pipeline/history`);
    expect(reply.status).toBe(200);
    const { historyRuns } = reply.json();
    expect(historyRuns.map((r: { historyRunId: string }) => r.historyRunId)).toEqual(['b1', 'i0']);
    expect(historyRuns[0]).toMatchObject({
      kind: 'backfill',
      status: 'running',
      coins: 3,
      calls: { total: 3, done: 1, failed: 1, pending: 1 },
      rowsStored: 2,
      pointsRejected: 1,
      failures: [
        { coinId: 'no-such-coin', error: 'GET /coins/no-such-coin/market_chart/range: HTTP 404: coin not found' },
      ],
    });
    // A run with nothing to fetch is done at once.
    expect(historyRuns[1]).toMatchObject({
      kind: 'initial',
      status: 'done',
      calls: { total: 0, done: 0, failed: 0, pending: 0 },
    });
  });

  it('takes a limit from 1 to 100', async () => {
    const one = await call(`${served.url}/api/v1/pipeline/history?limit=1`);
    expect(one.json().historyRuns).toHaveLength(1);
    const bad = await call(`${served.url}/api/v1/pipeline/history?limit=101`);
    expect(bad.status).toBe(400);
    expect(bad.json()).toEqual({ error: 'limit must be an integer from 1 to 100', parameter: 'limit' });
  });
});

describe('the Pipeline page', () => {
  it('lists the history runs with their progress and failures', async () => {
    const prefix = testPrefix();
    const config = testConfig({ databaseUrl: db.url, prefix, coingeckoUrl: 'http://127.0.0.1:9/api/v3' });
    const silent = winston.createLogger({ silent: true });
    const runtime = new Runtime(config, silent, 'dashboard');
    const app = await serve(
      createApp({
        config,
        pool: reader,
        redis: runtime.redis,
        queues: (key) => runtime.queue(key),
        checkMigrations: async () => false,
        logger: silent,
      }),
    );
    const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS });
    try {
      const page = await browser.newPage();
      await page.goto(`${app.url}/pipeline`);
      await page.waitForSelector('#history-runs tbody tr[data-status]', { timeout: 20_000 });
      const rows = await page.$$eval('#history-runs tbody tr', (trs) =>
        trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent ?? '')),
      );
      expect(rows).toHaveLength(2);
      expect(rows[0]!.slice(0, 3)).toEqual(['b1', 'backfill', 'running']);
      expect(rows[0]![5]).toBe('1/1/3');
      expect(rows[0]![8]).toContain(
        'no-such-coin: GET /coins/no-such-coin/market_chart/range: HTTP 404: coin not found',
      );
      expect(rows[1]!.slice(0, 3)).toEqual(['i0', 'initial', 'done']);
    } finally {
      await browser.close();
      await app.close();
      await runtime.close();
      await deletePrefix(prefix);
    }
  });
});
