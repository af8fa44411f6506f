import { InProcessPipeline } from '../../helpers/pipeline.js';
import { createScenario, refreshUniverse, runRow, waitForTick, type Scenario } from '../../helpers/scenario.js';
import { waitFor } from '../../helpers/wait-for.js';
import { enqueueTick } from '../../../producers/tick/enqueue-tick.js';
import { recordPlannedRun } from '../../../core/pipeline/run-ledger.js';
import { jobIds } from '../../../core/queues/registry.js';

describe('tick planning', () => {
  let scenario: Scenario;

  beforeAll(async () => {
    scenario = await createScenario({ coins: 600, stepMs: 500 });
  });
  afterAll(() => scenario.teardown());

  it('waits for the first universe refresh instead of planning an empty tick', async () => {
    const pipeline = await new InProcessPipeline(scenario.config({ TRACK_TOP_N: '600' })).start();
    try {
      const runId = await enqueueTick(pipeline.runtime);
      await waitFor('the tick to wait', async () =>
        (await pipeline.runtime.queue('tick').getJob(jobIds.manualTick(runId)))?.isDelayed(),
      );
      expect(await runRow(scenario.db, runId)).toBeUndefined();
      await refreshUniverse(pipeline.runtime);
      const { run } = await waitForTick(pipeline.runtime, scenario.db, runId);
      expect(run).toMatchObject({ status: 'loaded', coins_planned: 600, rows_loaded: 600 });
    } finally {
      await pipeline.stop();
    }
  });

  it('tracks only the top N coins by market cap', async () => {
    const pipeline = await new InProcessPipeline(scenario.config({ TRACK_TOP_N: '100' })).start();
    try {
      const runId = await enqueueTick(pipeline.runtime);
      const { run } = await waitForTick(pipeline.runtime, scenario.db, runId);
      expect(run).toMatchObject({ status: 'loaded', coins_planned: 100, batches_planned: 1 });
      const ranks = await scenario.db.pool.query(
        `select max(c.market_cap_rank)::int as worst, count(*)::int as coins
           from pipeline.pipeline_batches b cross join unnest(b.coin_ids) as planned(coin_id) join raw.coins c using (coin_id)
          where b.run_id = $1`,
        [runId],
      );
      expect(ranks.rows[0]).toEqual({ worst: 100, coins: 100 });
    } finally {
      await pipeline.stop();
    }
  });

  it("creates today's partition and PARTITION_DAYS_AHEAD more before its loads need them", async () => {
    const pipeline = await new InProcessPipeline(
      scenario.config({ TRACK_TOP_N: '100', PARTITION_DAYS_AHEAD: '5' }),
    ).start(['planner']);
    try {
      const runId = await enqueueTick(pipeline.runtime);
      await waitFor('the tick to be planned', async () => runRow(scenario.db, runId));
      const days = Array.from({ length: 6 }, (_, n) =>
        new Date(Date.now() + n * 86_400_000).toISOString().slice(0, 10).replaceAll('-', ''),
      );
      const found = await scenario.db.pool.query<{ name: string }>(
        `select c.relname as name from pg_inherits i join pg_class c on c.oid = i.inhrelid
          where i.inhparent = 'raw.coin_market_snapshots'::regclass and c.relname = any($1) order by 1`,
        [days.map((day) => `coin_market_snapshots_p${day}`)],
      );
      expect(found.rows.map((r) => r.name)).toEqual(days.map((day) => `coin_market_snapshots_p${day}`));
    } finally {
      await pipeline.stop();
    }
  });

  it('records the fetch and load jobs it finds waiting, before adding its own (the operations view)', async () => {
    const config = scenario.config({ TRACK_TOP_N: '600' });
    // The universe refresh calls CoinGecko through the fetch workers: a whole pipeline refreshes it first.
    const full = await new InProcessPipeline(config).start();
    await refreshUniverse(full.runtime).finally(() => full.stop());
    // Then only the planner runs: the first tick's fetch jobs stay waiting, its load jobs wait for them.
    const pipeline = await new InProcessPipeline(config).start(['planner']);
    try {
      // Earlier tests of this scenario may have left unfetched jobs behind.
      const fetchQueue = pipeline.runtime.queue('fetch');
      const before = await fetchQueue.getJobCountByTypes('waiting', 'prioritized', 'delayed');
      const first = await enqueueTick(pipeline.runtime);
      const firstRun = await waitFor('the first tick to be planned', async () => {
        const run = await runRow(scenario.db, first);
        return run?.transform_status === 'queued' ? run : undefined;
      });
      expect(firstRun).toMatchObject({ fetch_jobs_waiting: before, load_jobs_waiting: 0 });
      expect(firstRun.batches_planned).toBeGreaterThan(1);
      const second = await enqueueTick(pipeline.runtime);
      const secondRun = await waitFor('the second tick to be planned', async () => runRow(scenario.db, second));
      expect(secondRun).toMatchObject({
        fetch_jobs_waiting: before + Number(firstRun.batches_planned),
        load_jobs_waiting: 0,
      });
    } finally {
      await pipeline.stop();
    }
  });

  it('re-plans a retried tick with the batches it stored the first time', async () => {
    const pipeline = await new InProcessPipeline(scenario.config({ TRACK_TOP_N: '600' })).start();
    try {
      // The first attempt recorded its plan and then "crashed" before enqueueing anything.
      await recordPlannedRun(pipeline.runtime.pool, {
        runId: 'mretried',
        trigger: 'manual',
        scheduledAt: null,
        batches: [['bitcoin'], ['ethereum']],
      });
      await enqueueTick(pipeline.runtime, { runId: 'mretried' });
      const { run } = await waitForTick(pipeline.runtime, scenario.db, 'mretried');
      expect(run).toMatchObject({ status: 'loaded', batches_planned: 2, batches_loaded: 2, coins_planned: 2 });
      // Loaded now or by an earlier tick in the same CoinGecko update step: either way both coins arrived.
      expect(Number(run.rows_loaded) + Number(run.rows_duplicate)).toBe(2);
      const tick = await pipeline.runtime.queue('tick').getJob(jobIds.manualTick('mretried'));
      expect(tick?.returnvalue).toMatchObject({ status: 'replanned', batches: 2, coins: 2 });
    } finally {
      await pipeline.stop();
    }
  });

  it('fails with a clear reason when no universe appears in time', async () => {
    const empty = await createScenario({ coins: 10 });
    const pipeline = await new InProcessPipeline(empty.config({ UNIVERSE_WAIT: '0ms' })).start(['planner']);
    try {
      const runId = await enqueueTick(pipeline.runtime);
      const job = await waitFor('the tick to fail', async () => {
        const tick = await pipeline.runtime.queue('tick').getJob(jobIds.manualTick(runId));
        return (await tick?.isFailed()) ? tick : undefined;
      });
      expect(job.failedReason).toMatch(/no coins to fetch: raw.coins has no ranked active coin/);
      expect(job.attemptsMade).toBe(1);
    } finally {
      await pipeline.stop();
      await empty.teardown();
    }
  });
});
