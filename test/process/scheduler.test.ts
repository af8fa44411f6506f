import { SCHEDULERS } from '../../core/queues/registry.js';
import { testEnv } from '../helpers/config.js';
import { InProcessPipeline } from '../helpers/pipeline.js';
import { PipelineProcess } from '../helpers/processes.js';
import { createScenario, type Scenario } from '../helpers/scenario.js';
import { waitFor } from '../helpers/wait-for.js';

describe('scheduler processes', () => {
  let scenario: Scenario;
  let workers: InProcessPipeline;
  const schedulers: PipelineProcess[] = [];
  const env = { TICK_INTERVAL: '2s', COIN_IDS: 'bitcoin,ethereum,tether,solana', UNIVERSE_REFRESH_INTERVAL: '1h' };

  beforeAll(async () => {
    scenario = await createScenario({ coins: 200, stepMs: 500 });
    workers = await new InProcessPipeline(scenario.config(env)).start(['fetch', 'load']);
  });
  afterAll(async () => {
    await Promise.all(schedulers.map((s) => s.kill('SIGTERM')));
    await workers.stop();
    await scenario.teardown();
  });

  it('fire one tick per interval however many are running', async () => {
    const processEnv = {
      ...testEnv({ databaseUrl: scenario.db.url, prefix: scenario.prefix, coingeckoUrl: scenario.simulator.url, env }),
      LOG_LEVEL: 'info',
    };
    schedulers.push(
      new PipelineProcess('scheduler', processEnv),
      new PipelineProcess('scheduler', processEnv),
      new PipelineProcess('scheduler', processEnv),
    );
    await Promise.all(schedulers.map((s) => s.waitForLog('scheduler started')));

    const runs = await waitFor(
      '5 scheduled ticks',
      async () => {
        const result = await scenario.db.pool.query<{ run_id: string; scheduled_at: Date; status: string }>(
          "select run_id, scheduled_at, status from pipeline.pipeline_runs where trigger = 'schedule' order by scheduled_at",
        );
        return result.rows.length >= 5 ? result.rows : undefined;
      },
      30_000,
      250,
    );
    const gaps = runs.slice(1).map((r, i) => r.scheduled_at.getTime() - runs[i]!.scheduled_at.getTime());
    expect(gaps.every((gap) => gap === 2000)).toBe(true);
    expect(new Set(runs.map((r) => r.run_id)).size).toBe(runs.length);
    // Three planners competed; each slot's tick job ran in exactly one of them.
    const planned = schedulers.flatMap((s) =>
      s
        .logs()
        .filter((l) => l.message === 'tick planned')
        .map((l) => l.runId),
    );
    expect(new Set(planned).size).toBe(planned.length);
  });

  it('re-creates a job scheduler that disappeared (e.g. Redis lost its data)', async () => {
    const tick = workers.runtime.queue('tick');
    expect(await tick.removeJobScheduler(SCHEDULERS.tick)).toBe(true);
    await waitFor(
      'the watchdog to re-create the scheduler',
      async () => tick.getJobScheduler(SCHEDULERS.tick),
      15_000,
      250,
    );
    // The repair is logged after the upsert returns, so the log line may trail the scheduler by a moment.
    const repaired = await waitFor(
      'the repair to be logged',
      async () => {
        const lines = schedulers.flatMap((s) => s.logs()).filter((l) => l.message === 'job scheduler repaired');
        return lines.length > 0 ? lines : undefined;
      },
      5_000,
      100,
    );
    expect(repaired.map((l) => l.problem)).toContain('missing');
  });

  it('shut down gracefully on SIGTERM', async () => {
    const results = await Promise.all(schedulers.splice(0).map((s) => s.kill('SIGTERM')));
    expect(results.map((r) => r.code)).toEqual([0, 0, 0]);
  });
});
