import { busiestWindow } from '../helpers/busiest-window.js';
import { InProcessPipeline } from '../helpers/pipeline.js';
import { PipelineProcess } from '../helpers/processes.js';
import { testEnv } from '../helpers/config.js';
import { createScenario, refreshUniverse, waitForTick, type Scenario } from '../helpers/scenario.js';
import { enqueueTick } from '../../producers/tick/enqueue-tick.js';

describe('three fetch processes against a rate-limited CoinGecko', () => {
  let scenario: Scenario;
  let planner: InProcessPipeline;
  const fetchers: PipelineProcess[] = [];

  // 240 calls/min (4/s), enforced by the simulator per 10 s window (40 per window); the pipeline is
  // told the same per-minute limit and must share it across processes.
  const LIMIT_PER_MIN = 240;
  const SIM_WINDOW_MS = 10_000;
  const SIM_LIMIT = (LIMIT_PER_MIN * SIM_WINDOW_MS) / 60_000;

  beforeAll(async () => {
    scenario = await createScenario({ coins: 8000, stepMs: 60_000 });
    const env = {
      TRACK_TOP_N: '8000',
      COINGECKO_RATE_LIMIT_PER_MIN: String(LIMIT_PER_MIN),
      COINGECKO_MAX_IDS_PER_CALL: '200',
    };
    planner = await new InProcessPipeline(scenario.config(env)).start(['planner', 'load', 'transform']);
    for (let i = 0; i < 3; i++) {
      fetchers.push(
        new PipelineProcess('fetch', {
          ...testEnv({
            databaseUrl: scenario.db.url,
            prefix: scenario.prefix,
            coingeckoUrl: scenario.simulator.url,
            env,
          }),
          LOG_LEVEL: 'info',
        }),
      );
    }
    await Promise.all(fetchers.map((f) => f.waitForLog('fetch worker started')));
  });
  afterAll(async () => {
    await Promise.all(fetchers.map((f) => f.kill('SIGTERM')));
    await planner.stop();
    await scenario.teardown();
  });

  it('keeps to the limit overall, shares the work and completes the tick', async () => {
    await refreshUniverse(planner.runtime, 90_000);
    // Only now switch the simulator's limit on, aligned so the whole tick is measured against it.
    scenario.simulator.control.setFaults({ rateLimit: SIM_LIMIT, rateWindowMs: SIM_WINDOW_MS });
    const since = Date.now();
    const runId = await enqueueTick(planner.runtime);
    const { run } = await waitForTick(planner.runtime, scenario.db, runId, 120_000);

    expect(run).toMatchObject({ status: 'loaded', rows_loaded: 8000, batches_failed: 0 });
    const calls = scenario.simulator.control.requests(since).filter((r) => r.path.startsWith('/coins/markets'));
    expect(calls.filter((c) => c.status === 429)).toEqual([]);
    expect(
      busiestWindow(
        calls.map((c) => c.t),
        SIM_WINDOW_MS,
      ),
    ).toBeLessThanOrEqual(SIM_LIMIT);
    expect(
      busiestWindow(
        calls.map((c) => c.t),
        60_000,
      ),
    ).toBeLessThanOrEqual(LIMIT_PER_MIN);
    // Every process took part: the limit is shared, not per process.
    const completedBy = fetchers.map(
      (f) => f.logs().filter((l) => l.message === 'job completed' && l.queue === 'fetch').length,
    );
    expect(completedBy.every((n) => n > 0)).toBe(true);
  });
});
