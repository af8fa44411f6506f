import pg from 'pg';
import { ensurePartitions, ensurePartitionsAhead } from '../../../core/snapshots/partitions.js';
import { createTestDatabase, sessionsWaitingOnLocks, type TestDatabase } from '../../helpers/database.js';
import { holdRawTableInLoad } from '../../helpers/raw-table-holders.js';
import { waitFor } from '../../helpers/wait-for.js';

describe('raw snapshot partitions', () => {
  let db: TestDatabase;
  let loaders: pg.Pool;

  const partitionsOf = async (pattern: string) =>
    (
      await db.pool.query<{ name: string; indexes: number }>(
        `select c.relname as name, (select count(*)::int from pg_index x where x.indrelid = c.oid) as indexes
           from pg_inherits i join pg_class c on c.oid = i.inhrelid
          where i.inhparent = 'raw.coin_market_snapshots'::regclass and c.relname like $1 order by 1`,
        [pattern],
      )
    ).rows;
  const parentIndexes = async () =>
    (
      await db.pool.query<{ n: number }>(
        "select count(*)::int as n from pg_index where indrelid = 'raw.coin_market_snapshots'::regclass",
      )
    ).rows[0]!.n;

  beforeAll(async () => {
    db = await createTestDatabase();
    loaders = new pg.Pool({ connectionString: db.url, max: 2 });
    loaders.on('error', () => undefined);
  });
  afterAll(async () => {
    await loaders.end();
    await db.drop();
  });

  describe(ensurePartitionsAhead.name, () => {
    it("creates today's partition and the next days' ahead, each with every index of the raw table", async () => {
      const created = await ensurePartitionsAhead(loaders, 3, new Date('2031-03-30T23:59:00Z'));
      expect(created).toBe(4);
      const indexes = await parentIndexes();
      expect(await partitionsOf('coin_market_snapshots_p2031%')).toEqual(
        ['20310330', '20310331', '20310401', '20310402'].map((day) => ({
          name: `coin_market_snapshots_p${day}`,
          indexes,
        })),
      );
      // Idempotent: the next tick finds them there.
      expect(await ensurePartitionsAhead(loaders, 3, new Date('2031-03-31T00:01:00Z'))).toBe(1);
    });
  });

  describe(ensurePartitions.name, () => {
    it('creates a partition without waiting for a load transaction that is using the raw table', async () => {
      const load = await holdRawTableInLoad(db.pool, '2031-05-01T10:00:00Z');
      try {
        const creating = ensurePartitions(loaders, '2031-05-03', '2031-05-03');
        let settled = false;
        void creating.finally(() => (settled = true));
        // Either it completes, or it queues for a lock behind the open load (the old CREATE … PARTITION OF did).
        await waitFor('the partition to be created or to wait for a lock', async () =>
          settled ? 'settled' : (await sessionsWaitingOnLocks(db)) > 0 ? 'waiting' : undefined,
        );
        expect(settled).toBe(true);
        expect(await creating).toBe(1);
        expect(await load.isOpen()).toBe(true);
        // A load into the new day's partition goes through while the other load is still open.
        await loaders.query(
          `insert into raw.coin_market_snapshots (coin_id, vs_currency, last_updated, run_id, batch_no, symbol, name, record)
           values ('ahead', 'usd', '2031-05-03T00:00:01Z', 'mahead', 0, 'a', 'A', '{}')`,
        );
      } finally {
        await load.release();
      }
      expect(await partitionsOf('coin_market_snapshots_p20310503')).toHaveLength(1);
    });
  });
});
