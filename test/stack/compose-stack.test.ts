/**
 * compose.yaml brought up for real: images built on this machine (scripts/stack/test-stack.sh builds
 * the stand-in base images and the runtime image first), driven only through ports published on
 * 127.0.0.1 and `docker exec`. Grafana and the dbt image cannot be built here (no package for
 * either): Grafana is not started and the transform worker runs the runtime image with
 * TRANSFORM_RUNNER=bundled, the Node runner that executes the same dbt project.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { busiestWindow } from '../helpers/busiest-window.js';
import { COINS, docker, eventually, IMAGE_TAG, PROJECT, ROOT, Stack, writeStackFiles } from './compose-stack.js';

const SERVICES = [
  'postgres',
  'redis',
  'simulator',
  'migrate',
  'scheduler',
  'fetch-worker',
  'load-worker',
  'transform-worker',
  'dashboard',
  'prometheus',
];
const LONG_RUNNING = SERVICES.filter((s) => s !== 'migrate');
/** The role compose.yaml gives each process kind's DATABASE_URL. */
const ROLE_OF: Record<string, string> = {
  scheduler: 'cdp_loader',
  'fetch-worker': 'cdp_loader',
  'load-worker': 'cdp_loader',
  'transform-worker': 'cdp_transformer',
  dashboard: 'cdp_reader',
};
const RATE_LIMIT_PER_MIN = 30; // the demo plan's, which compose.yaml's default plan gives the fetch workers

const dir = mkdtempSync(join(tmpdir(), 'cdp-stack-'));
const stack = new Stack(writeStackFiles(dir));
const basicAuth = `Basic ${Buffer.from(`admin:${stack.files.env.DASHBOARD_PASSWORD}`).toString('base64')}`;
let dashboard = '';
let simulator = '';
let prometheus = '';

interface Run {
  run_id: string;
  trigger: string;
  status: string;
  transform_status: string;
  coins_planned: number;
  rows_loaded: number;
  rows_duplicate: number;
}

async function runs(where = 'true'): Promise<Run[]> {
  const rows = await stack.sql(
    `select run_id, trigger, status, transform_status, coins_planned, rows_loaded, rows_duplicate from pipeline.pipeline_runs where ${where} order by started_at`,
  );
  return rows.map(([run_id, trigger, status, transform_status, coins, loaded, dup]) => ({
    run_id: run_id!,
    trigger: trigger!,
    status: status!,
    transform_status: transform_status!,
    coins_planned: Number(coins),
    rows_loaded: Number(loaded),
    rows_duplicate: Number(dup),
  }));
}

const rawRows = async () => Number(await stack.scalar('select count(*) from raw.coin_market_snapshots'));

/** Waits for every run started so far to finish, and returns them. */
async function settledRuns(): Promise<Run[]> {
  const cutoff = await stack.scalar('select now()');
  await eventually(
    'every run started so far to finish',
    300_000,
    async () => {
      const open = await runs(`started_at <= '${cutoff}' and finished_at is null`);
      if (open.length > 0) throw new Error(`${open.length} still running`);
      return true;
    },
    2000,
  );
  return runs(`started_at <= '${cutoff}'`);
}

/**
 * Every run so far finished loaded, each of its coins once: stored by it, or already stored (the
 * same observation fetched again), and what each run stored is exactly what it counted.
 */
async function expectNothingLostOrDoubled(): Promise<Run[]> {
  const settled = await settledRuns();
  expect(settled.filter((r) => r.status !== 'loaded')).toEqual([]);
  for (const r of settled)
    expect({ run: r.run_id, rows: r.rows_loaded + r.rows_duplicate }).toEqual({ run: r.run_id, rows: r.coins_planned });
  const stored = new Map(
    (await stack.sql('select run_id, count(*) from raw.coin_market_snapshots group by run_id')).map(([id, n]) => [
      id!,
      Number(n),
    ]),
  );
  for (const r of settled)
    expect({ run: r.run_id, stored: stored.get(r.run_id) ?? 0 }).toEqual({ run: r.run_id, stored: r.rows_loaded });
  // The primary key makes a stored duplicate impossible; say so from the data too.
  expect(
    Number(
      await stack.scalar('select count(*) - count(distinct (coin_id, last_updated)) from raw.coin_market_snapshots'),
    ),
  ).toBe(0);
  return settled;
}

async function waitHealthy(services: readonly string[], timeoutMs: number): Promise<void> {
  await eventually(
    `healthy ${services.join(', ')}`,
    timeoutMs,
    async () => {
      const states: string[] = [];
      for (const service of services) {
        const ids = await stack.containers(service, false);
        if (ids.length === 0) states.push(`${service}: no container`);
        for (const id of ids) {
          const health = await stack.inspect<{ Status: string } | null>(id, '.State.Health');
          if (health?.Status !== 'healthy') states.push(`${service}: ${health?.Status ?? 'no healthcheck'}`);
        }
      }
      if (states.length > 0) throw new Error(states.join('; '));
      return true;
    },
    2000,
  );
}

async function get(path: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${dashboard}${path}`, { headers, signal: AbortSignal.timeout(15_000) });
}

async function fetchActive(): Promise<number> {
  const { stdout } = await docker(['exec', await stack.container('redis'), 'redis-cli', 'LLEN', 'cdp:fetch:active']);
  return Number(stdout.trim());
}

async function setFaults(patch: Record<string, unknown>): Promise<void> {
  const res = await fetch(`${simulator}/__sim/faults`, {
    method: 'POST',
    body: JSON.stringify(patch),
    headers: { 'content-type': 'application/json' },
  });
  expect(res.status).toBe(200);
}

beforeAll(async () => {
  const { stdout } = await docker(['image', 'inspect', '-f', '{{.Id}}', `crypto-data-pipeline:${IMAGE_TAG}`]).catch(
    () => ({ stdout: '' }),
  );
  if (!stdout.trim())
    throw new Error(
      `image crypto-data-pipeline:${IMAGE_TAG} is missing: run the stack test through scripts/stack/test-stack.sh (make test)`,
    );
  process.stdout.write(
    `stack test: project ${PROJECT}; grafana and the dbt image are not run here (no package for either); the transform worker runs TRANSFORM_RUNNER=bundled on the runtime image\n`,
  );
  await stack.compose(['up', '-d', '--no-build', ...SERVICES]);
}, 600_000);

afterAll(async () => {
  await stack
    .compose(['down', '-v', '--remove-orphans', '--timeout', '5'])
    .catch((error: unknown) => process.stderr.write(`down -v failed: ${String(error)}\n`));
  rmSync(dir, { recursive: true, force: true });
}, 300_000);

describe('the compose stack, as a user brings it up', () => {
  it('gets every service healthy, runs migrate once to success, and publishes on 127.0.0.1 only', async () => {
    await waitHealthy(LONG_RUNNING, 240_000);
    const migrate = await stack.container('migrate');
    expect(await stack.inspect(migrate, '.State.Status')).toBe('exited');
    expect(await stack.inspect(migrate, '.State.ExitCode')).toBe(0);
    dashboard = await stack.url('dashboard', 3000);
    simulator = await stack.url('simulator', 8484);
    prometheus = await stack.url('prometheus', 9090);
  }, 300_000);

  it('has applied every migration of the image', async () => {
    const files = readdirSync(join(ROOT, 'core/db/migrations')).filter((f) => /^\d+-.*\.ts$/.test(f));
    const applied = await stack.sql('select name from typeorm_migrations order by id');
    expect(applied).toHaveLength(files.length);
  });

  it('lands ticks: each loads every tracked coin once, and the dbt project builds the marts', async () => {
    await eventually(
      'three transformed ticks',
      240_000,
      async () => {
        const done = await runs(`status = 'loaded' and transform_status = 'succeeded'`);
        return done.length >= 3 ? done : undefined;
      },
      2000,
    );
    const ticks = await expectNothingLostOrDoubled();
    expect(ticks.length).toBeGreaterThanOrEqual(3);
    // coins x ticks observations, each stored once: a coin whose last_updated had not moved since
    // the tick before is that same observation again (rows_duplicate), not a new row.
    expect(ticks.reduce((n, r) => n + r.rows_loaded + r.rows_duplicate, 0)).toBe(COINS * ticks.length);
    expect(await rawRows()).toBe(ticks.reduce((n, r) => n + r.rows_loaded, 0));
    expect(Number(await stack.scalar('select count(distinct coin_id) from raw.coin_market_snapshots'))).toBe(COINS);
    expect(Number(await stack.scalar('select count(*) from analytics_marts.dim_coins'))).toBe(COINS);
    expect(
      Number(await stack.scalar('select count(*) from analytics_marts.fct_coin_candles_hourly')),
    ).toBeGreaterThanOrEqual(COINS);
    expect(
      Number(await stack.scalar('select count(*) from analytics_marts.fct_market_overview_hourly')),
    ).toBeGreaterThan(0);
  }, 300_000);

  it('serves the dashboard pages and /api/v1, is ready, and keeps Bull Board behind its login', async () => {
    for (const page of ['/', '/pipeline', '/coins/bitcoin']) {
      const res = await get(page);
      expect({ page, status: res.status, type: res.headers.get('content-type') }).toEqual({
        page,
        status: 200,
        type: expect.stringContaining('text/html'),
      });
    }
    for (const api of [
      '/api/v1/market/overview',
      '/api/v1/coins',
      '/api/v1/coins/bitcoin/candles',
      '/api/v1/runs',
      '/api/v1/pipeline/freshness',
    ]) {
      const res = await get(api);
      expect({ api, status: res.status }).toEqual({ api, status: 200 });
      await res.json();
    }
    const ready = await get('/readyz');
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'ready' });
    expect((await get('/queues')).status).toBe(401);
    expect((await get('/queues', { authorization: basicAuth })).status).toBe(200);
  }, 60_000);

  it('connects each process kind to Postgres as the role compose.yaml gives it', async () => {
    const ipOf = new Map<string, string>();
    for (const service of Object.keys(ROLE_OF)) {
      for (const id of await stack.containers(service, false)) {
        const networks = await stack.inspect<Record<string, { IPAddress: string }>>(id, '.NetworkSettings.Networks');
        for (const n of Object.values(networks)) ipOf.set(n.IPAddress, service);
      }
    }
    const seen = new Map<string, Set<string>>();
    await eventually(
      'a connection from every process kind',
      120_000,
      async () => {
        await get('/api/v1/coins?limit=5'); // the dashboard's pool connects on demand
        const rows = await stack.sql(
          `select host(client_addr), usename from pg_stat_activity where datname = 'crypto_pipeline' and client_addr is not null`,
        );
        for (const [ip, role] of rows) {
          const service = ipOf.get(ip!);
          if (service) seen.set(service, (seen.get(service) ?? new Set()).add(role!));
        }
        return Object.keys(ROLE_OF).every((s) => seen.has(s)) ? true : undefined;
      },
      1000,
    );
    for (const [service, roles] of seen)
      expect({ service, roles: [...roles] }).toEqual({ service, roles: [ROLE_OF[service]] });
  }, 150_000);

  it('runs every container as a non-root user', async () => {
    for (const service of LONG_RUNNING) {
      for (const id of await stack.containers(service, false)) {
        const { stdout } = await docker(['exec', id, 'cat', '/proc/1/status']);
        const uid = /^Uid:\s+(\d+)/m.exec(stdout)?.[1];
        expect({ service, uid }).toEqual({ service, uid: expect.not.stringMatching(/^0$/) });
      }
    }
    const sizes = [];
    for (const image of [`crypto-data-pipeline:${IMAGE_TAG}`, 'postgres:15', 'redis:7', 'prom/prometheus:v2.53.2']) {
      const size = Number((await docker(['image', 'inspect', '-f', '{{.Size}}', image])).stdout.trim());
      sizes.push(`${image} ${(size / 1e6).toFixed(0)} MB`);
    }
    process.stdout.write(`stack test: image sizes: ${sizes.join(', ')}\n`);
  }, 60_000);

  it('stops a fetch worker mid-job within stop_grace_period, exit code 0, and hands its job back', async () => {
    // Calls hang 60 s (longer than SHUTDOWN_TIMEOUT, 25 s), so the job is still running at the stop.
    await setFaults({ latencyMs: 60_000 });
    try {
      await eventually('an active fetch job', 120_000, async () => ((await fetchActive()) > 0 ? true : undefined), 500);
      const worker = await stack.container('fetch-worker');
      const started = Date.now();
      await docker(['stop', worker], 120_000);
      const elapsedMs = Date.now() - started;
      expect(elapsedMs).toBeLessThan(40_000); // compose.yaml's stop_grace_period
      expect(await stack.inspect(worker, '.State.ExitCode')).toBe(0);
      const { stdout, stderr } = await docker(['logs', worker]);
      const log = stdout + stderr;
      expect(log).toContain('job handed back at shutdown');
      expect(log).toContain('were handed back');
    } finally {
      await setFaults({ latencyMs: 0 });
    }
    await docker(['start', await stack.container('fetch-worker')]);
    await waitHealthy(['fetch-worker'], 120_000);
    // The handed-back job runs again, and its tick completes.
    await expectNothingLostOrDoubled();
  }, 600_000);

  it('scales out: Prometheus scrapes every replica, and the rate limit holds across them', async () => {
    await stack.compose([
      'up',
      '-d',
      '--no-build',
      '--scale',
      'fetch-worker=3',
      '--scale',
      'load-worker=2',
      ...SERVICES,
    ]);
    await waitHealthy(LONG_RUNNING, 180_000);
    expect(await stack.containers('fetch-worker', false)).toHaveLength(3);
    expect(await stack.containers('load-worker', false)).toHaveLength(2);
    const expected: Record<string, number> = {
      scheduler: 1,
      'fetch-worker': 3,
      'load-worker': 2,
      'transform-worker': 1,
      dashboard: 1,
    };
    await eventually(
      'every replica scraped and up',
      120_000,
      async () => {
        const body = (await (await fetch(`${prometheus}/api/v1/targets?state=active`)).json()) as {
          data: { activeTargets: { labels: { job: string }; health: string }[] };
        };
        const up: Record<string, number> = {};
        for (const t of body.data.activeTargets) if (t.health === 'up') up[t.labels.job] = (up[t.labels.job] ?? 0) + 1;
        const all = body.data.activeTargets.length;
        const total = Object.values(expected).reduce((a, b) => a + b, 0);
        if (all !== total || Object.entries(expected).some(([job, n]) => up[job] !== n))
          throw new Error(`targets up: ${JSON.stringify(up)} of ${all}`);
        return true;
      },
      3000,
    );

    // More calls than the limit allows in a minute: ten manual ticks at once on top of the schedule.
    const since = Date.now();
    await docker(
      [
        'exec',
        await stack.container('scheduler'),
        'sh',
        '-c',
        'for i in 1 2 3 4 5 6 7 8 9 10; do node dist/scripts/tick.js --timeout 0 >/dev/null 2>&1 & done; wait',
      ],
      120_000,
    );
    await eventually(
      'the manual ticks loaded',
      300_000,
      async () => {
        const manual = await runs(`trigger = 'manual'`);
        return manual.length === 10 && manual.every((r) => r.status === 'loaded') ? true : undefined;
      },
      3000,
    );
    const calls = (await (await fetch(`${simulator}/__sim/requests?since=${since}`)).json()) as {
      t: number;
      path: string;
      status: number;
    }[];
    expect(calls.filter((c) => c.status === 429)).toEqual([]);
    expect(calls.filter((c) => c.path === '/coins/markets').length).toBeGreaterThanOrEqual(20);
    // CoinGecko counts calls per key in fixed one-minute windows (x-ratelimit-reset names a minute boundary).
    const perMinute = new Map<number, number>();
    for (const c of calls) perMinute.set(Math.floor(c.t / 60_000), (perMinute.get(Math.floor(c.t / 60_000)) ?? 0) + 1);
    expect(Math.max(...perMinute.values())).toBeLessThanOrEqual(RATE_LIMIT_PER_MIN);
    const perReplica = (await (
      await fetch(
        `${prometheus}/api/v1/query?query=${encodeURIComponent('sum by (instance) (cdp_jobs_total{kind="fetch-worker",status="completed"})')}`,
      )
    ).json()) as { data: { result: { metric: { instance: string }; value: [number, string] }[] } };
    process.stdout.write(
      `stack test: ${calls.length} calls since the burst, busiest clock minute ${Math.max(...perMinute.values())}, busiest sliding minute ${busiestWindow(
        calls.map((c) => c.t),
        60_000,
      )} (limit ${RATE_LIMIT_PER_MIN}); fetch jobs per replica ${perReplica.data.result.map((r) => r.value[1]).join(', ')}\n`,
    );
    await expectNothingLostOrDoubled();
  }, 900_000);

  it('loses and doubles nothing when a fetch and a load worker are killed (SIGKILL) mid-tick', async () => {
    const before = (await runs()).length;
    // A backlog of ticks, and calls that take 5 s, so that fetch jobs are surely in flight at the
    // kill (at 30 calls/min an unhurried call is active for a few ms every 2 s).
    await setFaults({ latencyMs: 5_000 });
    try {
      await docker(
        [
          'exec',
          await stack.container('scheduler'),
          'sh',
          '-c',
          'for i in 1 2 3 4; do node dist/scripts/tick.js --timeout 0 >/dev/null 2>&1 & done; wait',
        ],
        120_000,
      );
      await eventually('an active fetch job', 60_000, async () => ((await fetchActive()) > 0 ? true : undefined), 200);
    } finally {
      await setFaults({ latencyMs: 0 });
    }
    const [fetchWorker] = await stack.containers('fetch-worker', false);
    const [loadWorker] = await stack.containers('load-worker', false);
    await docker(['kill', '-s', 'KILL', fetchWorker!, loadWorker!]);
    // restart: unless-stopped brings a killed container back by itself; start is for engines that don't.
    await docker(['start', fetchWorker!, loadWorker!]);
    await waitHealthy(['fetch-worker', 'load-worker'], 120_000);
    const settled = await expectNothingLostOrDoubled();
    expect(settled.length).toBeGreaterThanOrEqual(before + 4);
  }, 600_000);

  it('loses no tick across a Redis restart (AOF on)', async () => {
    const before = await runs();
    await stack.compose(['restart', 'redis'], 120_000);
    await waitHealthy(['redis'], 60_000);
    // The schedule survived in Redis (AOF): new scheduled ticks keep coming and load.
    await eventually(
      'two scheduled ticks after the restart',
      240_000,
      async () => {
        const after = await runs(
          `trigger = 'schedule' and status = 'loaded' and run_id not in (${before.map((r) => `'${r.run_id}'`).join(',') || "''"})`,
        );
        return after.length >= 2 ? true : undefined;
      },
      3000,
    );
    await expectNothingLostOrDoubled();
    // No beat of the schedule was skipped across the restart: scheduled ticks stay 15 s apart.
    const lastBefore = before.filter((r) => r.trigger === 'schedule').at(-1)!.run_id;
    const beats = (
      await stack.sql(
        `select (extract(epoch from scheduled_at) * 1000)::bigint from pipeline.pipeline_runs where trigger = 'schedule'
          and scheduled_at >= (select scheduled_at from pipeline.pipeline_runs where run_id = '${lastBefore}') order by scheduled_at`,
      )
    ).map(([ms]) => Number(ms));
    expect(beats.length).toBeGreaterThanOrEqual(3);
    expect(beats.slice(1).map((t, i) => t - beats[i]!)).toEqual(beats.slice(1).map(() => 15_000));
  }, 600_000);
});
