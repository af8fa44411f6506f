import winston from 'winston';
import { createApp } from '../../dashboard/app.js';
import { staleObservations } from '../../core/metrics/registry.js';
import { serve, type Served } from '../dashboard/http.js';
import { InProcessPipeline } from '../helpers/pipeline.js';
import { createScenario, runTick, type Scenario } from '../helpers/scenario.js';

/**
 * Inactive coins as CoinGecko lists them: still in /coins/markets, with a last_updated frozen years
 * ago (real responses show 2021-03-10 and 2022-08-22), far older than TRANSFORM_RAW_RETENTION_DAYS
 * (30 by default). Loaded like any other, each tick created their partitions and retention dropped
 * them again, so every tick stored the same 9 rows again.
 */
const INACTIVE_AT = ['2021-03-10T08:14:02.000Z', '2022-08-22T17:40:51.117Z'];

describe('observations older than the raw retention window', () => {
  let scenario: Scenario;
  let pipeline: InProcessPipeline;
  let dashboard: Served;
  let active: string[];
  let inactive: string[];
  let coins: string[];

  beforeAll(async () => {
    scenario = await createScenario({ coins: 60, stepMs: 500 });
    const ids = scenario.simulator.control.universeIds();
    inactive = ids.slice(20, 29);
    active = ids.slice(0, 20);
    coins = [...active, ...inactive];
    scenario.simulator.control.setFaults({
      inactiveCoins: Object.fromEntries(inactive.map((id, i) => [id, INACTIVE_AT[i % 2]!])),
    });
    pipeline = await new InProcessPipeline(scenario.config({ TRANSFORM_RAW_RETENTION_DAYS: '30' })).start();
    const app = createApp({
      config: pipeline.config,
      pool: pipeline.runtime.pool,
      redis: pipeline.runtime.redis,
      queues: (key) => pipeline.runtime.queue(key),
      checkMigrations: async () => false,
      logger: winston.createLogger({ silent: true }),
    });
    dashboard = await serve(app);
  });
  afterAll(async () => {
    await dashboard?.close();
    await pipeline?.stop();
    await scenario?.teardown();
  });

  it('records each inactive coin once, never loads it and creates no partition for it, tick after tick', async () => {
    const recordedBefore = (await staleObservations.get()).values[0]?.value ?? 0;
    const runs: Record<string, unknown>[] = [];
    for (let tick = 0; tick < 3; tick++) {
      await scenario.nextStep();
      const { run } = await runTick(pipeline.runtime, scenario.db, { coinIds: coins });
      runs.push(run);
    }
    for (const run of runs)
      expect(run).toMatchObject({ status: 'loaded', rows_loaded: 20, rows_stale: 9, rows_duplicate: 0 });

    const raw = await scenario.db.pool.query<{ n: number }>(
      'select count(*)::int as n from raw.coin_market_snapshots where coin_id = any($1)',
      [inactive],
    );
    expect(raw.rows[0]!.n).toBe(0);
    const oldPartitions = await scenario.db.pool.query<{ name: string }>(
      `select c.relname as name from pg_inherits i join pg_class c on c.oid = i.inhrelid
        where i.inhparent = 'raw.coin_market_snapshots'::regclass and c.relname ~ '_p202[12]'`,
    );
    expect(oldPartitions.rows).toEqual([]);

    const recorded = await scenario.db.pool.query(
      `select coin_id, last_updated, run_id from pipeline.stale_observations order by coin_id`,
    );
    expect(recorded.rows).toEqual(
      inactive
        .map((id, i) => ({ coin_id: id, last_updated: new Date(INACTIVE_AT[i % 2]!), run_id: runs[0]!.run_id }))
        .sort((a, b) => (a.coin_id < b.coin_id ? -1 : 1)),
    );
    expect(((await staleObservations.get()).values[0]?.value ?? 0) - recordedBefore).toBe(9);
  });

  it('lists them on the pipeline API', async () => {
    const reply = await fetch(`${dashboard.url}/api/v1/pipeline/stale-observations?limit=5`);
    expect(reply.status).toBe(200);
    const body = (await reply.json()) as {
      observations: { coinId: string; lastUpdated: string }[];
      total: number;
      coins: number;
    };
    expect({ total: body.total, coins: body.coins, shown: body.observations.length }).toEqual({
      total: 9,
      coins: 9,
      shown: 5,
    });
    for (const o of body.observations) {
      expect(inactive).toContain(o.coinId);
      expect(INACTIVE_AT).toContain(o.lastUpdated);
    }
  });
});
