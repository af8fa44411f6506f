import { InProcessPipeline } from '../helpers/pipeline.js';
import { allJobs, createScenario, refreshUniverse, runTick, type Scenario } from '../helpers/scenario.js';

describe('one tick of 15,000 coins', () => {
  let scenario: Scenario;
  let pipeline: InProcessPipeline;

  beforeAll(async () => {
    scenario = await createScenario({ coins: 15_000 });
    pipeline = await new InProcessPipeline(scenario.config({ TRACK_TOP_N: '15000' })).start();
    await refreshUniverse(pipeline.runtime);
  });
  afterAll(async () => {
    await pipeline.stop();
    await scenario.teardown();
  });

  it('lands one row per coin, completes the run row and queues exactly one transform job', async () => {
    const { runId, run, transform } = await runTick(pipeline.runtime, scenario.db);

    const rows = await scenario.db.pool.query(
      'select count(*)::int as n, count(distinct coin_id)::int as coins from raw.coin_market_snapshots where run_id = $1',
      [runId],
    );
    expect(rows.rows[0]).toEqual({ n: 15_000, coins: 15_000 });

    // At most 250 ids per call, fewer where long ids would push the URL past COINGECKO_MAX_URL_BYTES.
    const batches = await scenario.db.pool.query(
      `select count(*)::int as n, sum(cardinality(coin_ids))::int as coins, max(cardinality(coin_ids))::int as largest
         from pipeline.pipeline_batches where run_id = $1 and status = 'loaded'`,
      [runId],
    );
    const { n: planned, coins, largest } = batches.rows[0];
    expect(coins).toBe(15_000);
    expect(largest).toBeLessThanOrEqual(250);
    expect(planned).toBeGreaterThanOrEqual(60);
    expect(run).toMatchObject({
      trigger: 'manual',
      coins_planned: 15_000,
      batches_planned: planned,
      batches_fetched: planned,
      batches_loaded: planned,
      batches_failed: 0,
      rows_loaded: 15_000,
      rows_duplicate: 0,
      records_rejected: 0,
      status: 'loaded',
    });
    expect(run.finished_at).toBeInstanceOf(Date);
    expect((run.finished_at as Date).getTime()).toBeGreaterThanOrEqual((run.started_at as Date).getTime());

    const transforms = await allJobs(pipeline.runtime, 'transform');
    expect(transforms.map((j) => j.id)).toEqual([`transform-${runId}`]);
    // This test's configuration has no transform runner (TRANSFORM_RUNNER=none): the job says so.
    expect(transform.failedReason).toMatch(/no transform runner configured/);
    const after = await scenario.db.pool.query(
      'select transform_status, transform_job_id from pipeline.pipeline_runs where run_id = $1',
      [runId],
    );
    expect(after.rows[0]).toEqual({ transform_status: 'failed', transform_job_id: `transform-${runId}` });
  });

  it('leaves no fetched payload behind in Redis once loaded', async () => {
    const keys = await pipeline.runtime.redis.keys(`${scenario.prefix}:payload:*`);
    expect(keys).toEqual([]);
  });
});
