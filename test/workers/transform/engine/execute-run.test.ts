import type { AppConfig } from '../../../../core/config/index.js';
import { rootLogger } from '../../../../core/log/logger.js';
import { BundledRunner } from '../../../../workers/transform/engine/bundled/bundled-runner.js';
import { dbtVars } from '../../../../workers/transform/engine/dbt-env.js';
import { executeTransformRun } from '../../../../workers/transform/engine/execute-run.js';
import { findProjectDir } from '../../../../workers/transform/engine/project-dir.js';
import { testConfig } from '../../../helpers/config.js';
import { testPrefix } from '../../../helpers/redis.js';
import {
  barrierLocks,
  stallLoadsInto,
  startSnapshotLoads,
  type SnapshotLoads,
} from '../../../helpers/snapshot-loads.js';
import { waitFor } from '../../../helpers/wait-for.js';
import { insertSnapshots } from '../snapshots.js';

const DAY = '2026-11-26';
const COINS = ['bitcoin', 'ethereum', 'tether'];
const signal = new AbortController().signal;

describe(executeTransformRun.name, () => {
  let loads: SnapshotLoads;
  let db: SnapshotLoads['db'];
  let config: AppConfig;
  let ticks = 0;

  const runner = () => new BundledRunner({ projectDir: findProjectDir(), config, vars: dbtVars(config) });
  const run = (options: { fullRefresh?: boolean; barrierTimeoutMs?: number } = {}) =>
    executeTransformRun(db.pool, runner(), { runId: `mexec${ticks}`, signal, log: rootLogger, ...options });

  /** One tick of the coins observed at minute `minute` of 10:00, loaded through the load worker's path. */
  const loadTick = (minute: number) =>
    loads.load(`mexec${++ticks}`, COINS, `${DAY}T10:${String(minute).padStart(2, '0')}:00.000Z`);

  const hourly = async () =>
    (await db.pool.query('select * from analytics_intermediate.int_coin_prices__hourly order by coin_id, bucket_start'))
      .rows;
  const models = async () =>
    Promise.all(
      [
        'analytics_intermediate.int_coin_prices__hourly',
        'analytics_marts.dim_coins',
        'analytics_marts.fct_coin_candles_hourly',
      ].map(async (t) => (await db.pool.query(`select * from ${t} order by 1, 2`)).rows),
    );
  const recorded = async () =>
    (
      await db.pool.query(
        'select status, to_char(loads_barrier_at at time zone \'UTC\', \'YYYY-MM-DD"T"HH24:MI:SS.US"Z"\') as barrier from pipeline.transform_runs order by transform_run_id',
      )
    ).rows;

  beforeAll(async () => {
    loads = await startSnapshotLoads();
    db = loads.db;
    config = testConfig({
      databaseUrl: db.url,
      prefix: testPrefix(),
      coingeckoUrl: 'http://127.0.0.1:9/api/v3',
      env: { TRANSFORM_RUNNER: 'bundled' },
    });
  });
  afterAll(() => loads.close());

  it("reads from the last successful run's load barrier and records its own, which a failed run's never replaces", async () => {
    await loadTick(0);
    const first = await run();
    expect(first.summary.status).toBe('success');
    // Nothing to read from yet: the models use their own watermarks.
    expect(first.loadedAfter).toBeNull();
    expect(first.barrier).not.toBeNull();

    await loadTick(1);
    const second = await run();
    expect(second.loadedAfter).toBe(first.barrier);
    // Exactly the new tick is read: one snapshot per coin extends its hour.
    expect(second.summary.nodes.find((n) => n.name === 'int_coin_prices__hourly')).toMatchObject({
      status: 'success',
      rowsAffected: COINS.length,
    });

    await insertSnapshots(db.pool, [{ coinId: 'bitcoin', at: `${DAY}T10:02:00Z`, price: -1, runId: 'mbad' }]);
    const failed = await run();
    expect(failed.summary.status).toBe('error');
    expect(failed.loadedAfter).toBe(second.barrier);
    await db.pool.query("delete from raw.coin_market_snapshots where run_id = 'mbad'");

    const after = await run();
    expect(after.summary.status).toBe('success');
    expect(after.loadedAfter).toBe(second.barrier);
    expect(await recorded()).toEqual([
      { status: 'success', barrier: first.barrier },
      { status: 'success', barrier: second.barrier },
      { status: 'error', barrier: failed.barrier },
      { status: 'success', barrier: after.barrier },
    ]);
  });

  it("aggregates a load that commits while the run waits at the barrier in that run, and one open past the barrier's timeout in the next", async () => {
    const release = await stallLoadsInto(db.pool, DAY);
    const inFlight = loadTick(5);
    await waitFor('the load to enter the barrier', async () => (await barrierLocks(db.pool)).loads === 1, 10_000, 20);
    const waiting = run();
    // The run waits at the barrier (its exclusive lock not granted) before the load may commit.
    await waitFor(
      'the run to wait at the barrier',
      async () => (await barrierLocks(db.pool)).waiting === 1,
      10_000,
      20,
    );
    await release();
    expect(await inFlight).toMatchObject({ rowsLoaded: COINS.length });
    const caught = await waiting;
    expect(caught.summary.status).toBe('success');
    const at = (coin: string, hour = 10) =>
      hourly().then((rows) => rows.find((r) => r.coin_id === coin && (r.bucket_start as Date).getUTCHours() === hour));
    expect(await at('bitcoin')).toMatchObject({ snapshot_count: 3, last_observed_at: new Date(`${DAY}T10:05:00Z`) });

    const releaseAgain = await stallLoadsInto(db.pool, DAY);
    const stuck = loadTick(6);
    await waitFor('the load to enter the barrier', async () => (await barrierLocks(db.pool)).loads === 1, 10_000, 20);
    const gaveUp = await run({ barrierTimeoutMs: 200 });
    expect(gaveUp.summary.status).toBe('success');
    expect(gaveUp.barrier).toBeNull();
    expect(await at('bitcoin')).toMatchObject({ snapshot_count: 3 });
    await releaseAgain();
    await stuck;
    // The next run reads from the barrier before the one that was not passed: the stuck tick is in it.
    const next = await run();
    expect(next.loadedAfter).toBe(caught.barrier);
    expect(await at('bitcoin')).toMatchObject({ snapshot_count: 4, last_observed_at: new Date(`${DAY}T10:06:00Z`) });

    const incremental = await models();
    expect((await run({ fullRefresh: true })).summary.status).toBe('success');
    expect(await models()).toEqual(incremental);
  });
});
