import { DAY_MS } from '../../../core/history/plan-history.js';
import { ensureInitialBackfill } from '../../../core/history/initial-backfill.js';
import { Runtime } from '../../../core/runtime.js';
import { rootLogger } from '../../../core/log/logger.js';
import { InProcessPipeline } from '../../helpers/pipeline.js';
import { createScenario, refreshUniverse, runTick, type Scenario } from '../../helpers/scenario.js';
import { waitFor } from '../../helpers/wait-for.js';

/**
 * BACKFILL_DAYS: the first tick of a pipeline backfills the coins it tracks, once per database,
 * whatever number of ticks and schedulers follow; its calls go to the fetch workers and store history.
 */
let scenario: Scenario;
let pipeline: InProcessPipeline;
const TRACKED = 12;

beforeAll(async () => {
  scenario = await createScenario({ coins: 200 });
  pipeline = new InProcessPipeline(scenario.config({ TRACK_TOP_N: String(TRACKED), BACKFILL_DAYS: '3' }));
  await pipeline.start();
  await refreshUniverse(pipeline.runtime);
}, 60_000);
afterAll(async () => {
  await pipeline?.stop();
  await scenario?.teardown();
});

const initialRuns = async () =>
  (
    await scenario.db.pool.query<{ history_run_id: string; coins: number; items: number; requested: { days: number } }>(
      `select history_run_id, coins, items, requested from pipeline.history_runs where kind = 'initial'`,
    )
  ).rows;

describe('the first-start backfill', () => {
  it('starts with the first tick, for the tracked coins, once however many ticks follow', async () => {
    await runTick(pipeline.runtime, scenario.db);
    await runTick(pipeline.runtime, scenario.db);
    const runs = await initialRuns();
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ coins: TRACKED, items: TRACKED, requested: { days: 3 } });
    const historyRunId = runs[0]!.history_run_id;
    await waitFor(
      'the first-start backfill to finish',
      async () =>
        (
          await scenario.db.pool.query(
            `select 1 from pipeline.history_runs where history_run_id = $1 and status = 'done'`,
            [historyRunId],
          )
        ).rowCount === 1,
      60_000,
    );
    const { rows } = await scenario.db.pool.query<{ coins: number; oldest: Date }>(
      `select count(distinct coin_id)::int as coins, min(observed_at) as oldest from raw.coin_history_points`,
    );
    expect(rows[0]!.coins).toBe(TRACKED);
    // Three days back (hourly points on the hour from the first hour in range).
    expect(Date.now() - rows[0]!.oldest.getTime()).toBeGreaterThan(3 * DAY_MS - 2 * 3_600_000);
  });

  it('is recorded once when schedulers race to it', async () => {
    await scenario.db.pool.query(`delete from pipeline.history_runs where kind = 'initial'`);
    const others = Array.from(
      { length: 4 },
      () => new Runtime(scenario.config({ BACKFILL_DAYS: '3' }), rootLogger, 'test-scheduler'),
    );
    try {
      const started = await Promise.all(others.map((r) => ensureInitialBackfill(r, ['bitcoin', 'ethereum'])));
      expect(started.filter((s) => s?.created)).toHaveLength(1);
      expect(await initialRuns()).toHaveLength(1);
    } finally {
      await Promise.all(others.map((r) => r.close()));
    }
  });

  it("stops short of the plan's reach: a day less than 365 on the demo plan", async () => {
    await scenario.db.pool.query(`delete from pipeline.history_runs where kind = 'initial'`);
    const demo = new Runtime(
      scenario.config({ BACKFILL_DAYS: '1000', COINGECKO_PLAN: 'demo', COINGECKO_API_KEY: 'CG-test-key-123456' }),
      rootLogger,
      'test-scheduler',
    );
    try {
      const now = Date.now();
      const started = await ensureInitialBackfill(demo, ['bitcoin'], now);
      expect(started?.created).toBe(true);
      const [run] = await initialRuns();
      expect(run!.requested).toMatchObject({ BACKFILL_DAYS: 1000, days: 364 });
      // Its calls run on the pipeline's fetch worker; what is checked here is the range it asked for.
    } finally {
      await demo.close();
    }
  });
});
