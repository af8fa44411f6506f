import { jobIds } from '../../../core/queues/registry.js';
import { enqueueTick } from '../../../producers/tick/enqueue-tick.js';
import { InProcessPipeline } from '../../helpers/pipeline.js';
import {
  createScenario,
  refreshUniverse,
  runTick,
  runRow,
  waitForTick,
  type Scenario,
} from '../../helpers/scenario.js';
import { waitFor } from '../../helpers/wait-for.js';
import { expectedCandles, insertSnapshots, martCandles } from './snapshots.js';

const COINS = 40;
const MARTS = 'analytics_marts';

describe('transform worker with the bundled runner, end to end', () => {
  let scenario: Scenario;
  let pipeline: InProcessPipeline;
  // The simulator's market moves with this clock: each tick sees 25 minutes later.
  let now = Date.parse('2026-11-27T09:40:00Z');
  const q = async (sql: string, params: unknown[] = []) => (await scenario.db.pool.query(sql, params)).rows;

  beforeAll(async () => {
    scenario = await createScenario({ coins: COINS, clock: () => now });
    pipeline = await new InProcessPipeline(
      scenario.config({ TRACK_TOP_N: String(COINS), TRANSFORM_RUNNER: 'bundled' }),
    ).start();
    await refreshUniverse(pipeline.runtime);
    for (let tick = 0; tick < 4; tick++) {
      const { transform } = await runTick(pipeline.runtime, scenario.db);
      expect(transform.failedReason).toBeUndefined();
      now += 25 * 60_000;
    }
  });
  afterAll(async () => {
    await pipeline.stop();
    await scenario.teardown();
  });

  it('builds hourly and daily candles equal to those computed from the raw snapshots', async () => {
    const hourly = await martCandles(scenario.db.pool, MARTS, 'hourly');
    expect(hourly.length).toBe(COINS * 2); // ticks at 09:40, 10:05, 10:30, 10:55
    expect(hourly).toEqual(await expectedCandles(scenario.db.pool, 'hour'));
    expect(await martCandles(scenario.db.pool, MARTS, 'daily')).toEqual(await expectedCandles(scenario.db.pool, 'day'));
  });

  it('holds the latest state of every coin', async () => {
    const latest =
      await q(`select distinct on (coin_id) coin_id, current_price as price, market_cap_rank, price_change_percentage_24h_in_currency as price_change_pct_24h
                              from raw.coin_market_snapshots order by coin_id, last_updated desc`);
    expect(
      await q(`select coin_id, price, market_cap_rank, price_change_pct_24h from ${MARTS}.dim_coins order by coin_id`),
    ).toEqual(latest);
  });

  it('sums the market per hour with bitcoin and ethereum dominance', async () => {
    const expected = await q(`
      with last_per_hour as (
        select distinct on (coin_id, date_trunc('hour', last_updated, 'UTC')) coin_id, date_trunc('hour', last_updated, 'UTC') as bucket_start, market_cap
          from raw.coin_market_snapshots order by coin_id, date_trunc('hour', last_updated, 'UTC'), last_updated desc)
      select bucket_start, count(*)::int as coin_count, round(sum(market_cap)::numeric) as total_market_cap,
             round((100 * sum(market_cap) filter (where coin_id = 'bitcoin') / sum(market_cap))::numeric, 6) as bitcoin_dominance_pct
        from last_per_hour group by 1 order by 1`);
    const overview =
      await q(`select bucket_start, coin_count::int, round(total_market_cap::numeric) as total_market_cap,
                                     round(bitcoin_dominance_pct::numeric, 6) as bitcoin_dominance_pct, top_gainer_coin_id, top_loser_coin_id
                                from ${MARTS}.fct_market_overview_hourly order by 1`);
    expect(overview.map(({ top_gainer_coin_id, top_loser_coin_id, ...rest }) => rest)).toEqual(expected);
    expect(
      overview.every((o) => typeof o.top_gainer_coin_id === 'string' && typeof o.top_loser_coin_id === 'string'),
    ).toBe(true);
  });

  it('computes hourly returns from consecutive closes and scores anomalies', async () => {
    const returns = await q(`select r.return_1h, c.close_price, p.close_price as previous_close
                               from ${MARTS}.fct_coin_returns_hourly r
                               join ${MARTS}.fct_coin_candles_hourly c using (coin_id, bucket_start)
                               join ${MARTS}.fct_coin_candles_hourly p on p.coin_id = r.coin_id and p.bucket_start = r.bucket_start - interval '1 hour'`);
    expect(returns.length).toBe(COINS);
    for (const r of returns) expect(r.return_1h).toBeCloseTo(r.close_price / r.previous_close - 1, 12);
    expect(await q(`select count(*)::int as n from ${MARTS}.fct_price_anomalies`)).toEqual([{ n: COINS }]);
  });

  it('records each run and its nodes for the dashboard and Grafana, and marks the ticks succeeded', async () => {
    const runs = await q(
      `select status, runner, models_built, tests_failed from pipeline.transform_runs order by transform_run_id`,
    );
    expect(runs).toEqual(Array(4).fill({ status: 'success', runner: 'bundled', models_built: 12, tests_failed: 0 }));
    const nodes = await q(`select resource_type, status, count(*)::int as n from pipeline.transform_node_results
                            where transform_run_id = (select max(transform_run_id) from pipeline.transform_runs) group by 1, 2 order by 1, 2`);
    expect(nodes).toEqual(
      expect.arrayContaining([
        { resource_type: 'model', status: 'success', n: 12 },
        { resource_type: 'source', status: 'pass', n: 1 },
      ]),
    );
    expect(await q(`select distinct transform_status from pipeline.pipeline_runs`)).toEqual([
      { transform_status: 'succeeded' },
    ]);
  });

  it('coalesces ticks that finished during a run into one run of the newest', async () => {
    await pipeline.stop();
    const loaders = await new InProcessPipeline(pipeline.config).start(['planner', 'fetch', 'load']);
    const ready = (runId: string) =>
      waitFor(`transform of ${runId} ready`, async () =>
        (await loaders.runtime.queue('transform').getJob(jobIds.transform(runId)))?.isWaiting(),
      );
    const older = await enqueueTick(loaders.runtime);
    await ready(older);
    now += 5 * 60_000;
    const newer = await enqueueTick(loaders.runtime);
    await ready(newer);
    pipeline = await new InProcessPipeline(pipeline.config).start(['transform']);
    const first = await waitForTick(pipeline.runtime, scenario.db, older);
    const second = await waitForTick(pipeline.runtime, scenario.db, newer);
    await loaders.stop();
    expect(first.transform.returnvalue).toMatchObject({
      status: 'coalesced',
      detail: `coalesced into transform-${newer}`,
    });
    expect(second.transform.returnvalue).toMatchObject({ status: 'succeeded' });
    expect((await runRow(scenario.db, older))?.transform_status).toBe('coalesced');
    expect((await runRow(scenario.db, newer))?.transform_status).toBe('succeeded');
    expect(await q(`select count(*)::int as n from pipeline.transform_runs where run_id = $1`, [older])).toEqual([
      { n: 0 },
    ]);
  });

  it("fails the tick's transform job with the failing test's name when a negative price gets into raw", async () => {
    await pipeline.stop();
    pipeline = await new InProcessPipeline(pipeline.config).start();
    await insertSnapshots(scenario.db.pool, [
      { coinId: 'bitcoin', at: new Date(now - 60_000).toISOString(), price: -1 },
    ]);
    now += 25 * 60_000;
    const { runId, transform } = await runTick(pipeline.runtime, scenario.db);
    expect(transform.failedReason).toMatch(/^dbt build failed: failing tests: assert_no_negative_prices \(1 rows\)/);
    expect(transform.attemptsMade).toBe(1); // a data failure is permanent: no retries
    expect(await runRow(scenario.db, runId)).toMatchObject({
      transform_status: 'failed',
      error: expect.stringMatching(/assert_no_negative_prices/),
    });
    expect(await q(`select status, tests_failed from pipeline.transform_runs where run_id = $1`, [runId])).toEqual([
      { status: 'error', tests_failed: 1 },
    ]);
  });
});
