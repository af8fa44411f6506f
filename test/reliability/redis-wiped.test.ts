import { InProcessPipeline } from '../helpers/pipeline.js';
import { PrivateRedis } from '../helpers/private-redis.js';
import { createScenario, type Scenario } from '../helpers/scenario.js';
import { waitFor } from '../helpers/wait-for.js';
import { checkJobSchedulers, upsertJobSchedulers } from '../../producers/scheduler/job-schedulers.js';
import { markLostRuns } from '../../producers/scheduler/lost-runs.js';

describe('Redis wiped mid-tick (restarted without persistence, as on dev machines)', () => {
  let scenario: Scenario;
  let redis: PrivateRedis;
  let pipeline: InProcessPipeline;
  const INTERVAL_MS = 2000;

  beforeAll(async () => {
    scenario = await createScenario({ coins: 400, stepMs: 500 });
    redis = await PrivateRedis.start({ appendonly: false });
    pipeline = await new InProcessPipeline(
      scenario.config({
        REDIS_URL: redis.url,
        TICK_INTERVAL: `${INTERVAL_MS}ms`,
        COIN_IDS: scenario.simulator.control.universeIds().slice(0, 200).join(','),
        COINGECKO_MAX_IDS_PER_CALL: '50',
      }),
    ).start(['planner', 'fetch', 'load']);
  });
  afterAll(async () => {
    await pipeline.stop();
    await redis.stop();
    await scenario.teardown();
  });

  const runs = async () =>
    (
      await scenario.db.pool.query<{ run_id: string; scheduled_at: Date; status: string }>(
        "select run_id, scheduled_at, status from pipeline.pipeline_runs where trigger = 'schedule' order by scheduled_at",
      )
    ).rows;

  it('re-creates the schedule, marks the lost tick, and ticks again within one interval', async () => {
    await upsertJobSchedulers(pipeline.runtime);
    await waitFor(
      'a first scheduled tick loaded',
      async () => (await runs()).some((r) => r.status === 'loaded'),
      20_000,
      100,
    );

    // A tick in flight (CoinGecko slow), then Redis loses everything.
    scenario.simulator.control.setFaults({ latencyMs: 3000 });
    const inFlight = await waitFor(
      'a tick in flight',
      async () => (await runs()).find((r) => r.status === 'running'),
      20_000,
      50,
    );
    await redis.wipe();
    await redis.up();
    scenario.simulator.control.setFaults({ latencyMs: 0 });
    const wipedAt = Date.now();

    // The watchdog's two checks (run here directly rather than waiting for its timer).
    expect(await checkJobSchedulers(pipeline.runtime)).toEqual(
      expect.arrayContaining([{ scheduler: 'market-tick', problem: 'missing' }]),
    );
    // Only runs that started before the wipe qualify (a brand-new run's flow may not be added yet).
    expect(await markLostRuns(pipeline.runtime, 0, wipedAt)).toContain(inFlight.run_id);
    const lost = (await runs()).find((r) => r.run_id === inFlight.run_id)!;
    expect(lost.status).toBe('lost');

    const next = await waitFor(
      'a tick after the wipe loaded',
      async () =>
        (await runs()).find((r) => r.status === 'loaded' && r.scheduled_at.getTime() >= wipedAt - INTERVAL_MS),
      30_000,
      100,
    );
    // At most one tick's worth of gap: the schedule resumes at once when re-created.
    expect(next.scheduled_at.getTime() - wipedAt).toBeLessThanOrEqual(INTERVAL_MS);
    const duplicates = await scenario.db.pool.query(
      'select count(*) - count(distinct (coin_id, vs_currency, last_updated)) as n from raw.coin_market_snapshots',
    );
    expect(Number(duplicates.rows[0].n)).toBe(0);
    // Runs that finished keep consistent books: loaded batches match their rows.
    const books = await scenario.db.pool.query(`
      select r.run_id from pipeline.pipeline_runs r
        left join (select run_id, count(*)::int as n from raw.coin_market_snapshots group by run_id) s using (run_id)
       where r.status = 'loaded' and r.rows_loaded <> coalesce(s.n, 0)`);
    expect(books.rows).toEqual([]);
  });
});
