import type { Job, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { jobIds } from '../../core/queues/registry.js';
import { enqueueTick } from '../../producers/tick/enqueue-tick.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { loadedRows, startLoaderRig, type LoaderRig } from '../helpers/loader-rig.js';
import { InProcessPipeline } from '../helpers/pipeline.js';
import { createScenario, refreshUniverse, runRow, waitForTick, type Scenario } from '../helpers/scenario.js';
import { waitFor } from '../helpers/wait-for.js';

const COINS = 1000; // 5 batches (cut by COINGECKO_MAX_URL_BYTES)

/** The ledger's view of a run, next to what the raw table holds for it. */
async function ledgerAndData(db: TestDatabase, runId: string) {
  const run = (await runRow(db, runId))!;
  const batches = (
    await db.pool.query<{ status: string; error: string | null; rows_loaded: number | null; coins: number }>(
      'select status, error, rows_loaded, cardinality(coin_ids) as coins from pipeline.pipeline_batches where run_id = $1 order by batch_no',
      [runId],
    )
  ).rows;
  const rows = await loadedRows(db, runId);
  return { run, batches, rows };
}

/** Waits until BullMQ has the job in `state` after a retry (its attempts went up from `attemptsBefore`). */
async function settledAfterRetry(
  queue: Queue,
  job: Job,
  attemptsBefore: number,
  state: 'completed' | 'failed',
  timeoutMs = 30_000,
): Promise<Job> {
  return waitFor(
    `${job.id} ${state} after its retry`,
    async () => {
      const now = await queue.getJob(job.id!);
      return now && now.attemptsMade > attemptsBefore && (await now.getState()) === state ? now : undefined;
    },
    timeoutMs,
    100,
  );
}

/**
 * An operator fixes the cause of a failed batch and presses "Retry" on its job in Bull Board
 * (job.retry('failed')). The rows load exactly once, and the run ledger follows: the batch moves
 * failed → loaded, the run's counters move from batches_failed to batches_loaded with the rows,
 * and a run that finished failed or partial because of it is finished again as what it now is.
 */
describe('retrying a batch that failed for good', () => {
  describe('a load that failed for good (the load role lost INSERT; GRANT, then Retry)', () => {
    let db: TestDatabase;
    let rig: LoaderRig;

    beforeAll(async () => {
      db = await createTestDatabase();
      try {
        // One attempt: the first failure is final, whatever its class.
        rig = await startLoaderRig({
          databaseUrl: db.url,
          loaderRole: 'cdp_loader',
          coins: COINS,
          env: { LOAD_CONCURRENCY: '2', LOAD_ATTEMPTS: '1' },
        });
        await db.pool.query('select raw.ensure_snapshot_partitions(current_date - 1, current_date + 3)');
      } catch (error) {
        await db.drop();
        throw error;
      }
    }, 60_000);
    afterAll(async () => {
      await rig?.stop();
      await db?.drop();
    });

    it('moves the batch failed → loaded and the run failed → partial → loaded, rows counted once', async () => {
      const loadQueue = rig.pipeline.runtime.queue('load');
      await db.pool.query('revoke insert on raw.coin_market_snapshots from cdp_loader');
      rig.nextMarketStep();
      const runId = await enqueueTick(rig.pipeline.runtime);
      const { run: failedRun, transform } = await waitForTick(rig.pipeline.runtime, db, runId, 30_000);
      const planned = Number(failedRun.batches_planned);
      expect(planned).toBeGreaterThan(2);
      const firstSize = (await ledgerAndData(db, runId)).batches[0]!.coins;
      expect(failedRun).toMatchObject({
        status: 'failed',
        batches_loaded: 0,
        batches_failed: planned,
        batches_fetched: planned,
        rows_loaded: 0,
      });
      const transformBefore = { state: await transform.getState(), finishedOn: transform.finishedOn };

      await db.pool.query('grant insert on raw.coin_market_snapshots to cdp_loader');

      // Retry one batch: the run is now partial, its counters matching the data.
      const first = (await loadQueue.getJob(jobIds.load(runId, 0)))!;
      expect(await first.getState()).toBe('failed');
      await first.retry('failed');
      const loaded = await settledAfterRetry(loadQueue, first, first.attemptsMade, 'completed');
      expect(loaded.returnvalue).toMatchObject({ status: 'loaded', rowsLoaded: firstSize });
      let state = await ledgerAndData(db, runId);
      expect(state.rows).toMatchObject({ n: firstSize, coins: firstSize });
      expect(state.run).toMatchObject({
        status: 'partial',
        batches_loaded: 1,
        batches_failed: planned - 1,
        batches_fetched: planned,
        rows_loaded: firstSize,
        rows_duplicate: 0,
      });
      expect(state.run.finished_at).not.toBeNull();
      expect(state.batches.map((b) => b.status)).toEqual(['loaded', ...Array(planned - 1).fill('failed')]);
      expect(state.batches[0]).toMatchObject({ error: null, rows_loaded: firstSize });

      // Retry the others, at the same moment.
      const rest = await Promise.all(
        state.batches.slice(1).map(async (_, i) => (await loadQueue.getJob(jobIds.load(runId, i + 1)))!),
      );
      await Promise.all(rest.map((job) => job.retry('failed')));
      await Promise.all(rest.map((job) => settledAfterRetry(loadQueue, job, job.attemptsMade, 'completed')));
      state = await ledgerAndData(db, runId);
      expect(state.rows).toEqual({ n: COINS, coins: COINS, ids: [...rig.simulator.control.universeIds()].sort() });
      expect(state.run).toMatchObject({
        status: 'loaded',
        batches_loaded: planned,
        batches_failed: 0,
        batches_fetched: planned,
        rows_loaded: state.rows.n,
        rows_duplicate: 0,
        records_rejected: 0,
      });
      expect(state.batches.every((b) => b.status === 'loaded' && b.error === null)).toBe(true);

      // A second Retry of a now completed load finds the batch loaded: nothing moves.
      const again = (await loadQueue.getJob(jobIds.load(runId, 0)))!;
      await again.retry('completed');
      expect((await settledAfterRetry(loadQueue, again, again.attemptsMade, 'completed')).returnvalue).toMatchObject({
        status: 'already-loaded',
        rowsLoaded: 0,
      });
      expect((await ledgerAndData(db, runId)).run).toMatchObject({
        status: 'loaded',
        batches_loaded: planned,
        batches_failed: 0,
        rows_loaded: COINS,
      });
      expect((await loadedRows(db, runId)).n).toBe(COINS);

      // The tick's transform already ran and is not run again; the next tick's transform picks the
      // late rows up (see docs/operations.md, "What happens when…").
      const transformNow = (await rig.pipeline.runtime.queue('transform').getJob(jobIds.transform(runId)))!;
      expect({ state: await transformNow.getState(), finishedOn: transformNow.finishedOn }).toEqual(transformBefore);
      rig.expectLoadersUp();
    });

    /** Two ways batch 0's parked batch can be unusable when its load is retried; the others' are intact. */
    const spoilers: [string, (redis: Redis, payload: string) => Promise<void>][] = [
      [
        'expired before the Retry (PAYLOAD_TTL)',
        async (redis, payload) => {
          expect(await redis.del(payload)).toBe(1);
        },
      ],
      [
        'was damaged in Redis (cut short: its lines no longer match its keys)',
        async (redis, payload) => {
          const parked = (await redis.getBuffer(payload))!;
          expect(parked.subarray(0, 21).toString()).toBe('cdp-prepared-batch/1\n');
          await redis.set(payload, parked.subarray(0, parked.length - 100), 'KEEPTTL');
        },
      ],
    ];

    it.each(spoilers)('fetches a batch again when its parked batch %s, and loads it once', async (_, spoil) => {
      const loadQueue = rig.pipeline.runtime.queue('load');
      await db.pool.query('revoke insert on raw.coin_market_snapshots from cdp_loader');
      rig.nextMarketStep();
      const runId = await enqueueTick(rig.pipeline.runtime);
      const { run } = await waitForTick(rig.pipeline.runtime, db, runId, 30_000);
      const planned = Number(run.batches_planned);
      expect(run).toMatchObject({ status: 'failed', batches_failed: planned });
      await db.pool.query('grant insert on raw.coin_market_snapshots to cdp_loader');

      const payload = `${rig.prefix}:payload:fetch-${runId}-0`;
      await spoil(rig.pipeline.runtime.redis, payload);
      const fetchCalls = () => rig.simulator.control.requests().filter((r) => r.path === '/coins/markets').length;
      const callsBefore = fetchCalls();
      const loads = await Promise.all(
        Array.from({ length: planned }, async (_, n) => (await loadQueue.getJob(jobIds.load(runId, n)))!),
      );
      await Promise.all(loads.map((job) => job.retry('failed')));
      const done = await Promise.all(
        loads.map((job) => settledAfterRetry(loadQueue, job, job.attemptsMade, 'completed')),
      );
      expect(done.map((job) => job.returnvalue.status)).toEqual(Array(planned).fill('loaded'));
      // One CoinGecko call again, for batch 0 only.
      expect(fetchCalls() - callsBefore).toBe(1);
      const state = await ledgerAndData(db, runId);
      expect(state.rows).toEqual({ n: COINS, coins: COINS, ids: [...rig.simulator.control.universeIds()].sort() });
      expect(state.run).toMatchObject({
        status: 'loaded',
        batches_loaded: planned,
        batches_failed: 0,
        batches_fetched: planned,
        rows_loaded: COINS,
        rows_duplicate: 0,
      });
      expect(state.batches.every((b) => b.status === 'loaded' && b.error === null)).toBe(true);
      expect(await rig.pipeline.runtime.redis.exists(payload)).toBe(0);
      rig.expectLoadersUp();
    });
  });

  describe('a fetch that failed for good (CoinGecko answered 503 on the only attempt)', () => {
    let scenario: Scenario;
    let pipeline: InProcessPipeline;

    beforeAll(async () => {
      scenario = await createScenario({ coins: COINS, stepMs: 200 });
      pipeline = await new InProcessPipeline(
        scenario.config({ TRACK_TOP_N: String(COINS), FETCH_ATTEMPTS: '1' }),
      ).start();
      await refreshUniverse(pipeline.runtime);
    });
    // Each case's tick must load all new rows: a market step of its own.
    beforeEach(() => scenario.nextStep());
    afterAll(async () => {
      await pipeline.stop();
      await scenario.teardown();
    });

    it.each([
      ['its load', 'load'],
      ['its fetch', 'fetch'],
    ] as const)('loads the batch once when %s is retried', async (_, which) => {
      scenario.simulator.control.setFaults({ failNext: [{ count: 1, kind: '503', path: '/coins/markets' }] });
      const runId = await enqueueTick(pipeline.runtime);
      const { run: partial } = await waitForTick(pipeline.runtime, scenario.db, runId, 30_000);
      const planned = Number(partial.batches_planned);
      const failedBatch = (
        await scenario.db.pool.query<{ batch_no: number; coins: number }>(
          "select batch_no, cardinality(coin_ids) as coins from pipeline.pipeline_batches where run_id = $1 and status = 'failed'",
          [runId],
        )
      ).rows;
      expect(failedBatch.length).toBe(1);
      const { batch_no: batchNo, coins: failedCoins } = failedBatch[0]!;
      expect(partial).toMatchObject({
        status: 'partial',
        batches_loaded: planned - 1,
        batches_failed: 1,
        batches_fetched: planned - 1,
        rows_loaded: COINS - failedCoins,
      });
      const fetch = (await pipeline.runtime.queue('fetch').getJob(jobIds.fetch(runId, batchNo)))!;
      const load = (await pipeline.runtime.queue('load').getJob(jobIds.load(runId, batchNo)))!;
      expect([await fetch.getState(), await load.getState()]).toEqual(['failed', 'failed']);

      const retried = which === 'load' ? load : fetch;
      const attemptsBefore = load.attemptsMade;
      await retried.retry('failed');
      await settledAfterRetry(pipeline.runtime.queue('load'), load, attemptsBefore, 'completed');
      const state = await ledgerAndData(scenario.db, runId);
      expect(state.rows).toMatchObject({ n: COINS, coins: COINS });
      expect(state.run).toMatchObject({
        status: 'loaded',
        batches_loaded: planned,
        batches_failed: 0,
        batches_fetched: planned,
        rows_loaded: state.rows.n,
      });
      expect(state.batches.every((b) => b.status === 'loaded' && b.error === null)).toBe(true);
      expect(await (await pipeline.runtime.queue('fetch').getJob(fetch.id!))!.getState()).toBe('completed');
    });
  });
});
