import { recordPlannedRun } from '../../core/pipeline/run-ledger.js';
import { jobIds } from '../../core/queues/registry.js';
import { tickFlow } from '../../producers/tick/tick-flow.js';
import { InProcessPipeline } from '../helpers/pipeline.js';
import { allJobs, createScenario, refreshUniverse, runTick, type Scenario } from '../helpers/scenario.js';
import { loadSnapshotBatch } from '../helpers/snapshot-loads.js';
import { waitFor } from '../helpers/wait-for.js';

// The simulator's clock is pinned, so CoinGecko's data (and every last_updated) stays the same
// between ticks: exactly the situation where a naive loader would duplicate rows.
const FROZEN_AT = Date.parse('2026-11-27T10:00:00Z');

describe('loading is idempotent', () => {
  let scenario: Scenario;
  let pipeline: InProcessPipeline;
  let firstRunId: string;
  const rowCount = async () =>
    (
      await scenario.db.pool.query(
        'select count(*)::int as n, count(distinct (coin_id, last_updated))::int as keys from raw.coin_market_snapshots',
      )
    ).rows[0];

  beforeAll(async () => {
    scenario = await createScenario({ coins: 2000, clock: () => FROZEN_AT });
    pipeline = await new InProcessPipeline(scenario.config({ TRACK_TOP_N: '2000' })).start();
    await refreshUniverse(pipeline.runtime);
    firstRunId = (await runTick(pipeline.runtime, scenario.db)).runId;
  });
  afterAll(async () => {
    await pipeline.stop();
    await scenario.teardown();
  });

  it('loads every coin once on the first tick', async () => {
    expect(await rowCount()).toEqual({ n: 2000, keys: 2000 });
  });

  it('adds no row when a second tick sees the same CoinGecko data', async () => {
    const { run } = await runTick(pipeline.runtime, scenario.db);
    expect(run).toMatchObject({ status: 'loaded', rows_loaded: 0, rows_duplicate: 2000 });
    expect(await rowCount()).toEqual({ n: 2000, keys: 2000 });
  });

  it('loads nothing twice when a completed load job is retried', async () => {
    const load = (await pipeline.runtime.queue('load').getJob(jobIds.load(firstRunId, 0)))!;
    await load.retry('completed');
    await waitFor(
      'retried load to complete',
      async () =>
        (await load.getState()) === 'completed' &&
        (await pipeline.runtime.queue('load').getJob(load.id!))?.attemptsMade,
      20_000,
    );
    const again = (await pipeline.runtime.queue('load').getJob(load.id!))!;
    expect(again.returnvalue).toMatchObject({ status: 'already-loaded', rowsLoaded: 0 });
    expect(await rowCount()).toEqual({ n: 2000, keys: 2000 });
  });

  it('adds no job when a tick flow is added again', async () => {
    const before = await Promise.all(
      (['fetch', 'load', 'transform'] as const).map(async (k) => (await allJobs(pipeline.runtime, k)).length),
    );
    const batches = (
      await scenario.db.pool.query(
        'select coin_ids from pipeline.pipeline_batches where run_id = $1 order by batch_no',
        [firstRunId],
      )
    ).rows.map((r) => r.coin_ids);
    await pipeline.runtime.flows.add(tickFlow(pipeline.config, firstRunId, batches));
    const after = await Promise.all(
      (['fetch', 'load', 'transform'] as const).map(async (k) => (await allJobs(pipeline.runtime, k)).length),
    );
    expect(after).toEqual(before);
  });

  it('loads a batch delivered twice at the same moment exactly once', async () => {
    const items = scenario.simulator.control.marketsSnapshot(['bitcoin', 'ethereum']);
    // Shift last_updated so these are new rows, then deliver the same batch from two "workers" at once.
    const shifted = items.map((item) => ({ ...item, last_updated: '2026-11-27T11:00:00.000Z' }));
    await recordPlannedRun(pipeline.runtime.pool, {
      runId: 'mtwice',
      trigger: 'manual',
      scheduledAt: null,
      batches: [['bitcoin', 'ethereum']],
    });
    const input = { runId: 'mtwice', batchNo: 0, vsCurrency: 'usd', items: shifted };
    const outcomes = await Promise.all([
      loadSnapshotBatch(pipeline.runtime.pool, input),
      loadSnapshotBatch(pipeline.runtime.pool, input),
    ]);
    expect(outcomes.map((o) => o.status).sort()).toEqual(['already-loaded', 'loaded']);
    expect(outcomes.reduce((n, o) => n + o.rowsLoaded, 0)).toBe(2);
    const run = (
      await scenario.db.pool.query(
        "select batches_loaded, rows_loaded, status from pipeline.pipeline_runs where run_id = 'mtwice'",
      )
    ).rows[0];
    expect(run).toEqual({ batches_loaded: 1, rows_loaded: 2, status: 'loaded' });
  });
});
