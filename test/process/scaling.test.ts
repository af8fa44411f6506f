import { busiestWindow } from '../helpers/busiest-window.js';
import { testEnv } from '../helpers/config.js';
import { PipelineProcess } from '../helpers/processes.js';
import { createScenario, refreshUniverse, waitForTick, type Scenario } from '../helpers/scenario.js';
import { enqueueTick } from '../../producers/tick/enqueue-tick.js';
import { InProcessPipeline } from '../helpers/pipeline.js';
import { queueEvents, withActiveJobs } from '../helpers/queue-events.js';
import { waitFor } from '../helpers/wait-for.js';

type Kind = 'scheduler' | 'fetch' | 'load' | 'transform';

describe('4 fetch + 2 load + 2 transform processes on one Redis and Postgres', () => {
  let scenario: Scenario;
  let client: InProcessPipeline;
  const processes: { name: string; kind: Kind; child: PipelineProcess }[] = [];
  let env: Record<string, string>;
  const LIMIT_PER_MIN = 600; // 10/s; the simulator enforces 50 per 5 s window
  const spawn = (name: string, kind: Kind) => {
    const child = new PipelineProcess(kind, env);
    processes.push({ name, kind, child });
    return child;
  };

  beforeAll(async () => {
    scenario = await createScenario({ coins: 3000, stepMs: 1000 });
    env = {
      ...testEnv({ databaseUrl: scenario.db.url, prefix: scenario.prefix, coingeckoUrl: scenario.simulator.url }),
      LOG_LEVEL: 'info',
      TRACK_TOP_N: '3000',
      COINGECKO_MAX_IDS_PER_CALL: '50',
      COINGECKO_RATE_LIMIT_PER_MIN: String(LIMIT_PER_MIN),
      SCHEDULE_ENABLED: 'false',
      TRANSFORM_RUNNER: 'bundled',
    };
    client = new InProcessPipeline(
      scenario.config({
        TRACK_TOP_N: '3000',
        COINGECKO_MAX_IDS_PER_CALL: '50',
        COINGECKO_RATE_LIMIT_PER_MIN: String(LIMIT_PER_MIN),
      }),
    );
    spawn('scheduler', 'scheduler');
    for (let i = 1; i <= 4; i++) spawn(`fetch-${i}`, 'fetch');
    for (let i = 1; i <= 2; i++) spawn(`load-${i}`, 'load');
    for (let i = 1; i <= 2; i++) spawn(`transform-${i}`, 'transform');
    await Promise.all(
      processes.map(({ child, kind }) =>
        child.waitForLog(kind === 'scheduler' ? 'scheduler started' : `${kind} worker started`),
      ),
    );
    await refreshUniverse(client.runtime, 90_000);
  });
  afterAll(async () => {
    await Promise.all(processes.map(({ child }) => child.kill('SIGKILL')));
    await client.runtime.close();
    await scenario.teardown();
  });

  it('holds the rate limit, loads every batch once (or supersedes it by a newer tick) and runs one transform at a time, even with one process of each kind killed mid-tick', async () => {
    scenario.simulator.control.setFaults({ rateLimit: 50, rateWindowMs: 5000 });
    const since = Date.now();
    const first = await enqueueTick(client.runtime);
    // Mid-tick: kill one fetch, one load and one transform process (and restart none of them).
    await waitFor(
      'the tick half fetched',
      async () => {
        const row = (
          await scenario.db.pool.query('select batches_fetched from pipeline.pipeline_runs where run_id = $1', [first])
        ).rows[0];
        return row && row.batches_fetched >= 20;
      },
      60_000,
      100,
    );
    for (const name of ['fetch-1', 'load-1', 'transform-1'])
      await processes.find((p) => p.name === name)!.child.kill('SIGKILL');
    const second = await enqueueTick(client.runtime);
    const third = await enqueueTick(client.runtime);

    // Two ticks added at once, behind a half-fetched one: planning each newer tick supersedes the older
    // ticks' batches not yet fetched (producers/tick/supersede-batches.ts). Every batch of an older
    // tick is loaded or superseded, never failed or lost, and the newest tick loads every batch.
    for (const runId of [first, second]) {
      const { run } = await waitForTick(client.runtime, scenario.db, runId, 120_000);
      expect(run).toMatchObject({ batches_planned: 60, batches_failed: 0 });
      expect(['loaded', 'superseded']).toContain(run.status);
      expect(Number(run.batches_loaded) + Number(run.batches_superseded)).toBe(60);
    }
    const { run: newest } = await waitForTick(client.runtime, scenario.db, third, 120_000);
    expect(newest).toMatchObject({ status: 'loaded', batches_planned: 60, batches_loaded: 60, batches_failed: 0 });
    const perRun = await scenario.db.pool.query(
      `select run_id, count(*)::int as n, count(distinct coin_id)::int as coins from raw.coin_market_snapshots
        where run_id = any($1) group by run_id`,
      [[first, second, third]],
    );
    for (const row of perRun.rows) expect(row.n).toBe(row.coins);
    const duplicates = await scenario.db.pool.query(
      'select count(*) - count(distinct (coin_id, vs_currency, last_updated)) as n from raw.coin_market_snapshots',
    );
    expect(Number(duplicates.rows[0].n)).toBe(0);

    const calls = scenario.simulator.control.requests(since).filter((r) => r.path.startsWith('/coins/markets'));
    expect(calls.filter((c) => c.status === 429)).toEqual([]);
    expect(
      busiestWindow(
        calls.map((c) => c.t),
        5000,
      ),
    ).toBeLessThanOrEqual(50);

    // dbt runs never overlapped, across both transform processes: a run happens inside its job's
    // active state, and the transform queue's global concurrency of 1 lets one job be active at a
    // time. Checked on the queue's own event stream, in the order Redis applied the moves, rather
    // than on timestamps taken by two processes (a job of the killed process leaves active when
    // found stalled, and only then may another job start).
    const transformQueue = client.runtime.queue('transform');
    const replay = withActiveJobs(await queueEvents(client.runtime.redis, transformQueue));
    const overlaps = replay
      .filter(({ active }) => active.size > 1)
      .map(({ event, active }) => ({ at: event.id, active: [...active] }));
    expect(overlaps).toEqual([]);
    // The stream holds every run: at least one activation per run recorded in the ledger.
    const runs = (await scenario.db.pool.query<{ n: number }>('select count(*)::int as n from pipeline.transform_runs'))
      .rows[0]!.n;
    expect(runs).toBeGreaterThan(0);
    expect(replay.filter(({ event }) => event.event === 'active').length).toBeGreaterThanOrEqual(runs);
  });
});
