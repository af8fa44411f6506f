import { rootLogger } from '../../core/log/logger.js';
import { Runtime } from '../../core/runtime.js';
import { testEnv } from '../helpers/config.js';
import { freePort } from '../helpers/free-port.js';
import { call } from '../dashboard/http.js';
import { PipelineProcess } from '../helpers/processes.js';
import { createScenario, type Scenario } from '../helpers/scenario.js';
import { waitFor } from '../helpers/wait-for.js';

/**
 * The overload, scaled down: 100 coins in 10 calls a tick, a 4 s tick and 60 calls/min allow
 * 4 calls a tick. Real processes throughout: a scheduler firing ticks on its own schedule, two fetch
 * processes sharing the limit, a load, a transform (runner none: the flow has to settle, not run dbt)
 * and a dashboard. Without supersession every tick would add 10 fetch jobs and ~4 would leave.
 */
describe('ticks that need more CoinGecko calls than the rate limit allows', () => {
  const BATCHES_PER_TICK = 10;
  /**
   * Fetch jobs that may be in flight while a tick is planned (2 processes × FETCH_CONCURRENCY 4): such
   * a job is not superseded, and one that then fails an attempt waits delayed for its retry.
   */
  const IN_FLIGHT = 2 * 4;
  const env = {
    TRACK_TOP_N: '100',
    COINGECKO_MAX_IDS_PER_CALL: '10',
    COINGECKO_RATE_LIMIT_PER_MIN: '60',
    TICK_INTERVAL: '4s',
    UNIVERSE_REFRESH_INTERVAL: '1h',
  };
  let scenario: Scenario;
  let runtime: Runtime;
  let scheduler: PipelineProcess;
  let dashboardUrl: string;
  let metricsPort: number;
  const processes: PipelineProcess[] = [];

  beforeAll(async () => {
    scenario = await createScenario({ coins: 300 });
    // CoinGecko's own limit, the one the pipeline is told: a 429 would mean the limiter let too many through.
    scenario.simulator.control.setFaults({ rateLimit: 60, rateWindowMs: 60_000 });
    const base = {
      ...testEnv({ databaseUrl: scenario.db.url, prefix: scenario.prefix, coingeckoUrl: scenario.simulator.url, env }),
      LOG_LEVEL: 'info',
    };
    runtime = new Runtime(scenario.config(env), rootLogger, 'test');
    const workers = [
      new PipelineProcess('fetch', base),
      new PipelineProcess('fetch', base),
      new PipelineProcess('load', base),
      new PipelineProcess('transform', base),
    ];
    const dashboard = new PipelineProcess('dashboard', { ...base, DASHBOARD_PORT: '0', DASHBOARD_HOST: '127.0.0.1' });
    processes.push(...workers, dashboard);
    await Promise.all(
      [
        [workers[0]!, 'fetch worker started'],
        [workers[1]!, 'fetch worker started'],
        [workers[2]!, 'load worker started'],
        [workers[3]!, 'transform worker started'],
      ].map(([worker, message]) => (worker as PipelineProcess).waitForLog(message as string, 90_000)),
    );
    await dashboard.waitForLog('dashboard listening', 90_000);
    dashboardUrl = dashboard.logs().find((l) => l.message === 'dashboard listening')!.url as string;
    metricsPort = await freePort();
    scheduler = new PipelineProcess('scheduler', {
      ...base,
      METRICS_ENABLED: 'true',
      METRICS_HOST: '127.0.0.1',
      METRICS_PORT: String(metricsPort),
    });
    processes.push(scheduler);
    await scheduler.waitForLog('scheduler started', 90_000);
  }, 240_000);
  afterAll(async () => {
    await Promise.all(processes.map((p) => p.kill('SIGTERM')));
    await runtime?.close();
    await scenario?.teardown();
  });

  it('says so at start-up, with calls needed and allowed, and exports both', async () => {
    const warning = scheduler
      .logs()
      .find((l) => l.message === 'a tick needs more CoinGecko calls than the rate limit allows');
    expect(warning).toMatchObject({ level: 'warn', callsNeeded: BATCHES_PER_TICK, callsAllowed: 4, coins: 100 });
    expect(String(warning!.advice)).toMatch(/fewer coins.*TICK_INTERVAL to 10s or more.*higher rate limit/);
    const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    expect(metrics).toMatch(/^cdp_tick_calls_needed 10$/m);
    expect(metrics).toMatch(/^cdp_tick_calls_allowed 4$/m);
  });

  it('keeps the fetch queue within one tick of batches, superseding what older ticks did not fetch', async () => {
    const since = Date.now();
    let mostUnfetched = 0;
    let samples = 0;
    const runs = await waitFor(
      '6 scheduled ticks, some of them superseded in part',
      async () => {
        const unfetched = await runtime.queue('fetch').getJobs(['waiting', 'prioritized', 'delayed']);
        mostUnfetched = Math.max(mostUnfetched, unfetched.filter((j) => j.name === 'coins-markets').length);
        samples++;
        const { rows } = await scenario.db.pool.query<{ runs: number; superseded: number }>(
          `select count(*)::int as runs, coalesce(sum(batches_superseded), 0)::int as superseded
             from pipeline.pipeline_runs where trigger = 'schedule'`,
        );
        return rows[0]!.runs >= 6 && rows[0]!.superseded > 0 ? rows[0] : undefined;
      },
      120_000,
      100,
    );
    expect(samples).toBeGreaterThan(10);
    // A new tick supersedes the old unfetched batches before adding its own: one tick's batches, plus at
    // most those that were in flight at the time. Unbounded, 6 ticks would have left some 36 behind.
    expect(mostUnfetched).toBeGreaterThan(0);
    expect(mostUnfetched).toBeLessThanOrEqual(BATCHES_PER_TICK + IN_FLIGHT);
    expect(runs.superseded).toBeGreaterThan(0);

    // No new ticks from here: every run must now come to a final state, the newest by fetching its batches.
    await scheduler.kill('SIGTERM');
    const finished = await waitFor(
      'every run finished',
      async () => {
        const { rows } = await scenario.db.pool.query(
          `select run_id, status, batches_planned, batches_loaded, batches_failed, batches_superseded
             from pipeline.pipeline_runs order by started_at`,
        );
        return rows.every((r) => r.status !== 'running') ? rows : undefined;
      },
      90_000,
      250,
    );
    for (const run of finished) {
      expect(run.batches_failed).toBe(0);
      expect(run.batches_loaded + run.batches_superseded).toBe(run.batches_planned);
      expect(run.status).toBe(run.batches_superseded > 0 ? 'superseded' : 'loaded');
    }
    // Every batch fetched was loaded; every other one is superseded by a later run, saying so.
    const { rows: batches } = await scenario.db.pool.query(
      `select b.status, b.superseded_by, b.error, r.started_at < s.started_at as by_later_run
         from pipeline.pipeline_batches b join pipeline.pipeline_runs r using (run_id)
         left join pipeline.pipeline_runs s on s.run_id = b.superseded_by
        where b.status <> 'loaded'`,
    );
    expect(batches.length).toBeGreaterThan(0);
    for (const batch of batches) {
      expect(batch).toMatchObject({ status: 'superseded', by_later_run: true });
      expect(batch.error).toBe(`superseded by ${batch.superseded_by}: not fetched before that newer tick was planned`);
    }
    // Each run's flow settled: its transform ran (coalesced, or failed for want of a runner), none waits.
    await waitFor(
      'every transform job settled',
      async () => {
        const counts = await runtime
          .queue('transform')
          .getJobCounts('waiting-children', 'waiting', 'active', 'delayed');
        return Object.values(counts).every((n) => n === 0);
      },
      90_000,
      250,
    );

    const calls = scenario.simulator.control.requests(since);
    expect(calls.filter((c) => c.status === 429)).toEqual([]);
    expect(
      scheduler
        .logs()
        .some(
          (l) =>
            l.message === 'superseded unfetched batches of older ticks: the fetch queue cannot keep up with the ticks',
        ),
    ).toBe(true);
  });

  it('shows calls needed vs allowed and what was superseded through the dashboard', async () => {
    const reply = await call(`${dashboardUrl}api/v1/pipeline/call-budget`);
    expect(reply.status).toBe(200);
    const { callBudget } = reply.json<{ callBudget: Record<string, unknown> }>();
    expect(callBudget).toMatchObject({ callsNeeded: BATCHES_PER_TICK, callsAllowed: 4, overloaded: true });
    expect(callBudget.supersededLastHour).toBeGreaterThan(0);
    const runs = (await call(`${dashboardUrl}api/v1/runs?limit=100`)).json<{
      runs: { status: string; batchesSuperseded: number }[];
    }>().runs;
    expect(runs.some((r) => r.status === 'superseded' && r.batchesSuperseded > 0)).toBe(true);
    const page = await call(`${dashboardUrl}pipeline`);
    expect(page.text).toContain('CoinGecko calls per tick: needed vs allowed');
  });
});
