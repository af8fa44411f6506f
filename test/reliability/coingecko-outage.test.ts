import { readFileSync } from 'node:fs';
import { rootLogger } from '../../core/log/logger.js';
import { Runtime } from '../../core/runtime.js';
import { testEnv } from '../helpers/config.js';
import { PipelineProcess } from '../helpers/processes.js';
import { createScenario, type Scenario } from '../helpers/scenario.js';
import { waitFor } from '../helpers/wait-for.js';

/** The number: CoinGecko down for five minutes, for real (no clock tricks). */
const OUTAGE_MS = 300_000;
const TICK_MS = 3000;
const COINS = 200;
const BATCHES = 4;
const FETCH_ATTEMPTS = 6;
/** Longest possible retry chain of one fetch job: equal jitter, base 1 s, cap 10 s → 1+2+4+8+10 s. */
const RETRY_CHAIN_MS = 25_000;
/** CoinGecko's update step: short, so two ticks 3 s apart never fetch the same step. */
const STEP_MS = 250;

type Kind = 'scheduler' | 'fetch' | 'load' | 'dashboard';

function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024;
}

/** One sample of a Prometheus text exposition, e.g. `cdp_pipeline_runs_recent{status="failed"}`. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

/**
 * CoinGecko answers every call with a Cloudflare 503 page for five minutes while real scheduler,
 * fetch, load and dashboard processes tick every 3 s with production-like retry backoff. During
 * the outage each batch uses its attempts and fails with the status and the page's first bytes,
 * runs are marked failed, ticks keep coming (nothing hangs) and the freshness gauge behind the
 * "no data loaded" alert stops moving. Afterwards the pipeline recovers on its own: the next ticks
 * load every coin exactly once, matching the simulator, and the fetch process did not grow.
 */
describe('a five-minute CoinGecko outage', () => {
  let scenario: Scenario;
  let runtime: Runtime;
  let coinIds: string[];
  const processes = new Map<Kind, PipelineProcess>();
  const exited = new Set<Kind>();
  let dashboardUrl: string;

  const scrape = async () => (await fetch(`${dashboardUrl}metrics`)).text();
  const runs = async () =>
    (
      await scenario.db.pool.query<{
        run_id: string;
        scheduled_at: Date;
        started_at: Date;
        finished_at: Date | null;
        status: string;
        batches_failed: number;
        batches_loaded: number;
        rows_loaded: number;
        rows_duplicate: number;
        records_rejected: number;
      }>("select * from pipeline.pipeline_runs where trigger = 'schedule' order by scheduled_at")
    ).rows;

  beforeAll(async () => {
    scenario = await createScenario({ coins: 400, stepMs: STEP_MS });
    coinIds = scenario.simulator.control.universeIds().slice(0, COINS);
    const overrides = {
      LOG_LEVEL: 'info',
      TICK_INTERVAL: `${TICK_MS}ms`,
      COIN_IDS: coinIds.join(','),
      COINGECKO_MAX_IDS_PER_CALL: String(COINS / BATCHES),
      UNIVERSE_REFRESH_INTERVAL: '1h',
      // Production-like retries (the test default is 100 ms .. 2 s): a failing batch gives up after
      // about half a minute, not in a tight loop.
      FETCH_ATTEMPTS: String(FETCH_ATTEMPTS),
      RETRY_BASE_DELAY: '1s',
      RETRY_MAX_DELAY: '10s',
    };
    const env = {
      ...testEnv({ databaseUrl: scenario.db.url, prefix: scenario.prefix, coingeckoUrl: scenario.simulator.url }),
      ...overrides,
    };
    runtime = new Runtime(scenario.config(overrides), rootLogger, 'test');
    const spawn = (kind: Kind, extra: Record<string, string> = {}) => {
      const child = new PipelineProcess(kind, { ...env, ...extra });
      processes.set(kind, child);
      void child.exited.then(() => exited.add(kind));
      return child;
    };
    spawn('fetch');
    spawn('load');
    spawn('scheduler');
    const dashboard = spawn('dashboard', { DASHBOARD_PORT: '0', DASHBOARD_HOST: '127.0.0.1' });
    await dashboard.waitForLog('dashboard listening');
    dashboardUrl = dashboard.logs().find((l) => l.message === 'dashboard listening')!.url as string;
    dashboardUrl = dashboardUrl.replace('localhost', '127.0.0.1');
  }, 60_000);

  afterAll(async () => {
    await Promise.all([...processes.values()].map((p) => p.kill('SIGKILL')));
    await runtime?.close();
    await scenario?.teardown();
  });

  it(
    'fails batches with the reason, goes stale, keeps ticking, then recovers with every coin loaded once',
    async () => {
      const started = Date.now();
      // Warm-up: scheduled ticks load.
      await waitFor(
        'two scheduled ticks loaded',
        async () => (await runs()).filter((r) => r.status === 'loaded').length >= 2,
        60_000,
        250,
      );
      const fetchPid = processes.get('fetch')!.pid;

      // The outage.
      const outageStart = Date.now();
      scenario.simulator.control.setFaults({ outage: true });
      const rss: number[] = [];
      let rssEarly = 0;
      while (Date.now() - outageStart < OUTAGE_MS) {
        await new Promise((r) => setTimeout(r, 5000));
        expect([...exited]).toEqual([]);
        rss.push(rssMb(fetchPid));
        // After the first wave of failures has been through the process: its steady state.
        if (!rssEarly && Date.now() - outageStart > 60_000) rssEarly = rssMb(fetchPid);
      }

      // Still in the outage: what it did to the pipeline.
      const beforeEnd = Date.now();
      const metricsDuring = await scrape();
      const lastLoad = sample(metricsDuring, 'cdp_freshness_last_load_timestamp_seconds')!;
      // Nothing loaded once the batches in flight at the start were done: the alert's age kept growing.
      expect(lastLoad * 1000).toBeLessThan(outageStart + 5000);
      expect(beforeEnd / 1000 - lastLoad).toBeGreaterThan(OUTAGE_MS / 1000 - 5);
      expect(sample(metricsDuring, 'cdp_pipeline_runs_recent{status="failed"}')).toBeGreaterThanOrEqual(80);

      const outageRuns = (await runs()).filter(
        (r) =>
          r.started_at.getTime() > outageStart + 1000 && r.started_at.getTime() < beforeEnd - RETRY_CHAIN_MS - 5000,
      );
      // Ticks kept coming every 3 s: the scheduler neither stopped nor piled up.
      expect(outageRuns.length).toBeGreaterThanOrEqual((OUTAGE_MS - RETRY_CHAIN_MS - 6000) / TICK_MS - 5);
      // Each had time to use all its attempts, and failed for good: no run is left hanging.
      expect(outageRuns.filter((r) => r.status !== 'failed' || r.batches_failed !== BATCHES)).toEqual([]);
      const batchErrors = await scenario.db.pool.query<{ error: string }>(
        'select error from pipeline.pipeline_batches where run_id = any($1) and status = $2',
        [outageRuns.map((r) => r.run_id), 'failed'],
      );
      expect(batchErrors.rows).toHaveLength(outageRuns.length * BATCHES);
      for (const { error } of batchErrors.rows)
        expect(error).toMatch(
          /^GET \/coins\/markets: HTTP 503 <!DOCTYPE html> <html lang="en-US"> <head><title>api\.coingecko\.com \| 503: Service unavailable/,
        );
      // In BullMQ's failed set with the same reason, after exactly FETCH_ATTEMPTS attempts each.
      const outageRunIds = new Set(outageRuns.map((r) => r.run_id));
      const failedFetches = (await runtime.queue('fetch').getJobs(['failed'])).filter((j) =>
        outageRunIds.has(j.data.runId),
      );
      expect(failedFetches).toHaveLength(outageRuns.length * BATCHES);
      for (const job of failedFetches) {
        expect(job.attemptsMade).toBe(FETCH_ATTEMPTS);
        expect(job.failedReason).toMatch(/^GET \/coins\/markets: HTTP 503 <!DOCTYPE html>/);
      }
      // Backoff, not a tight loop: at most FETCH_ATTEMPTS calls per batch that was in play.
      const inPlay = (await runs()).filter(
        (r) => r.started_at.getTime() < beforeEnd && (r.finished_at === null || r.finished_at.getTime() > outageStart),
      );
      const outageCalls = scenario.simulator.control
        .requests(outageStart)
        .filter((c) => c.path === '/coins/markets' && c.t < beforeEnd);
      expect(outageCalls.every((c) => c.status === 503)).toBe(true);
      expect(outageCalls.length).toBeLessThanOrEqual(inPlay.length * BATCHES * FETCH_ATTEMPTS);

      // CoinGecko is back.
      scenario.simulator.control.setFaults({ outage: false });
      const outageEnd = Date.now();
      const firstBack = await waitFor(
        'the first tick after the outage loaded',
        async () => (await runs()).find((r) => r.scheduled_at.getTime() >= outageEnd && r.finished_at !== null),
        30_000,
        200,
      );
      expect(firstBack.status).toBe('loaded');
      const recoveredAfterMs = firstBack.finished_at!.getTime() - outageEnd;
      // Ticks planned during the outage finish too (their pending retries now succeed or run out).
      await waitFor(
        'every run planned before the end to finish',
        async () =>
          (await runs()).filter((r) => r.started_at.getTime() < outageEnd).every((r) => r.finished_at !== null),
        RETRY_CHAIN_MS + 20_000,
        500,
      );

      // A tick with nothing else in flight: it must load each of the coins exactly once, as served.
      const quiet = Date.now();
      const clean = await waitFor(
        'a tick after everything settled loaded',
        async () => (await runs()).find((r) => r.started_at.getTime() > quiet && r.finished_at !== null),
        30_000,
        200,
      );
      expect(clean).toMatchObject({
        status: 'loaded',
        batches_loaded: BATCHES,
        batches_failed: 0,
        rows_loaded: COINS,
        rows_duplicate: 0,
        records_rejected: 0,
      });
      const rows = await scenario.db.pool.query<{ coin_id: string; last_updated: Date; current_price: number | null }>(
        'select coin_id, last_updated, current_price from raw.coin_market_snapshots where run_id = $1 order by coin_id',
        [clean.run_id],
      );
      expect(rows.rows.map((r) => r.coin_id)).toEqual([...coinIds].sort());
      for (const row of rows.rows) {
        // The simulator's record of that coin in the step that produced this last_updated.
        const [expected] = scenario.simulator.control.marketsSnapshot(
          [row.coin_id],
          'usd',
          row.last_updated.getTime() + STEP_MS,
        );
        expect({ coin: row.coin_id, at: row.last_updated.toISOString(), price: row.current_price }).toEqual({
          coin: expected!.id,
          at: expected!.last_updated,
          price: expected!.current_price,
        });
      }

      // Nothing duplicated anywhere, and the run ledger agrees with the data for every run.
      const duplicates = await scenario.db.pool.query(
        'select count(*) - count(distinct (coin_id, vs_currency, last_updated)) as n from raw.coin_market_snapshots',
      );
      expect(Number(duplicates.rows[0].n)).toBe(0);
      const mismatched = await scenario.db.pool.query(`
      select r.run_id, r.rows_loaded, coalesce(s.n, 0) as actual
        from pipeline.pipeline_runs r
        left join (select run_id, count(*)::int as n from raw.coin_market_snapshots group by run_id) s using (run_id)
       where r.rows_loaded <> coalesce(s.n, 0)`);
      expect(mismatched.rows).toEqual([]);
      const unexplained = await scenario.db.pool.query(
        "select count(*)::int as n from pipeline.pipeline_batches where status = 'failed' and coalesce(error, '') = ''",
      );
      expect(unexplained.rows[0].n).toBe(0);

      // Fresh again, every process still up, and the fetch process did not grow through ~100 failed ticks.
      const metricsAfter = await scrape();
      expect(Date.now() / 1000 - sample(metricsAfter, 'cdp_freshness_last_load_timestamp_seconds')!).toBeLessThan(10);
      expect([...exited]).toEqual([]);
      const rssLate = rssMb(fetchPid);
      expect(rssLate - rssEarly).toBeLessThan(60);

      const failedRuns = (await runs()).filter((r) => r.status === 'failed').length;
      process.stderr.write(
        `coingecko outage: ${failedRuns} runs failed, ${outageCalls.length} calls during ${OUTAGE_MS / 1000}s, ` +
          `first tick after the outage loaded ${recoveredAfterMs} ms after it ended, fetch RSS ${rssEarly.toFixed(0)} → ${rssLate.toFixed(0)} MB ` +
          `(max ${Math.max(...rss).toFixed(0)}), total ${Math.round((Date.now() - started) / 1000)} s\n`,
      );
    },
    OUTAGE_MS + 150_000,
  );
});
