import type pg from 'pg';
import type { AppConfig } from '../../../core/config/index.js';
import { BundledRunner } from '../../../workers/transform/engine/bundled/bundled-runner.js';
import { dbtVars } from '../../../workers/transform/engine/dbt-env.js';
import { findProjectDir } from '../../../workers/transform/engine/project-dir.js';
import { testConfig } from '../../helpers/config.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/database.js';
import { testPrefix } from '../../helpers/redis.js';
import { pointsBetween, storeHistoryPoints } from '../../helpers/history.js';
import { MODES } from './run-modes.js';
import { insertSnapshots, type RawSnapshot } from './snapshots.js';

/** Models an incremental run and a full refresh must leave equal (the candle marts are compared by rebuilding them). */
const REFRESHABLE = [
  'analytics_intermediate.int_coin_prices__hourly',
  'analytics_intermediate.int_coin_history__hourly',
  'analytics_marts.fct_coin_returns_hourly',
  'analytics_marts.fct_market_overview_hourly',
  'analytics_marts.fct_price_anomalies',
];
const CANDLE_MARTS = ['analytics_marts.fct_coin_candles_hourly', 'analytics_marts.fct_coin_candles_daily'];

const contents = (pool: pg.Pool, tables: readonly string[]) =>
  Promise.all(tables.map(async (t) => (await pool.query(`select * from ${t} order by 1, 2`)).rows));

/** Two live snapshots (minutes 10 and 40) per coin in each of the given hours of 2026-11-20. */
const liveHours = (hours: number[], coins = ['bitcoin', 'ethereum']): RawSnapshot[] =>
  coins.flatMap((coinId, c) =>
    hours.flatMap((h) =>
      [10, 40].map((minute) => ({
        coinId,
        at: new Date(Date.UTC(2026, 10, 20, h, minute)).toISOString(),
        price: 1000 * (c + 1) + h * 7 + minute / 10,
        rank: c + 1,
      })),
    ),
  );

describe.each(MODES)('candles with backfilled history, %s', (_mode, runAs) => {
  let db: TestDatabase;
  let config: AppConfig;
  const run = async (fullRefresh = false) => {
    const summary = await runAs(
      db.pool,
      new BundledRunner({ projectDir: findProjectDir(), config, vars: dbtVars(config) }),
      { runId: 'mhistory', fullRefresh },
    );
    expect([summary.status, summary.failureReason]).toEqual(['success', undefined]);
  };
  const candle = async (grain: 'hourly' | 'daily', coinId: string, bucketStart: string) =>
    (
      await db.pool.query(
        `select source, point_count::int, snapshot_count::int, open_price, close_price, market_cap_rank
           from analytics_marts.fct_coin_candles_${grain} where coin_id = $1 and bucket_start = $2`,
        [coinId, bucketStart],
      )
    ).rows[0];

  beforeAll(async () => {
    db = await createTestDatabase();
    config = testConfig({
      databaseUrl: db.url,
      prefix: testPrefix(),
      coingeckoUrl: 'http://127.0.0.1:9/api/v3',
      env: { TRANSFORM_RUNNER: 'bundled' },
    });
  });
  afterAll(() => db.drop());

  it('fills backfilled hours and days from history, lets live snapshots win where both exist, and equals a full refresh', async () => {
    // Live ticks first: 10:00-11:59 of 2026-11-20, built before any history exists.
    await insertSnapshots(db.pool, liveHours([10, 11]));
    await run();

    // A backfill: hourly points from 2026-11-18 to 12:00 on the 20th (overlapping the live hours),
    // daily points for the week before, and one daily point on a day the hourly points cover.
    const hourly = pointsBetween('2026-11-18T00:00:00Z', '2026-11-20T12:00:00Z', 60, 900);
    expect(await storeHistoryPoints(db.pool, 'bitcoin', 3600, hourly)).toBe(60);
    await storeHistoryPoints(db.pool, 'bitcoin', 86400, [
      ...pointsBetween('2026-11-10T00:00:00Z', '2026-11-18T00:00:00Z', 24 * 60, 800),
      { at: '2026-11-19T00:00:00.500Z', price: 1 },
    ]);
    await run();
    expect(await candle('hourly', 'bitcoin', '2026-11-19T05:00:00Z')).toMatchObject({
      source: 'history',
      point_count: 1,
      snapshot_count: 0,
      open_price: hourly[29]!.price,
      market_cap_rank: null,
    });
    expect(await candle('hourly', 'bitcoin', '2026-11-20T10:00:00Z')).toMatchObject({
      source: 'snapshots',
      point_count: 2,
      snapshot_count: 2,
      open_price: 1071,
    });
    expect(await candle('daily', 'bitcoin', '2026-11-15T00:00:00Z')).toMatchObject({
      source: 'history',
      point_count: 1,
    });
    // The day with hourly points ignores its daily point (price 1).
    expect(await candle('daily', 'bitcoin', '2026-11-19T00:00:00Z')).toMatchObject({
      source: 'history',
      point_count: 24,
      open_price: hourly[24]!.price,
    });
    expect(await candle('daily', 'bitcoin', '2026-11-20T00:00:00Z')).toMatchObject({
      source: 'mixed',
      point_count: 10 + 4,
      snapshot_count: 4,
    });

    // History arriving after its hours were built: 5-minutely points for an hour built from an hourly
    // point (the finer resolution takes over) and for a live hour (the snapshots stay); the same
    // hourly backfill again (stores nothing); a final point at "now" for ethereum, in an hour no tick
    // has reached yet; and the next tick.
    const fine = pointsBetween('2026-11-19T05:00:01Z', '2026-11-19T06:00:00Z', 5, 950);
    expect(await storeHistoryPoints(db.pool, 'bitcoin', 300, fine)).toBe(12);
    await storeHistoryPoints(
      db.pool,
      'bitcoin',
      300,
      pointsBetween('2026-11-20T11:00:00Z', '2026-11-20T12:00:00Z', 5, 5),
    );
    expect(await storeHistoryPoints(db.pool, 'bitcoin', 3600, hourly)).toBe(0);
    await storeHistoryPoints(db.pool, 'ethereum', 3600, [{ at: '2026-11-20T13:00:00.250Z', price: 2100 }]);
    await insertSnapshots(db.pool, liveHours([12]));
    await run();
    expect(await candle('hourly', 'bitcoin', '2026-11-19T05:00:00Z')).toMatchObject({
      source: 'history',
      point_count: 12,
      open_price: fine[0]!.price,
      close_price: fine[11]!.price,
    });
    expect(await candle('hourly', 'bitcoin', '2026-11-20T11:00:00Z')).toMatchObject({
      source: 'snapshots',
      point_count: 2,
      open_price: 1078,
    });
    expect(await candle('hourly', 'ethereum', '2026-11-20T13:00:00Z')).toMatchObject({
      source: 'history',
      point_count: 1,
    });
    expect(await candle('daily', 'bitcoin', '2026-11-19T00:00:00Z')).toMatchObject({ point_count: 23 + 12 });

    // The tick reaches the hour history built: its snapshot replaces the history candle.
    await insertSnapshots(db.pool, [{ coinId: 'ethereum', at: '2026-11-20T13:20:00Z', price: 2111, rank: 2 }]);
    await run();
    expect(await candle('hourly', 'ethereum', '2026-11-20T13:00:00Z')).toMatchObject({
      source: 'snapshots',
      point_count: 1,
      open_price: 2111,
    });
    // Returns and anomaly scores read live candles only: nothing before the first tick.
    const firstReturn = await db.pool.query(
      `select min(bucket_start) as first from analytics_marts.fct_coin_returns_hourly where coin_id = 'bitcoin'`,
    );
    expect(firstReturn.rows[0].first).toEqual(new Date('2026-11-20T10:00:00Z'));

    // Incremental equals a full refresh: the refreshable models by --full-refresh, the candle marts
    // (full_refresh=false) by building them again from nothing.
    const incremental = await contents(db.pool, REFRESHABLE);
    const candles = await contents(db.pool, CANDLE_MARTS);
    expect(candles[0]!.filter((c) => c.source === 'history').length).toBeGreaterThan(40);
    await run(true);
    expect(await contents(db.pool, REFRESHABLE)).toEqual(incremental);
    for (const table of CANDLE_MARTS) await db.pool.query(`drop table ${table}`);
    await run();
    expect(await contents(db.pool, CANDLE_MARTS)).toEqual(candles);
  });
});
