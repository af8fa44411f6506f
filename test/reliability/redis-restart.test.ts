import { InProcessPipeline } from '../helpers/pipeline.js';
import { PrivateRedis } from '../helpers/private-redis.js';
import { createScenario, refreshUniverse, waitForTick, type Scenario } from '../helpers/scenario.js';
import { enqueueTick } from '../../producers/tick/enqueue-tick.js';
import { waitFor } from '../helpers/wait-for.js';

describe('Redis restarted mid-tick (AOF persistence, as in compose)', () => {
  let scenario: Scenario;
  let redis: PrivateRedis;
  let pipeline: InProcessPipeline;

  beforeAll(async () => {
    scenario = await createScenario({ coins: 3000, stepMs: 60_000 });
    redis = await PrivateRedis.start({ appendonly: true });
    pipeline = await new InProcessPipeline(
      scenario.config({ REDIS_URL: redis.url, TRACK_TOP_N: '3000', COINGECKO_MAX_IDS_PER_CALL: '100' }),
    ).start();
    await refreshUniverse(pipeline.runtime);
  });
  afterAll(async () => {
    await pipeline.stop();
    await redis.stop();
    await scenario.teardown();
  });

  it('workers reconnect and the tick completes with every coin loaded once', async () => {
    scenario.simulator.control.setFaults({ latencyMs: 300 });
    const runId = await enqueueTick(pipeline.runtime);
    await waitFor(
      'some batches loaded',
      async () => {
        const row = (
          await scenario.db.pool.query('select batches_loaded from pipeline.pipeline_runs where run_id = $1', [runId])
        ).rows[0];
        return row && row.batches_loaded >= 3;
      },
      30_000,
    );
    await redis.down();
    await new Promise((r) => setTimeout(r, 1500));
    await redis.up();
    scenario.simulator.control.setFaults({ latencyMs: 0 });

    const { run } = await waitForTick(pipeline.runtime, scenario.db, runId, 90_000);
    expect(run).toMatchObject({
      status: 'loaded',
      batches_planned: 30,
      batches_loaded: 30,
      batches_failed: 0,
      rows_loaded: 3000,
    });
    const rows = await scenario.db.pool.query(
      'select count(*)::int as n, count(distinct coin_id)::int as coins from raw.coin_market_snapshots where run_id = $1',
      [runId],
    );
    expect(rows.rows[0]).toEqual({ n: 3000, coins: 3000 });
  });
});
