import net from 'node:net';
import { Redis } from 'ioredis';
import pg from 'pg';
import winston from 'winston';
import type { Queue } from 'bullmq';
import express from 'express';
import { createApp } from '../../dashboard/app.js';
import { createBoardRouter } from '../../dashboard/http/board.js';
import { checkReadiness } from '../../dashboard/http/health.js';
import { migrationCheck } from '../../dashboard/http/migration-check.js';
import { QUEUE_STATES } from '../../dashboard/metrics/dashboard-metrics.js';
import { LIMIT_ERROR } from '../../dashboard/queries/run-queries.js';
import { BOARD_CSP } from '../../dashboard/http/security.js';
import { PAGE_CSP } from '../../dashboard/views/layout.js';
import type { AppConfig } from '../../core/config/index.js';
import { rootLogger } from '../../core/log/logger.js';
import { buildJob } from '../../core/queues/build-job.js';
import { createRedis } from '../../core/queues/redis.js';
import { QUEUE_KEYS, QUEUES } from '../../core/queues/registry.js';
import { Runtime } from '../../core/runtime.js';
import { testConfig } from '../helpers/config.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { TEST_REDIS_URL } from '../helpers/env.js';
import { deletePrefix, testPrefix } from '../helpers/redis.js';
import { waitFor } from '../helpers/wait-for.js';
import { basic, bodies, call, serve, type Served } from './http.js';

const USER = 'operator';
const SENTINEL_PASSWORD = 'sentinel-Pw-5a1d0c3e9b';
const MALICIOUS_RUN_ID = '<script>alert("x")</script>&';
const silent = winston.createLogger({ silent: true });

let db: TestDatabase;
let prefix: string;
let runtime: Runtime;
let probeRedis: Redis;
let authConfig: AppConfig;
let openConfig: AppConfig;
const servers: Served[] = [];
const closers: Array<() => Promise<unknown>> = [];
let authed: string;
let open: string;

function config(withCredentials: boolean): AppConfig {
  return testConfig({
    databaseUrl: db.url,
    prefix,
    coingeckoUrl: 'http://127.0.0.1:9/api/v3',
    env: withCredentials ? { DASHBOARD_USER: USER, DASHBOARD_PASSWORD: SENTINEL_PASSWORD } : {},
  });
}

async function start(app: express.Express): Promise<string> {
  const served = await serve(app);
  servers.push(served);
  return served.url;
}

async function freePort(): Promise<number> {
  const server = net.createServer().listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function seedRuns(): Promise<void> {
  await db.pool.query(
    `
    insert into pipeline.pipeline_runs
      (run_id, trigger, started_at, finished_at, coins_planned, batches_planned, batches_fetched, batches_loaded,
       batches_failed, rows_loaded, rows_duplicate, records_rejected, status, transform_status, error)
    values
      ('t1764230400000', 'schedule', '2026-11-27 08:00:00+00', '2026-11-27 08:00:12.5+00', 500, 2, 2, 2, 0, 500, 0, 0, 'loaded', 'succeeded', null),
      ('t1764230460000', 'schedule', '2026-11-27 08:01:00+00', '2026-11-27 08:01:20+00', 500, 2, 2, 1, 1, 250, 3, 4, 'partial', 'succeeded', 'batch 1: HTTP 404'),
      ($1, 'manual', '2026-11-27 08:02:00+00', null, 10, 1, 0, 0, 0, 0, 0, 0, 'running', 'pending', null)`,
    [MALICIOUS_RUN_ID],
  );
}

beforeAll(async () => {
  db = await createTestDatabase();
  prefix = testPrefix();
  authConfig = config(true);
  openConfig = config(false);
  runtime = new Runtime(authConfig, rootLogger, 'test');
  probeRedis = createRedis(TEST_REDIS_URL, 'fail-fast', 'cdp:test:probe');
  await seedRuns();

  for (const batchNo of [0, 1]) {
    const fetch = buildJob('fetch', authConfig, {
      data: { runId: 't1764230400000', batchNo, request: { endpoint: 'coins-list' } },
    });
    await runtime.queue('fetch').add(fetch.name, fetch.data, fetch.opts);
  }
  const load = buildJob('load', authConfig, {
    data: { runId: 't1764230400000', batchNo: 0, vsCurrency: 'usd' },
    opts: { delay: 600_000 },
  });
  await runtime.queue('load').add(load.name, load.data, load.opts);

  const common = {
    pool: runtime.pool,
    redis: probeRedis,
    queues: (key: keyof typeof QUEUES) => runtime.queue(key),
    logger: silent,
  };
  const migrations = migrationCheck(db.url);
  closers.push(() => migrations.close());
  authed = await start(createApp({ ...common, config: authConfig, checkMigrations: migrations.pending }));
  open = await start(createApp({ ...common, config: openConfig, checkMigrations: async () => false }));
});

afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
  for (const close of closers) await close().catch(() => undefined);
  await runtime?.close();
  probeRedis?.disconnect();
  await deletePrefix(prefix);
  await db?.drop();
});

describe('health probes', () => {
  it('answers /healthz while the process is alive', async () => {
    const reply = await call(`${authed}/healthz`);
    expect(reply.status).toBe(200);
    expect(reply.json()).toEqual({ status: 'ok' });
  });

  it('is ready when Postgres and Redis answer and no migration is pending', async () => {
    const reply = await call(`${authed}/readyz`);
    expect(reply.status).toBe(200);
    const body = reply.json();
    expect(body.status).toBe('ready');
    expect(Object.keys(body.checks).sort()).toEqual(['migrations', 'postgres', 'redis']);
    for (const check of Object.values<{ ok: boolean }>(body.checks)) expect(check.ok).toBe(true);
  });

  it('answers 503 naming each failed check, within the timeout, when dependencies are down or stalled', async () => {
    const gone = await createTestDatabase();
    const deadPool = new pg.Pool({ connectionString: gone.url, max: 1 });
    deadPool.on('error', () => undefined);
    await gone.drop();
    // Options of createRedis(url, 'fail-fast'), with a short disconnectTimeout: ioredis otherwise keeps a
    // 2 s timer for the refused socket after disconnect() and jest reports an open handle.
    const deadRedis = new Redis(`redis://127.0.0.1:${await freePort()}`, {
      maxRetriesPerRequest: 1,
      enableOfflineQueue: false,
      disconnectTimeout: 20,
    });
    deadRedis.on('error', () => undefined);
    const brokenServer = await serve(
      createApp({
        config: openConfig,
        pool: deadPool,
        redis: deadRedis,
        queues: (key) => runtime.queue(key),
        checkMigrations: () => new Promise<boolean>(() => undefined), // stalls forever
        timeoutMs: 300,
        logger: silent,
      }),
    );
    const broken = brokenServer.url;
    try {
      const started = Date.now();
      const reply = await call(`${broken}/readyz`);
      expect(Date.now() - started).toBeLessThan(2000);
      expect(reply.status).toBe(503);
      const body = reply.json();
      expect(body.status).toBe('unavailable');
      expect(body.checks.postgres).toMatchObject({ ok: false, reason: 'failed (3D000)' });
      expect(body.checks.redis).toMatchObject({ ok: false });
      expect(body.checks.migrations).toMatchObject({ ok: false, reason: 'timed out after 300ms' });
      expect(reply.text).not.toContain(gone.name);
      expect(reply.text).not.toContain('127.0.0.1');

      // The same broken database behind the other routes: a bare 500, and a coin page that says so.
      const runs = await call(`${broken}/api/v1/runs`);
      expect(runs.status).toBe(500);
      expect(runs.json()).toEqual({ error: 'internal error' });
      const page = await call(`${broken}/coins/bitcoin`);
      expect(page.status).toBe(503);
      expect(page.text).toContain('Market data is unavailable');
      expect(page.text).not.toContain(gone.name);
    } finally {
      await brokenServer.close();
      deadRedis.disconnect();
      await deadPool.end();
    }
  });

  it('waits for a fail-fast Redis client that is still making its first connection', async () => {
    const fresh = createRedis(TEST_REDIS_URL, 'fail-fast', 'cdp:test:fresh');
    try {
      expect(fresh.status).toBe('connecting');
      const readiness = await checkReadiness({
        pool: runtime.pool,
        redis: fresh,
        pendingMigrations: async () => false,
        timeoutMs: 2000,
      });
      expect(readiness.checks.redis).toMatchObject({ ok: true });
    } finally {
      fresh.disconnect();
    }
  });

  it('answers 503 while a migration is pending', async () => {
    const pending = await start(
      createApp({
        config: openConfig,
        pool: runtime.pool,
        redis: probeRedis,
        queues: (key) => runtime.queue(key),
        checkMigrations: async () => true,
        logger: silent,
      }),
    );
    const reply = await call(`${pending}/readyz`);
    expect(reply.status).toBe(503);
    const { checks } = reply.json();
    expect(checks.postgres.ok).toBe(true);
    expect(checks.redis.ok).toBe(true);
    expect(checks.migrations).toMatchObject({ ok: false, reason: 'migrations pending' });
  });
});

describe('/metrics', () => {
  it('reports every registry queue in every state with the right counts', async () => {
    const reply = await call(`${open}/metrics`);
    expect(reply.status).toBe(200);
    expect(reply.headers.get('content-type')).toMatch(/^text\/plain/);
    for (const key of QUEUE_KEYS) {
      for (const state of QUEUE_STATES)
        expect(reply.text).toMatch(
          new RegExp(`^cdp_queue_jobs\\{queue="${QUEUES[key].name}",state="${state}"\\} \\d+$`, 'm'),
        );
    }
    expect(reply.text).toContain('cdp_queue_jobs{queue="fetch",state="waiting"} 2');
    expect(reply.text).toContain('cdp_queue_jobs{queue="load",state="delayed"} 1');
    expect(reply.text).toContain('cdp_queue_jobs{queue="tick",state="waiting"} 0');
    // The shared process registry is served too (default metrics, core job metrics).
    expect(reply.text).toContain('process_cpu_user_seconds_total');
    expect(reply.text).toContain('# TYPE cdp_jobs_total counter');
  });

  it('times requests by method, matched route pattern and status, never the raw URL', async () => {
    await call(`${open}/api/v1/runs?limit=2`);
    await call(`${open}/api/v1/nope/123`);
    await call(`${open}/queues/api/queues`);
    const text = await waitFor(
      'the requests to be observed',
      async () => {
        const { text } = await call(`${open}/metrics`);
        return text.includes('route="/queues/api"') ? text : undefined;
      },
      5000,
    );
    expect(text).toMatch(
      /^cdp_http_request_duration_seconds_count\{method="GET",route="\/api\/v1\/runs",status="200"\} [1-9]\d*$/m,
    );
    expect(text).toMatch(
      /^cdp_http_request_duration_seconds_bucket\{le="0\.1",method="GET",route="\/api\/v1\/runs",status="200"\} \d+$/m,
    );
    expect(text).toMatch(
      /^cdp_http_request_duration_seconds_count\{method="GET",route="unmatched",status="404"\} [1-9]\d*$/m,
    );
    expect(text).toMatch(
      /^cdp_http_request_duration_seconds_count\{method="GET",route="\/queues\/api",status="200"\} [1-9]\d*$/m,
    );
    expect(text).not.toContain('limit=2');
    expect(text).not.toContain('nope');
  });
});

describe('Bull Board with credentials', () => {
  it('refuses requests without credentials with a Basic challenge', async () => {
    for (const path of ['/queues', '/queues/api/queues']) {
      const reply = await call(`${authed}${path}`);
      expect(reply.status).toBe(401);
      expect(reply.headers.get('www-authenticate')).toBe('Basic realm="cdp"');
    }
  });

  it('refuses a wrong password, a wrong user and a malformed header', async () => {
    for (const headers of [
      basic(USER, 'wrong-password-123'),
      basic('someone', SENTINEL_PASSWORD),
      basic(USER, `${SENTINEL_PASSWORD}x`),
      { authorization: 'Basic !!!' },
      { authorization: `Bearer ${SENTINEL_PASSWORD}` },
    ]) {
      const reply = await call(`${authed}/queues/api/queues`, { headers });
      expect(reply.status).toBe(401);
      expect(reply.headers.get('www-authenticate')).toBe('Basic realm="cdp"');
    }
  });

  it('lists every registry queue, with its description, to an authenticated user', async () => {
    const reply = await call(`${authed}/queues/api/queues`, { headers: basic(USER, SENTINEL_PASSWORD) });
    expect(reply.status).toBe(200);
    const { queues } = reply.json<{
      queues: Array<{ name: string; description: string; readOnlyMode: boolean; counts: Record<string, number> }>;
    }>();
    expect(queues.map((q) => q.name)).toEqual(QUEUE_KEYS.map((key) => QUEUES[key].name));
    for (const queue of queues) {
      expect(queue.description).toBe(Object.values(QUEUES).find((q) => q.name === queue.name)!.description);
      expect(queue.readOnlyMode).toBe(false);
    }
    expect(queues.find((q) => q.name === 'fetch')!.counts.waiting).toBe(2);

    const ui = await call(`${authed}/queues`, { headers: basic(USER, SENTINEL_PASSWORD) });
    expect(ui.status).toBe(200);
    expect(ui.text).toContain('<base href="/queues/"');
    expect(ui.text).toContain('<title>CDP queues</title>');
  });

  it('lets an authenticated same-origin request act, and refuses a cross-origin one', async () => {
    const retry = await call(`${authed}/queues/api/queues/fetch/retry/failed`, {
      method: 'PUT',
      headers: basic(USER, SENTINEL_PASSWORD),
    });
    expect(retry.status).toBe(200);
    const forged = await call(`${authed}/queues/api/queues/fetch/retry/failed`, {
      method: 'PUT',
      headers: { ...basic(USER, SENTINEL_PASSWORD), origin: 'https://evil.example' },
    });
    expect(forged.status).toBe(403);
  });
});

describe('Bull Board without credentials', () => {
  it('is open but read-only, and says so', async () => {
    const reply = await call(`${open}/queues/api/queues`);
    expect(reply.status).toBe(200);
    const { queues } = reply.json<{ queues: Array<{ name: string; readOnlyMode: boolean; allowRetries: boolean }> }>();
    expect(queues.map((q) => q.name)).toEqual(QUEUE_KEYS.map((key) => QUEUES[key].name));
    for (const queue of queues) expect(queue).toMatchObject({ readOnlyMode: true, allowRetries: false });
    const ui = await call(`${open}/queues`);
    expect(ui.status).toBe(200);
    expect(ui.text).toContain('<title>CDP queues (read-only)</title>');
  });

  it('refuses mutating calls', async () => {
    for (const [method, path] of [
      ['PUT', '/queues/api/queues/fetch/retry/failed'],
      ['PUT', '/queues/api/queues/fetch/obliterate'],
      ['PUT', '/queues/api/queues/pause'],
      ['POST', '/queues/api/queues/fetch/add'],
    ] as const) {
      const reply = await call(`${open}${path}`, {
        method,
        headers: { 'content-type': 'application/json' },
        body: '{"name":"x","data":{}}',
      });
      expect(reply.status).toBe(405);
    }
    expect(await runtime.queue('fetch').getJobCounts('waiting')).toEqual({ waiting: 2 });
    expect(await runtime.queue('fetch').isPaused()).toBe(false);
  });

  it('has adapters that refuse actions themselves, whatever sits in front of them', async () => {
    const bare = express();
    bare.use(
      '/queues',
      createBoardRouter({
        queues: QUEUE_KEYS.map((key) => ({ key, queue: runtime.queue(key) })),
        basePath: '/queues',
        readOnly: true,
        onError: () => undefined,
      }),
    );
    const url = await start(bare);
    const reply = await call(`${url}/queues/api/queues/fetch/retry/failed`, { method: 'PUT' });
    expect(reply.status).toBe(405);
    expect(reply.json().error).toEqual({ key: 'ERRORS.QUEUE_READ_ONLY' });
  });
});

describe('GET /api/v1/runs', () => {
  it('returns runs newest first with camelCase fields', async () => {
    const reply = await call(`${open}/api/v1/runs`);
    expect(reply.status).toBe(200);
    const { runs } = reply.json();
    expect(runs.map((r: { runId: string }) => r.runId)).toEqual([MALICIOUS_RUN_ID, 't1764230460000', 't1764230400000']);
    expect(runs[1]).toMatchObject({
      runId: 't1764230460000',
      trigger: 'schedule',
      status: 'partial',
      startedAt: '2026-11-27T08:01:00.000Z',
      finishedAt: '2026-11-27T08:01:20.000Z',
      durationMs: 20_000,
      batchesPlanned: 2,
      batchesLoaded: 1,
      batchesFailed: 1,
      rowsLoaded: 250,
      rowsDuplicate: 3,
      recordsRejected: 4,
      transformStatus: 'succeeded',
      error: 'batch 1: HTTP 404',
    });
    expect(runs[0].durationMs).toBeNull();
    expect(Object.keys(runs[0]).every((k) => !k.includes('_'))).toBe(true);
  });

  it('honours limit', async () => {
    const reply = await call(`${open}/api/v1/runs?limit=1`);
    expect(reply.json().runs.map((r: { runId: string }) => r.runId)).toEqual([MALICIOUS_RUN_ID]);
    expect((await call(`${open}/api/v1/runs?limit=500`)).status).toBe(200);
  });

  it.each(['0', '501', '-1', '1.5', 'abc', '', '1e2', '10&limit=20', '99999999999999999999'])(
    'refuses limit=%s with 400',
    async (limit) => {
      const reply = await call(`${open}/api/v1/runs?limit=${limit}`);
      expect(reply.status).toBe(400);
      expect(reply.json()).toEqual({ error: LIMIT_ERROR, parameter: 'limit' });
      expect(LIMIT_ERROR).toBe('limit must be an integer from 1 to 500');
    },
  );
});

describe('pages', () => {
  it.each(['/', '/pipeline'])(
    '%s is a frame with navigation, a phone viewport and only same-origin scripts',
    async (path) => {
      const reply = await call(`${open}${path}`);
      expect(reply.status).toBe(200);
      expect(reply.headers.get('content-type')).toMatch(/^text\/html/);
      expect(reply.text).toMatch(/<title>[^<]+ · Crypto Data Pipeline<\/title>/);
      expect(reply.text).toContain('<meta name="viewport" content="width=device-width, initial-scale=1">');
      for (const href of ['/', '/pipeline', '/queues', '/metrics']) expect(reply.text).toContain(`href="${href}"`);
      expect(reply.text).toContain('id="last-updated"');
      // Every script is a file of this origin; no inline code, nothing from elsewhere.
      expect(reply.text.match(/<script[^>]*>/g)!.every((tag) => / src="\/assets\//.test(tag))).toBe(true);
      // Nothing from elsewhere: the one absolute URL is the chart licence's attribution link (a link, not a load).
      expect(reply.text.replaceAll('<a href="https://www.tradingview.com/" rel="noopener">', '')).not.toMatch(
        /https?:\/\//,
      );
      const csp = reply.headers.get('content-security-policy')!;
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("default-src 'none'");
      expect(csp).not.toContain('unsafe-inline');
    },
  );

  it('serves the client modules, the stylesheet and the chart library from this origin', async () => {
    for (const [path, type] of [
      ['/assets/js/market-page.js', /javascript/],
      ['/assets/app.css', /css/],
      ['/assets/vendor/lightweight-charts.js', /javascript/],
    ] as const) {
      const reply = await call(`${open}${path}`);
      expect({ path, status: reply.status }).toEqual({ path, status: 200 });
      expect(reply.headers.get('content-type')).toMatch(type);
    }
    expect((await call(`${open}/assets/js/nope.js`)).status).toBe(404);
    expect((await call(`${open}/assets/js/../app.js`)).status).toBe(404);
  });

  it('answers a malformed coin id with 400 and, before any transform has run, market data with 503', async () => {
    expect((await call(`${open}/coins/Not%20A%20Coin`)).status).toBe(400);
    expect((await call(`${open}/coins/bitcoin`)).status).toBe(503);
    const api = await call(`${open}/api/v1/coins`);
    expect(api.status).toBe(503);
    expect(api.json()).toEqual({ error: 'market data is not built yet: no transform has run' });
  });
});

describe('HTTP hygiene', () => {
  it('sends security headers on every kind of response', async () => {
    for (const path of [
      '/',
      '/healthz',
      '/readyz',
      '/metrics',
      '/api/v1/runs',
      '/api/unknown',
      '/nowhere',
      '/queues',
      '/queues/api/queues',
    ]) {
      const reply = await call(`${open}${path}`);
      expect({ path, nosniff: reply.headers.get('x-content-type-options') }).toEqual({ path, nosniff: 'nosniff' });
      expect(reply.headers.get('x-frame-options')).toBe('DENY');
      expect(reply.headers.get('referrer-policy')).toBe('no-referrer');
      expect(reply.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
      expect(reply.headers.get('x-powered-by')).toBeNull();
    }
  });

  it("sends exactly the security headers it always sent, and none of helmet's other defaults", async () => {
    const SAME = {
      'x-content-type-options': 'nosniff',
      'x-frame-options': 'DENY',
      'referrer-policy': 'no-referrer',
      'cross-origin-opener-policy': 'same-origin',
      'cross-origin-resource-policy': 'same-origin',
    };
    const NEVER = [
      'strict-transport-security',
      'origin-agent-cluster',
      'x-dns-prefetch-control',
      'x-download-options',
      'x-permitted-cross-domain-policies',
      'x-xss-protection',
      'cross-origin-embedder-policy',
      'content-security-policy-report-only',
      'x-powered-by',
    ];
    for (const path of [
      '/',
      '/healthz',
      '/metrics',
      '/api/v1/runs',
      '/api/v1/coins',
      '/api/unknown',
      '/nowhere',
      '/assets/app.css',
      '/queues',
      '/queues/api/queues',
    ]) {
      const { headers } = await call(`${open}${path}`);
      expect({ path, ...Object.fromEntries(Object.keys(SAME).map((name) => [name, headers.get(name)])) }).toEqual({
        path,
        ...SAME,
      });
      expect({ path, extra: NEVER.filter((name) => headers.has(name)) }).toEqual({ path, extra: [] });
    }
    // JSON and text: the same four directives as ever. Helmet separates them with ";" where the
    // hand-written header had "; "; a CSP parser splits on ";" and trims, so the policy is the same.
    for (const path of [
      '/healthz',
      '/metrics',
      '/api/v1/runs',
      '/api/v1/coins',
      '/api/unknown',
      '/nowhere',
      '/assets/app.css',
    ]) {
      const csp = (await call(`${open}${path}`)).headers.get('content-security-policy')!;
      expect({ path, csp: csp.split(';').map((directive) => directive.trim()) }).toEqual({
        path,
        csp: ["default-src 'none'", "frame-ancestors 'none'", "base-uri 'none'", "form-action 'none'"],
      });
    }
    // Pages and the board replace it with their own.
    expect((await call(`${open}/pipeline`)).headers.get('content-security-policy')).toBe(PAGE_CSP);
    expect((await call(`${open}/queues`)).headers.get('content-security-policy')).toBe(BOARD_CSP);
  });

  it('answers unknown /api/ paths with a JSON 404', async () => {
    const reply = await call(`${open}/api/v2/runs`);
    expect(reply.status).toBe(404);
    expect(reply.json()).toEqual({ error: 'not found' });
  });

  it('answers malformed and oversized JSON bodies with a short JSON error and no stack', async () => {
    const malformed = await call(`${open}/api/v1/runs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"oops',
    });
    expect(malformed.status).toBe(400);
    expect(Object.keys(malformed.json())).toEqual(['error']);
    const big = await call(`${open}/api/v1/runs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ x: 'y'.repeat(150_000) }),
    });
    expect(big.status).toBe(413);
    expect(big.json()).toEqual({ error: 'request entity too large' });
    for (const reply of [malformed, big]) expect(reply.text).not.toMatch(/\bat .*\(|node_modules|\.js:\d+/);
  });

  it('refuses queues that do not match the registry or the pipeline prefix', () => {
    const fake = (name: string, queuePrefix: string) =>
      ({ name, opts: { prefix: queuePrefix, streams: { events: { maxLen: 2000 } } } }) as unknown as Queue;
    const base = {
      config: openConfig,
      pool: runtime.pool,
      redis: probeRedis,
      checkMigrations: async () => false,
      logger: silent,
    };
    expect(() => createApp({ ...base, queues: (key) => fake(QUEUES[key].name, 'bull') })).toThrow(/prefix/);
    expect(() => createApp({ ...base, queues: [fake('tick', prefix)] })).toThrow(/no queue for registry entry/);
    expect(() =>
      createApp({ ...base, queues: [...QUEUE_KEYS.map((k) => fake(QUEUES[k].name, prefix)), fake('extra', prefix)] }),
    ).toThrow(/not in the registry/);
  });

  it('never puts the dashboard password or a connection string in a response body', () => {
    expect(bodies.length).toBeGreaterThan(30);
    for (const body of bodies) {
      expect(body).not.toContain(SENTINEL_PASSWORD);
      expect(body).not.toContain(db.url);
      expect(body).not.toContain(TEST_REDIS_URL);
    }
  });
});
