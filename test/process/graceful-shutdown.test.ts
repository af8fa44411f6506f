import { testEnv } from '../helpers/config.js';
import { InProcessPipeline } from '../helpers/pipeline.js';
import { PipelineProcess } from '../helpers/processes.js';
import { createScenario, type Scenario } from '../helpers/scenario.js';
import { waitFor } from '../helpers/wait-for.js';
import { enqueueTick } from '../../producers/tick/enqueue-tick.js';

describe('SIGTERM to a worker process', () => {
  let scenario: Scenario;
  let planner: InProcessPipeline;

  beforeAll(async () => {
    scenario = await createScenario({ coins: 1000, latencyMs: 1500 });
    planner = await new InProcessPipeline(
      scenario.config({ COIN_IDS: scenario.simulator.control.universeIds().slice(0, 1000).join(',') }),
    ).start(['planner']);
  });
  afterAll(async () => {
    await planner.stop();
    await scenario.teardown();
  });

  it('lets the jobs in flight finish, then exits 0 without leaving any active', async () => {
    const fetcher = new PipelineProcess('fetch', {
      ...testEnv({ databaseUrl: scenario.db.url, prefix: scenario.prefix, coingeckoUrl: scenario.simulator.url }),
      LOG_LEVEL: 'info',
      FETCH_CONCURRENCY: '2',
    });
    await fetcher.waitForLog('fetch worker started');
    await enqueueTick(planner.runtime);
    const fetchQueue = planner.runtime.queue('fetch');
    await waitFor('two fetch calls in flight', async () => (await fetchQueue.getJobCounts('active')).active === 2);
    const active = (await fetchQueue.getJobs(['active'])).map((j) => j.id!);

    const { code } = await fetcher.kill('SIGTERM');
    expect(code).toBe(0);
    const states = await Promise.all(active.map(async (id) => (await fetchQueue.getJob(id))?.getState()));
    expect(states).toEqual(['completed', 'completed']);
    expect((await fetchQueue.getJobCounts('active')).active).toBe(0);
    expect(fetcher.logs().map((l) => l.message)).toContain('shutting down');
  });
});
