import { mkdirSync } from 'node:fs';
import winston from 'winston';
import { chromium, type Browser, type ConsoleMessage, type Page } from 'playwright-core';
import { createApp } from '../../dashboard/app.js';
import { operationsQuery } from '../../dashboard/queries/operations-queries.js';
import { Runtime } from '../../core/runtime.js';
import { serve, type Served } from './http.js';
import { startSyntheticMarts, type SyntheticMarts } from './synthetic-marts.js';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../helpers/chromium.js';

/*
 * Issue 17, the operations view of the Pipeline page: GET /api/v1/pipeline/operations buckets the run
 * ledger (pipeline_runs, transform_runs) built here row by row, and the page charts it at both widths
 * with its window in the URL.
 */
const SCREENSHOTS = 'test-output/screenshots';
const MINUTE = 60_000;

let marts: SyntheticMarts;
let runtime: Runtime;
let served: Served;
let browser: Browser;

beforeAll(async () => {
  [marts, browser] = await Promise.all([
    startSyntheticMarts({ coins: 5, minutes: 60 }),
    chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS }),
  ]);
  const config = marts.config();
  const silent = winston.createLogger({ silent: true });
  runtime = new Runtime(config, silent, 'dashboard');
  served = await serve(
    createApp({
      config,
      pool: marts.db.pool,
      redis: runtime.redis,
      queues: (key) => runtime.queue(key),
      checkMigrations: async () => false,
      logger: silent,
    }),
  );
  mkdirSync(SCREENSHOTS, { recursive: true });
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await served?.close();
  await runtime?.close();
  await marts?.close();
});

const q = (sql: string, params: unknown[] = []) => marts.db.pool.query(sql, params);
const get = async (query: string) => {
  const res = await fetch(`${served.url}/api/v1/pipeline/operations${query}`);
  return { status: res.status, body: (await res.json()) as Record<string, any> }; // eslint-disable-line @typescript-eslint/no-explicit-any
};

interface Tick {
  runId: string;
  at: number;
  loadedS?: number;
  transformedS?: number;
  transformStatus?: string;
  rows?: number;
  rejected?: number;
  fetchWaiting?: number | null;
  loadWaiting?: number | null;
}
async function insertTick(t: Tick): Promise<void> {
  const at = new Date(t.at);
  const after = (s: number | undefined) => (s === undefined ? null : new Date(t.at + s * 1000));
  await q(
    `insert into pipeline.pipeline_runs (run_id, trigger, started_at, finished_at, status, batches_planned, rows_loaded,
       records_rejected, transform_status, transform_finished_at, fetch_jobs_waiting, load_jobs_waiting)
     values ($1, 'schedule', $2, $3, $4, 1, $5, $6, $7, $8, $9, $10)`,
    [
      t.runId,
      at,
      after(t.loadedS),
      t.loadedS === undefined ? 'running' : 'loaded',
      t.rows ?? 0,
      t.rejected ?? 0,
      t.transformStatus ?? (t.transformedS === undefined ? 'queued' : 'succeeded'),
      after(t.transformedS),
      t.fetchWaiting ?? null,
      t.loadWaiting ?? null,
    ],
  );
}
async function insertTransform(runId: string, at: number, durationMs: number | null): Promise<void> {
  await q(
    `insert into pipeline.transform_runs (run_id, runner, status, started_at, finished_at, duration_ms)
     values ($1, 'bundled', $2, $3, $4, $5)`,
    [
      runId,
      durationMs === null ? 'running' : 'success',
      new Date(at),
      durationMs === null ? null : new Date(at + durationMs),
      durationMs,
    ],
  );
}

/** Console errors, page errors, CSP violations and failed requests of a page. */
function watch(page: Page): string[] {
  const problems: string[] = [];
  page.on('console', (m: ConsoleMessage) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('response', (r) => {
    if (r.status() >= 400) problems.push(`${r.status()} ${r.url()}`);
  });
  return problems;
}
async function open(width: number, height: number, pathname: string): Promise<{ page: Page; problems: string[] }> {
  const page = await (await browser.newContext({ viewport: { width, height } })).newPage();
  const problems = watch(page);
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) =>
      console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`),
    );
  });
  await page.goto(`${served.url}${pathname}`);
  await page.waitForSelector('body[data-loaded="true"]', { timeout: 15_000 });
  return { page, problems };
}
const CHART_IDS = ['ops-duration', 'ops-rows', 'ops-rejects', 'ops-queue', 'ops-transform'];
/** Points drawn per chart and whether it shows an empty-state message. */
const chartState = (page: Page) =>
  page.evaluate(
    (ids) =>
      Object.fromEntries(
        ids.map((id) => {
          const box = document.getElementById(id)!;
          return [
            id,
            {
              points: Number(box.dataset.points),
              canvases: box.querySelectorAll('canvas').length,
              empty: box.querySelector('.chart-empty')?.textContent ?? null,
            },
          ];
        }),
      ),
    CHART_IDS,
  );

describe('an empty ledger', () => {
  it('every tick chart says why it is empty; the dbt chart draws the one transform run', async () => {
    const { page, problems } = await open(1440, 900, '/pipeline?window=1h');
    const state = await chartState(page);
    for (const id of ['ops-duration', 'ops-rows', 'ops-rejects', 'ops-queue']) {
      expect(state[id]).toMatchObject({ points: 0, empty: expect.stringMatching(/^No .+ in this window/) });
    }
    expect(state['ops-transform']).toMatchObject({ points: 1, empty: null });
    expect(await page.textContent('#ops-summary')).toBe('No tick in the last 1h.');
    expect(problems).toEqual([]);
    await page.context().close();
  });
});

describe('GET /api/v1/pipeline/operations', () => {
  const BUCKET = 5 * MINUTE; // the 24h window's bucket
  // Three buckets two hours back, aligned as the server aligns them (on the epoch).
  const base = Math.floor(Date.now() / BUCKET) * BUCKET - 24 * BUCKET;

  beforeAll(async () => {
    // Bucket A: three ticks; the third's transform failed, so it has no planned → transformed time.
    await insertTick({
      runId: 'a1',
      at: base,
      loadedS: 10,
      transformedS: 40,
      rows: 100,
      rejected: 1,
      fetchWaiting: 0,
      loadWaiting: 1,
    });
    await insertTick({
      runId: 'a2',
      at: base + MINUTE,
      loadedS: 20,
      transformedS: 50,
      rows: 200,
      fetchWaiting: 5,
      loadWaiting: 0,
    });
    await insertTick({
      runId: 'a3',
      at: base + 2 * MINUTE,
      loadedS: 30,
      transformedS: 90,
      transformStatus: 'failed',
      rows: 300,
      rejected: 2,
      fetchWaiting: 2,
      loadWaiting: 0,
    });
    await insertTransform('a1', base + 15_000, 2000);
    await insertTransform('a2', base + MINUTE + 15_000, 4000);
    // Bucket B: one tick still running, planned before queue depth was recorded; one dbt run running.
    await insertTick({ runId: 'b1', at: base + BUCKET + 4 * MINUTE + 59_000, rows: 50 });
    await insertTransform('b1', base + BUCKET + 4 * MINUTE + 59_500, null);
    // Bucket C (base + 2 buckets) stays empty. A tick just over 24 h ago is outside the 24h window only.
    await insertTick({ runId: 'old', at: Date.now() - 24 * 60 * MINUTE - 10 * MINUTE, loadedS: 5, rows: 7 });
  });

  it('cuts the 24h window into 288 five-minute buckets ending with the one that holds now', async () => {
    const before = Date.now();
    const { status, body } = await get('?window=24h');
    expect(status).toBe(200);
    const ops = body.operations;
    expect(ops).toMatchObject({ window: '24h', bucketSeconds: 300 });
    expect(ops.buckets).toHaveLength(288);
    const starts = ops.buckets.map((b: { start: string }) => Date.parse(b.start));
    starts.forEach((s: number, i: number) => i > 0 && expect(s - starts[i - 1]).toBe(BUCKET));
    // The newest bucket holds the server's now: between the request's start and end (on this clock).
    expect(starts.at(-1)).toBeGreaterThanOrEqual(Math.floor(before / BUCKET) * BUCKET);
    expect(starts.at(-1)).toBeLessThanOrEqual(Date.now());
    expect(Date.parse(ops.to) - starts.at(-1)).toBeLessThan(BUCKET);
    expect(Date.parse(ops.from)).toBe(starts[0]);
    expect(Date.parse(ops.to)).toBeGreaterThanOrEqual(starts.at(-1));
    expect(ops.buckets.some((b: { ticks: number; rowsLoaded: number }) => b.rowsLoaded === 7)).toBe(false);
  });

  it('averages durations and rows over each bucket’s ticks, sums rejects and takes the deepest queue', async () => {
    const { body } = await get('?window=24h');
    const at = (t: number) => body.operations.buckets.find((b: { start: string }) => Date.parse(b.start) === t);
    expect(at(base)).toEqual({
      start: new Date(base).toISOString(),
      ticks: 3,
      loadedSecondsAvg: 20,
      loadedSecondsMax: 30,
      transformedSecondsAvg: 45,
      transformedSecondsMax: 50,
      rowsLoaded: 600,
      rowsPerTick: 200,
      rejected: 3,
      rejectedPerTick: 1,
      fetchJobsWaitingMax: 5,
      loadJobsWaitingMax: 1,
      transformRuns: 2,
      transformSecondsAvg: 3,
      transformSecondsMax: 4,
    });
    expect(at(base + BUCKET)).toEqual({
      start: new Date(base + BUCKET).toISOString(),
      ticks: 1,
      loadedSecondsAvg: null,
      loadedSecondsMax: null,
      transformedSecondsAvg: null,
      transformedSecondsMax: null,
      rowsLoaded: 50,
      rowsPerTick: 50,
      rejected: 0,
      rejectedPerTick: 0,
      fetchJobsWaitingMax: null,
      loadJobsWaitingMax: null,
      transformRuns: 1,
      transformSecondsAvg: null,
      transformSecondsMax: null,
    });
    expect(at(base + 2 * BUCKET)).toMatchObject({ ticks: 0, rowsLoaded: 0, rowsPerTick: null, transformRuns: 0 });
  });

  it('in the 7d window, 30-minute buckets hold the same ticks, the older one included', async () => {
    const { body } = await get('?window=7d');
    const ops = body.operations;
    expect(ops).toMatchObject({ window: '7d', bucketSeconds: 1800 });
    expect(ops.buckets).toHaveLength(336);
    const ticks = ops.buckets.reduce((n: number, b: { ticks: number }) => n + b.ticks, 0);
    expect(ticks).toBe(5);
    const holding = ops.buckets.find(
      (b: { start: string }) => Date.parse(b.start) === Math.floor(base / 1800_000) * 1800_000,
    );
    expect(holding.ticks).toBeGreaterThanOrEqual(3);
  });

  it('defaults to 6h of 1-minute buckets', async () => {
    const { body } = await get('');
    expect(body.operations).toMatchObject({ window: '6h', bucketSeconds: 60 });
    expect(body.operations.buckets).toHaveLength(360);
  });

  it.each([
    ['?window=30d', 'window'],
    ['?window=', 'window'],
    ['?window=1h&window=6h', 'window'],
    ['?limit=5', 'limit'],
  ])('%s is a 400 naming %s', async (query, parameter) => {
    const { status, body } = await get(query);
    expect(status).toBe(400);
    expect(body.parameter).toBe(parameter);
    expect(body.error).toMatch(new RegExp(`^${parameter} must be`));
  });
});

describe('at 11,000 ticks (a week of 1-minute ticks and more)', () => {
  beforeAll(async () => {
    // One tick a minute back from now, with durations, rows and backlog that vary; one dbt run each.
    await q(`
      insert into pipeline.pipeline_runs (run_id, trigger, started_at, finished_at, status, batches_planned, batches_loaded,
        rows_loaded, records_rejected, transform_status, transform_finished_at, fetch_jobs_waiting, load_jobs_waiting)
      select 'bulk-' || i, 'schedule', t, t + make_interval(secs => 8 + 4 * sin(i / 50.0) + i % 7), 'loaded', 4, 4,
             1000 - (i % 13) * 5, case when i % 37 = 0 then 3 else 0 end, 'succeeded',
             t + make_interval(secs => 22 + 6 * sin(i / 80.0) + i % 5), greatest(0, round(12 * sin(i / 200.0)))::int, i % 3
        from generate_series(1, 11000) i, lateral (select date_trunc('minute', now()) - make_interval(mins => i) + interval '3 seconds' as t) x`);
    await q(`
      insert into pipeline.transform_runs (run_id, runner, status, started_at, finished_at, duration_ms)
      select 'bulk-' || i, 'bundled', 'success', t, t + make_interval(secs => 9), 9000 + (i % 11) * 300
        from generate_series(1, 11000) i, lateral (select date_trunc('minute', now()) - make_interval(mins => i) + interval '12 seconds' as t) x`);
    await q('analyze pipeline.pipeline_runs; analyze pipeline.transform_runs');
  }, 60_000);

  it('answers every window in at most 360 buckets, counting every tick in the window once', async () => {
    for (const window of ['1h', '6h', '24h', '7d']) {
      const { status, body } = await get(`?window=${window}`);
      expect(status).toBe(200);
      const ops = body.operations;
      expect(ops.buckets.length).toBeLessThanOrEqual(360);
      const { rows } = await q(
        'select count(*)::int as n from pipeline.pipeline_runs where started_at >= $1 and started_at <= $2',
        [ops.from, ops.to],
      );
      expect([window, ops.buckets.reduce((n: number, b: { ticks: number }) => n + b.ticks, 0)]).toEqual([
        window,
        rows[0].n,
      ]);
    }
  });

  it('reads only the window: the 1h plan range-scans both started_at indexes', async () => {
    const { text, values } = operationsQuery('1h');
    const { rows } = await q(`explain (format json) ${text}`, values);
    interface PlanNode {
      'Node Type': string;
      'Relation Name'?: string;
      'Index Name'?: string;
      Plans?: PlanNode[];
    }
    const scans: string[] = [];
    const walk = (node: PlanNode): void => {
      if (node['Relation Name'])
        scans.push(`${node['Node Type']} ${node['Relation Name']} ${node['Index Name'] ?? ''}`.trim());
      for (const child of node.Plans ?? []) walk(child);
    };
    walk(rows[0]['QUERY PLAN'][0].Plan);
    expect(scans.sort()).toEqual([
      expect.stringMatching(/^Index (Only )?Scan pipeline_runs pipeline_runs_started_idx$/),
      expect.stringMatching(/^Index (Only )?Scan transform_runs transform_runs_started_idx$/),
    ]);
  });
});

describe('the Pipeline page', () => {
  it.each([
    [1440, 900, 'desktop'],
    [390, 844, 'phone'],
  ])('at %ix%i draws all five charts with data, with no console error', async (width, height, name) => {
    const { page, problems } = await open(width, height, '/pipeline');
    const state = await chartState(page);
    for (const id of CHART_IDS)
      expect([id, state[id]!.points > 100, state[id]!.canvases > 0, state[id]!.empty]).toEqual([id, true, true, null]);
    expect(await page.getAttribute('#ops-window button[aria-pressed="true"]', 'data-window')).toBe('6h');
    expect(await page.textContent('#ops-summary')).toMatch(/^Last 6h: 36\d ticks, /);
    // Nothing wider than the viewport: the charts fit the page at both widths.
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(width);
    for (const id of CHART_IDS) {
      const box = (await page.locator(`#${id}`).boundingBox())!;
      expect(box.x).toBeGreaterThanOrEqual(0);
      expect(box.x + box.width).toBeLessThanOrEqual(width);
    }
    await page.locator('#ops-window').scrollIntoViewIfNeeded();
    await page.evaluate(() => document.getElementById('ops-window')!.scrollIntoView());
    await page.screenshot({ path: `${SCREENSHOTS}/operations-${name}.png` });
    // All five charts and their legends, below the fold on a phone.
    await page.locator('.ops-charts').screenshot({ path: `${SCREENSHOTS}/operations-${name}-charts.png` });
    expect(problems).toEqual([]);
    await page.context().close();
  });

  it('keeps the window in the URL: a click reloads the charts and a reload keeps it', async () => {
    const { page, problems } = await open(1440, 900, '/pipeline');
    await page.click('#ops-window button[data-window="7d"]');
    await page.waitForFunction(() => document.body.dataset.opsWindow === '7d');
    expect(new URL(page.url()).search).toBe('?window=7d');
    expect(await page.textContent('#ops-summary')).toMatch(/^Last 7d: /);
    expect(Number(await page.getAttribute('#ops-duration', 'data-points'))).toBeGreaterThan(600); // two series of 336 buckets
    await page.reload();
    await page.waitForSelector('body[data-loaded="true"]');
    expect(await page.getAttribute('#ops-window button[aria-pressed="true"]', 'data-window')).toBe('7d');
    expect(await page.getAttribute('body', 'data-ops-window')).toBe('7d');
    await page.click('#ops-window button[data-window="6h"]');
    await page.waitForFunction(() => document.body.dataset.opsWindow === '6h');
    expect(new URL(page.url()).search).toBe('');
    expect(problems).toEqual([]);
    await page.context().close();
  });

  it('falls back to the default window with a notice for a bad ?window=', async () => {
    const { page, problems } = await open(390, 844, '/pipeline?window=30d');
    expect(await page.textContent('#url-notice')).toBe(
      'Ignored window=30d in the link: not a valid value; showing the default instead.',
    );
    expect(await page.getAttribute('body', 'data-ops-window')).toBe('6h');
    expect(new URL(page.url()).search).toBe('');
    expect(problems).toEqual([]);
    await page.context().close();
  });
});
