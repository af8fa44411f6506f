import { refreshPartitionStatistics } from '../../../core/snapshots/partition-statistics.js';
import { createTestDatabase, urlAsRole, type TestDatabase } from '../../helpers/database.js';
import pg from 'pg';

describe(refreshPartitionStatistics.name, () => {
  let db: TestDatabase;
  let transformer: pg.Pool;
  const now = new Date();
  const today = now.toISOString().slice(0, 10);
  const partition = `raw.coin_market_snapshots_p${today.replaceAll('-', '')}`;

  const statistics = async () =>
    (
      await db.pool.query<{ reltuples: number; analyzed: boolean }>(
        `select c.reltuples::float8 as reltuples, s.last_analyze is not null as analyzed
           from pg_class c join pg_stat_user_tables s on s.relid = c.oid where c.oid = $1::regclass`,
        [partition],
      )
    ).rows[0];
  const insertRows = (count: number, offset: number) =>
    db.pool.query(
      `insert into raw.coin_market_snapshots (coin_id, vs_currency, last_updated, run_id, batch_no, symbol, name, current_price, record)
       select 'coin-' || g, 'usd', $1::date::timestamp at time zone 'UTC' + interval '1 second' * g, 'mstats', 0, 'c', 'Coin', g, '{"id":"c"}'
         from generate_series($2::int, $2::int + $3::int - 1) g`,
      [today, offset, count],
    );

  beforeAll(async () => {
    db = await createTestDatabase();
    // The transform worker's role, which may not ANALYZE raw tables itself.
    transformer = new pg.Pool({ connectionString: urlAsRole(db.url, 'cdp_transformer'), max: 1 });
    await db.pool.query('select raw.ensure_snapshot_partitions($1::date, $1::date)', [today]);
    // Autovacuum would race the step under test and analyze the partition itself.
    await db.pool.query(`alter table ${partition} set (autovacuum_enabled = false)`);
  });
  afterAll(async () => {
    await transformer.end();
    await db.drop();
  });

  it('leaves an empty partition alone', async () => {
    expect(await refreshPartitionStatistics(transformer, now)).toEqual({ analyzed: [] });
  });

  it('gives a new partition statistics once it has received its first rows', async () => {
    await insertRows(2_000, 0);
    expect(await statistics()).toEqual({ reltuples: -1, analyzed: false });
    expect(await refreshPartitionStatistics(transformer, now)).toEqual({ analyzed: [today] });
    expect(await statistics()).toEqual({ reltuples: 2_000, analyzed: true });
  });

  it('does nothing while the statistics are fresh, and analyzes again once the partition has doubled', async () => {
    await insertRows(100, 2_000);
    expect(await refreshPartitionStatistics(transformer, now)).toEqual({ analyzed: [] });
    await insertRows(3_000, 2_100);
    expect(await refreshPartitionStatistics(transformer, now)).toEqual({ analyzed: [today] });
    expect((await statistics())?.reltuples).toBe(5_100);
  });

  it('analyzes a growing partition again after an hour even without doubling', async () => {
    await insertRows(500, 5_100);
    const inAnHour = new Date(Date.now() + 3_600_001);
    // Still the same day's partition an hour on (yesterday's by then, or today's): both are covered.
    expect(await refreshPartitionStatistics(transformer, inAnHour)).toEqual({ analyzed: [today] });
    expect((await statistics())?.reltuples).toBe(5_600);
  });
});
