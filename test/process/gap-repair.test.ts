import { chromium, type Browser } from 'playwright-core';
import { testEnv } from '../helpers/config.js';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../helpers/chromium.js';
import { InProcessPipeline } from '../helpers/pipeline.js';
import { PipelineProcess } from '../helpers/processes.js';
import { createScenario, type Scenario } from '../helpers/scenario.js';
import { waitFor } from '../helpers/wait-for.js';

/**
 * Issue 16's "a gap made by stopping the scheduler for three ticks is repaired", with real processes:
 * the scheduler (which plans ticks and runs the watchdog that finds and repairs gaps) is stopped for
 * three tick intervals and started again; fetch and load workers keep running. CoinGecko's history
 * is 5-minutely at best, so a gap of a few seconds usually holds no point: the repair still runs and
 * the gap is repaired, with the points it found (test/core/history/repair-gaps.test.ts repairs an
 * hour-long gap with points).
 */
describe('a gap left by a stopped scheduler', () => {
  const INTERVAL_MS = 2000;
  let scenario: Scenario;
  let workers: InProcessPipeline;
  let browser: Browser | undefined;
  const processes: PipelineProcess[] = [];
  const env = {
    TICK_INTERVAL: `${INTERVAL_MS}ms`,
    GAP_THRESHOLD: '5s',
    COIN_IDS: 'bitcoin,ethereum,tether,solana',
    UNIVERSE_REFRESH_INTERVAL: '1h',
  };

  beforeAll(async () => {
    scenario = await createScenario({ coins: 200, stepMs: 500 });
    workers = await new InProcessPipeline(scenario.config(env)).start(['fetch', 'load']);
  });
  afterAll(async () => {
    await browser?.close();
    await Promise.all(processes.map((p) => p.kill('SIGTERM')));
    await workers.stop();
    await scenario.teardown();
  });

  const processEnv = () => ({
    ...testEnv({ databaseUrl: scenario.db.url, prefix: scenario.prefix, coingeckoUrl: scenario.simulator.url, env }),
    LOG_LEVEL: 'info',
  });
  const startProcess = async (kind: 'scheduler' | 'dashboard', extra: Record<string, string> = {}) => {
    const started = new PipelineProcess(kind, { ...processEnv(), ...extra });
    processes.push(started);
    await started.waitForLog(kind === 'scheduler' ? 'scheduler started' : 'dashboard listening');
    return started;
  };
  const loadedTicks = async () =>
    (
      await scenario.db.pool.query<{ started_at: Date }>(
        `select started_at from pipeline.pipeline_runs where batches_loaded > 0 order by started_at`,
      )
    ).rows.map((r) => r.started_at.getTime());

  it('is recorded, repaired from market_chart/range, counted by the gauges and listed on the Pipeline page', async () => {
    const first = await startProcess('scheduler');
    await waitFor('two loaded ticks', async () => (await loadedTicks()).length >= 2, 30_000, 100);
    await first.kill('SIGTERM');
    const stoppedAt = Date.now();
    // Three ticks' time with no scheduler (a condition to create, not a duration to measure).
    await new Promise((resolve) => setTimeout(resolve, 3 * INTERVAL_MS + 500));
    const lastBefore = Math.max(...(await loadedTicks()).filter((t) => t <= stoppedAt));
    const dashboard = await startProcess('dashboard', { DASHBOARD_PORT: '0', DASHBOARD_HOST: '127.0.0.1' });
    const url = dashboard.logs().find((l) => l.message === 'dashboard listening')!.url as string;
    const second = await startProcess('scheduler');

    const gap = await waitFor(
      'the gap recorded',
      async () =>
        (
          await scenario.db.pool.query<{ gap_id: string; gap_from: Date; gap_to: Date; coins: number }>(
            'select gap_id, gap_from, gap_to, coins from pipeline.coverage_gaps',
          )
        ).rows[0],
      30_000,
      100,
    );
    expect(gap.gap_from.getTime()).toBe(lastBefore);
    expect(gap.gap_to.getTime() - gap.gap_from.getTime()).toBeGreaterThan(3 * INTERVAL_MS);
    expect(gap.coins).toBe(4);

    const repaired = await waitFor(
      'the gap repaired',
      async () =>
        (
          await scenario.db.pool.query<{
            status: string;
            history_run_id: string;
            points_stored: number;
            note: string | null;
          }>(
            `select status, history_run_id, points_stored, note from pipeline.coverage_gaps where gap_id = $1 and status = 'repaired'`,
            [gap.gap_id],
          )
        ).rows[0],
      60_000,
      200,
    );
    const run = await scenario.db.pool.query<{ kind: string; status: string; calls: number; points: number }>(
      `select r.kind, r.status, sum(i.calls)::int as calls, sum(i.rows_inserted)::int as points
         from pipeline.history_runs r join pipeline.history_items i using (history_run_id)
        where r.history_run_id = $1 group by r.kind, r.status`,
      [repaired.history_run_id],
    );
    expect(run.rows).toEqual([{ kind: 'repair', status: 'done', calls: 4, points: repaired.points_stored }]);
    if (repaired.points_stored === 0) expect(repaired.note).toMatch(/5-minutely/);
    const requests = scenario.simulator.control
      .requests(stoppedAt)
      .filter((r) => r.path.includes('/market_chart/range'));
    expect(requests).toHaveLength(4);
    expect(second.logs().some((l) => l.message === 'coverage gap repair finished')).toBe(true);

    const metrics = await (await fetch(new URL('/metrics', url))).text();
    expect(metrics).toMatch(/^cdp_coverage_gaps_open 0$/m);
    expect(metrics).toMatch(/^cdp_coverage_gap_oldest_open_seconds 0$/m);

    browser = await chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS });
    const page = await browser.newPage();
    await page.goto(new URL('/pipeline', url).toString());
    const row = page.locator(`#gaps tr[data-gap-id="${gap.gap_id}"]`);
    await row.waitFor();
    const cells = await row.locator('td').allTextContents();
    expect(cells[2]).toBe('4');
    expect(cells[3]).toBe('repaired');
    expect(cells[4]).toBe('4');
    expect(cells[5]).toBe(String(repaired.points_stored));
    expect(await page.locator('#gaps-total').textContent()).toBe('0 open.');
  });
});
