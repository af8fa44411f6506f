import pg from 'pg';
import { dropAgedRawPartitions } from '../../../../workers/transform/engine/retention.js';
import { createTestDatabase, sessionsWaitingOnLocks, urlAsRole, type TestDatabase } from '../../../helpers/database.js';
import { holdRawTableInLoad } from '../../../helpers/raw-table-holders.js';
import { waitFor } from '../../../helpers/wait-for.js';

const MARTS = 'analytics_marts';

describe(dropAgedRawPartitions.name, () => {
  let db: TestDatabase;
  let transformer: pg.Pool;
  const options = {
    retentionDays: 30,
    martsSchema: MARTS,
    vsCurrency: 'usd',
    lockTimeoutMs: 200,
    now: new Date('2031-06-10T08:00:00Z'),
  };
  const exists = async (day: string) =>
    (
      await db.pool.query<{ found: boolean }>('select to_regclass($1) is not null as found', [
        `raw.coin_market_snapshots_p${day}`,
      ])
    ).rows[0]!.found;

  beforeAll(async () => {
    db = await createTestDatabase();
    // Retention runs in the transform worker, as its role.
    transformer = new pg.Pool({ connectionString: urlAsRole(db.url, 'cdp_transformer'), max: 2 });
    transformer.on('error', () => undefined);
    await db.pool.query(`
      create table if not exists ${MARTS}.fct_coin_candles_hourly (coin_id text, bucket_start timestamptz, source text);
      create table if not exists ${MARTS}.fct_coin_candles_daily (coin_id text, bucket_start timestamptz, source text);
      grant select on ${MARTS}.fct_coin_candles_hourly, ${MARTS}.fct_coin_candles_daily to cdp_transformer;`);
  });
  afterAll(async () => {
    await transformer.end();
    await db.drop();
  });

  it('reads an aged partition through the raw table and keeps it while a snapshot in it has no candle', async () => {
    await db.pool.query('select raw.ensure_snapshot_partitions($1::date, $1::date)', ['2031-04-01']);
    await db.pool.query(
      `insert into raw.coin_market_snapshots (coin_id, vs_currency, last_updated, run_id, batch_no, symbol, name, current_price, record)
       values ('bitcoin', 'usd', '2031-04-01T12:00:00Z', 'mold', 0, 'btc', 'Bitcoin', 1, '{}')`,
    );
    expect(await dropAgedRawPartitions(transformer, options)).toEqual({
      dropped: [],
      kept: ['coin_market_snapshots_p20310401'],
      busy: [],
    });
    await db.pool.query(`
      insert into ${MARTS}.fct_coin_candles_hourly values ('bitcoin', '2031-04-01T12:00:00Z', 'snapshots');
      insert into ${MARTS}.fct_coin_candles_daily values ('bitcoin', '2031-04-01T00:00:00Z', 'snapshots');`);
    expect(await dropAgedRawPartitions(transformer, options)).toEqual({
      dropped: ['coin_market_snapshots_p20310401'],
      kept: [],
      busy: [],
    });
  });

  it('gives up on a drop after its lock timeout while a long load holds the raw table, and drops it on a later run', async () => {
    await db.pool.query('select raw.ensure_snapshot_partitions($1::date, $1::date)', ['2031-04-02']);
    const load = await holdRawTableInLoad(db.pool, '2031-06-10T07:59:00Z');
    try {
      expect(await dropAgedRawPartitions(transformer, options)).toEqual({
        dropped: [],
        kept: [],
        busy: ['coin_market_snapshots_p20310402'],
      });
      // It returned while the load is still open, and nothing is left waiting on a lock.
      expect(await load.isOpen()).toBe(true);
      expect(await sessionsWaitingOnLocks(db)).toBe(0);
      expect(await exists('20310402')).toBe(true);
    } finally {
      await load.release();
    }
    await waitFor('the load to be gone', async () => (await sessionsWaitingOnLocks(db)) === 0);
    expect(await dropAgedRawPartitions(transformer, options)).toEqual({
      dropped: ['coin_market_snapshots_p20310402'],
      kept: [],
      busy: [],
    });
    expect(await exists('20310402')).toBe(false);
  });

  it('keeps everything when retention is 0', async () => {
    await db.pool.query('select raw.ensure_snapshot_partitions($1::date, $1::date)', ['2031-04-03']);
    expect(await dropAgedRawPartitions(transformer, { ...options, retentionDays: 0 })).toEqual({
      dropped: [],
      kept: [],
      busy: [],
    });
    expect(await exists('20310403')).toBe(true);
  });
});
