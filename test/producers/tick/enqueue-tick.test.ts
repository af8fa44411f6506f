import { InProcessPipeline } from '../../helpers/pipeline.js';
import { createScenario, type Scenario } from '../../helpers/scenario.js';
import { enqueueTick } from '../../../producers/tick/enqueue-tick.js';
import { jobIds } from '../../../core/queues/registry.js';

describe('ticks added by hand', () => {
  let scenario: Scenario;
  let pipeline: InProcessPipeline;

  beforeAll(async () => {
    scenario = await createScenario({ coins: 10 });
    // No process takes the ticks: they stay in the queue to be counted.
    pipeline = await new InProcessPipeline(scenario.config({})).start([]);
  });
  afterAll(async () => {
    await pipeline.stop();
    await scenario.teardown();
  });

  it('each get a run and a job of their own, even when added in the same millisecond', async () => {
    // Twenty at once from one process: several share a millisecond, which alone named the run.
    const runIds = await Promise.all(Array.from({ length: 20 }, () => enqueueTick(pipeline.runtime)));
    expect(new Set(runIds).size).toBe(20);
    const jobs = await Promise.all(runIds.map((id) => pipeline.runtime.queue('tick').getJob(jobIds.manualTick(id))));
    expect(jobs.filter((job) => job?.data.trigger === 'manual')).toHaveLength(20);
    for (const id of runIds) expect(id).toMatch(/^m\d+-[0-9a-f]{6}$/);
  });
});
