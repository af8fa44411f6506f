import { loadConfig } from '../../core/config/index.js';
import { rootLogger } from '../../core/log/logger.js';
import { QUEUES } from '../../core/queues/registry.js';
import { Runtime } from '../../core/runtime.js';
import { enqueueTick } from '../../producers/tick/enqueue-tick.js';
import { testEnv } from '../helpers/config.js';
import { PipelineProcess } from '../helpers/processes.js';
import { createScenario, refreshUniverse, runTick, waitForTick, type Scenario } from '../helpers/scenario.js';
import { waitFor } from '../helpers/wait-for.js';
import { alertRules, expandPromVariables, promQueries, type AlertRule } from './grafana-files.js';
import { compressRanges, PrometheusServer, type Target } from './prometheus-server.js';

/**
 * Real processes (scheduler, fetch, load, transform, dashboard) scraped every second by a real
 * Prometheus while ticks run against the simulator. The alert conditions are driven for real
 * (a dead fetch worker with jobs piling up, a ledger 30 minutes old, 429 storms) and each rule's
 * own expression is shown crossing its threshold and coming back.
 */
const KINDS = {
  scheduler: 'scheduler',
  fetch: 'fetch-worker',
  load: 'load-worker',
  transform: 'transform-worker',
} as const;
type WorkerKind = keyof typeof KINDS;

let scenario: Scenario;
let runtime: Runtime;
let prometheus: PrometheusServer;
let env: Record<string, string>;
const processes: PipelineProcess[] = [];
const byKind = new Map<string, PipelineProcess>();
const targets = new Map<string, Target>();

const rule = (uid: string): AlertRule => alertRules().find((r) => r.uid === uid)!;
const crosses = (r: AlertRule, value: number) =>
  r.threshold.type === 'gt' ? value > r.threshold.value : value < r.threshold.value;
/** The rule's expression at a time, its windows shrunk 60x so that minutes of history take seconds. */
const evaluate = (r: AlertRule, time?: number) => prometheus.query(compressRanges(r.query.expr!), time);
const firing = async (r: AlertRule, time?: number) => (await evaluate(r, time)).filter((s) => crosses(r, s.value));

async function spawnWorker(kind: WorkerKind): Promise<PipelineProcess> {
  const proc = new PipelineProcess(kind, {
    ...env,
    METRICS_ENABLED: 'true',
    METRICS_PORT: '0',
    METRICS_HOST: '127.0.0.1',
  });
  processes.push(proc);
  byKind.set(kind, proc);
  await proc.waitForLog('metrics endpoint listening');
  const port = proc.logs().find((l) => l.message === 'metrics endpoint listening')!.port as number;
  targets.set(kind, { address: `127.0.0.1:${port}`, kind: KINDS[kind] });
  return proc;
}

beforeAll(async () => {
  scenario = await createScenario({ coins: 2000 });
  env = {
    ...testEnv({ databaseUrl: scenario.db.url, prefix: scenario.prefix, coingeckoUrl: scenario.simulator.url }),
    LOG_LEVEL: 'info',
    TRACK_TOP_N: '2000',
    // 134 batches a tick: enough fetch jobs to pile up past the backlog threshold when fetch dies.
    COINGECKO_MAX_IDS_PER_CALL: '15',
    SCHEDULE_ENABLED: 'false',
    TRANSFORM_RUNNER: 'bundled',
  };
  runtime = new Runtime(scenario.config({ TRACK_TOP_N: '2000', COINGECKO_MAX_IDS_PER_CALL: '15' }), rootLogger, 'test');
  await Promise.all((Object.keys(KINDS) as WorkerKind[]).map(spawnWorker));

  const dashboard = new PipelineProcess('dashboard', { ...env, DASHBOARD_PORT: '0', DASHBOARD_HOST: '127.0.0.1' });
  processes.push(dashboard);
  await dashboard.waitForLog('dashboard listening');
  const url = new URL(dashboard.logs().find((l) => l.message === 'dashboard listening')!.url as string);
  targets.set('dashboard', { address: `127.0.0.1:${url.port}`, kind: 'dashboard' });

  prometheus = await PrometheusServer.start([...targets.values()]);
  await refreshUniverse(runtime);
}, 60_000);

afterAll(async () => {
  await prometheus?.stop();
  await Promise.all(processes.map((p) => p.kill()));
  await runtime?.close();
  await scenario?.teardown();
});

it('scrapes every process kind', async () => {
  const up = await waitFor(
    'every kind scraped and up',
    async () => {
      const samples = await prometheus.query('sum by (kind) (up)');
      return samples.length === 5 && samples.every((s) => s.value >= 1) ? samples : undefined;
    },
    15_000,
    250,
  );
  expect(up.map((s) => s.metric.kind).sort()).toEqual([
    'dashboard',
    'fetch-worker',
    'load-worker',
    'scheduler',
    'transform-worker',
  ]);
});

it('counts a tick with CoinGecko schema drift and a 5xx retry', async () => {
  scenario.simulator.control.setFaults({
    extraFields: { observability_probe: 1 },
    failNext: [{ count: 2, kind: '503' }],
  });
  const { run } = await runTick(runtime, scenario.db);
  scenario.simulator.control.setFaults({ extraFields: {} });
  expect(run.status).toBe('loaded');
  const rows = await waitFor(
    'loaded rows scraped',
    async () => {
      const [s] = await prometheus.query('sum(cdp_load_rows_total{outcome="inserted"})');
      return s && s.value >= 2000 ? s.value : undefined;
    },
    15_000,
    250,
  );
  expect(rows).toBeGreaterThanOrEqual(2000);
});

it('fires the backlog and dead-worker rules while fetch is down, and clears them once a fetch worker drains the queue', async () => {
  const backlog = rule('cdp-queue-backlog');
  const workerDown = rule('cdp-worker-kind-down');
  expect(await firing(backlog)).toEqual([]);
  expect(await firing(workerDown)).toEqual([]);

  // Slow calls keep jobs active in the fetch worker when it is killed: they stall and are handed back.
  scenario.simulator.control.setFaults({ latencyMs: 3000 });
  const runId = await enqueueTick(runtime);
  await waitFor('fetch jobs active', async () => (await runtime.queue('fetch').getActiveCount()) > 0, 20_000);
  await byKind.get('fetch')!.kill('SIGKILL');

  const piledUp = await waitFor(
    'backlog rule firing',
    async () => {
      const f = await firing(backlog);
      return f.length > 0 ? f : undefined;
    },
    20_000,
    250,
  );
  expect(piledUp).toEqual([expect.objectContaining({ metric: { queue: QUEUES.fetch.name } })]);
  const down = await waitFor(
    'worker-kind rule firing',
    async () => {
      const f = await firing(workerDown);
      return f.length > 0 ? f : undefined;
    },
    10_000,
    250,
  );
  expect(down.map((s) => s.metric.kind)).toEqual(['fetch-worker']);

  scenario.simulator.control.setFaults({ latencyMs: 0 });
  await spawnWorker('fetch');
  prometheus.setTargets([...targets.values()]);
  const { run } = await waitForTick(runtime, scenario.db, runId);
  expect(run.status).toBe('loaded');
  await waitFor(
    'backlog and worker-kind rules clear',
    async () => (await firing(backlog)).length === 0 && (await firing(workerDown)).length === 0,
    20_000,
    250,
  );
  const [stalled] = await waitFor(
    'stalled jobs scraped',
    async () => {
      const s = await prometheus.query(`sum(cdp_jobs_stalled_total{queue="${QUEUES.fetch.name}"})`);
      return s.length > 0 && s[0]!.value > 0 ? s : undefined;
    },
    15_000,
    250,
  );
  expect(stalled!.value).toBeGreaterThan(0);
});

it('fires both freshness rules when no tick has loaded for 30 minutes, and clears them after a tick', async () => {
  const stale = rule('cdp-data-stale');
  const staleCoins = rule('cdp-coins-stale');
  await waitFor(
    'freshness rules quiet',
    async () => (await firing(stale)).length === 0 && (await firing(staleCoins)).length === 0,
    10_000,
    250,
  );

  // What 30 minutes without a tick leaves behind: every ledger timestamp 30 minutes older.
  await scenario.db.pool.query(`
    update pipeline.pipeline_runs set started_at = started_at - interval '30 minutes', finished_at = finished_at - interval '30 minutes',
           transform_finished_at = transform_finished_at - interval '30 minutes';
    update pipeline.pipeline_batches set loaded_at = loaded_at - interval '30 minutes', fetched_at = fetched_at - interval '30 minutes';`);
  // The rule's expression is how far the data's age is past the threshold the dashboard exports (STALE_AFTER).
  const staleAfter = loadConfig(env).freshness.staleAfterSeconds;
  const [overdue] = await waitFor(
    'data-stale rule firing',
    async () => {
      const f = await firing(stale);
      return f.length > 0 ? f : undefined;
    },
    10_000,
    250,
  );
  expect(overdue!.value).toBeGreaterThan(1800 - staleAfter);
  const [share] = await waitFor(
    'stale-coins rule firing',
    async () => {
      const f = await firing(staleCoins);
      return f.length > 0 ? f : undefined;
    },
    10_000,
    250,
  );
  expect(share!.value).toBe(1);

  await runTick(runtime, scenario.db);
  await waitFor(
    'freshness rules clear',
    async () => (await firing(stale)).length === 0 && (await firing(staleCoins)).length === 0,
    10_000,
    250,
  );
  const [fresh] = await evaluate(stale);
  expect(fresh!.value).toBeLessThan(60 - staleAfter);
});

it('fires the 429 rule during a storm of 429s and clears once calls succeed again', async () => {
  const tooMany = rule('cdp-coingecko-429');
  const coinIds = scenario.simulator.control.universeIds().slice(0, 30);
  const fetchWorker = targets.get('fetch')!.address;
  // The worker exports its 429 count from its start, at 0: Prometheus must hold that sample before
  // the storm, or rate() has nothing to rise from.
  await waitFor(
    'the 429 count scraped at zero',
    async () => {
      const [scraped] = await prometheus.query(
        `sum(cdp_coingecko_requests_total{status="429", instance="${fetchWorker}"})`,
      );
      return scraped !== undefined && scraped.value === 0 ? true : undefined;
    },
    15_000,
    250,
  );
  // The rule is a share of all calls: the previous test's full tick (134 calls) must have left its
  // window first, or the storm's 6 calls are 1% of it and the rule cannot fire. Waited for as the
  // rule's own denominator, at zero.
  const allCalls = compressRanges('sum(rate(cdp_coingecko_requests_total[5m]))');
  await waitFor(
    'no CoinGecko call in the rule window',
    async () => {
      const [rate] = await prometheus.query(allCalls);
      return rate !== undefined && rate.value === 0 ? true : undefined;
    },
    30_000,
    250,
  );
  const before = Date.now() / 1000;
  scenario.simulator.control.setFaults({
    failNext: [
      { count: 6, kind: '429', retryAfterSec: 1 },
      { count: 2, kind: '503' },
    ],
  });
  await runTick(runtime, scenario.db, { coinIds });
  // The storm's last 429 is in Prometheus once it has scraped the fetch worker's count as the worker
  // reports it now (rather than after a 2 s sleep that a slow scrape can outlast).
  const counted = sum429(await (await fetch(`http://${fetchWorker}/metrics`)).text());
  expect(counted).toBeGreaterThan(0);
  await waitFor(
    'the storm scraped',
    async () => {
      const [scraped] = await prometheus.query(
        `sum(cdp_coingecko_requests_total{status="429", instance="${fetchWorker}"})`,
      );
      return scraped !== undefined && scraped.value >= counted;
    },
    15_000,
    250,
  );
  // The rule is evaluated at the very scrapes that saw the count rise (the events the alert reacts
  // to), not at whole seconds: a storm scraped in the last fraction of a second before the wait ended
  // fell between the last whole second and the end, and the rule was never looked at after it.
  const after = Date.now() / 1000 + 1;
  // One target's series share its scrape times: summed per scrape, they give the worker's 429 count.
  const perScrape = new Map<number, number>();
  const selector = `cdp_coingecko_requests_total{status="429", instance="${fetchWorker}"}`;
  for (const { points } of await prometheus.samples(`${selector}[${Math.ceil(after - before) + 5}s]`, after)) {
    for (const [t, v] of points) perScrape.set(t, (perScrape.get(t) ?? 0) + v);
  }
  const scrapes = [...perScrape].sort(([a], [b]) => a - b);
  const rises = scrapes.filter(([, v], i) => i > 0 && v > scrapes[i - 1]![1]).map(([t]) => t);
  expect(rises.length).toBeGreaterThan(0);
  const during: number[] = [];
  for (const t of rises) during.push(...(await firing(tooMany, t)).map((s) => s.value));
  // The scrapes are in the message if it fails: a gap longer than the rule's shrunk window shows there.
  expect({ scrapes, during }).toEqual({ scrapes, during: expect.arrayContaining([expect.any(Number)]) });

  await runTick(runtime, scenario.db, { coinIds });
  // Clears as its window slides past the storm: waited for as the rule's own state, as the others are.
  await waitFor('429 rule clear', async () => (await firing(tooMany)).length === 0, 10_000, 250);
});

/** The 429s a process counted, from its Prometheus text exposition. */
function sum429(text: string): number {
  return text
    .split('\n')
    .filter((line) => line.startsWith('cdp_coingecko_requests_total{') && line.includes('status="429"'))
    .reduce((n, line) => n + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
}

it('returns series for every PromQL expression of the dashboards and alert rules', async () => {
  const empty: string[] = [];
  for (const { source, expr } of promQueries()) {
    const samples = await prometheus.query(expandPromVariables(expr));
    if (samples.length === 0) empty.push(`${source}: ${expr}`);
  }
  expect(empty).toEqual([]);
});
