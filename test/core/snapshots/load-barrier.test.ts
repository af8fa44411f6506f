import pg from 'pg';
import { enterLoad, ISO_UTC_MICROS, passLoadBarrier } from '../../../core/snapshots/load-barrier.js';
import { barrierLocks, stallLoadsInto, startSnapshotLoads, type SnapshotLoads } from '../../helpers/snapshot-loads.js';
import { waitFor } from '../../helpers/wait-for.js';

const DAY = '2026-11-27';

describe(passLoadBarrier.name, () => {
  let loads: SnapshotLoads;
  let db: SnapshotLoads['db'];

  const loadedAt = async (runId: string) =>
    (
      await db.pool.query<{ first: string; last: string }>(
        'select min(loaded_at)::text as first, max(loaded_at)::text as last from raw.coin_market_snapshots where run_id = $1',
        [runId],
      )
    ).rows[0]!;
  const isBefore = async (a: string, b: string) =>
    (await db.pool.query<{ before: boolean }>('select $1::timestamptz < $2::timestamptz as before', [a, b])).rows[0]!
      .before;

  beforeAll(async () => {
    loads = await startSnapshotLoads();
    db = loads.db;
  });
  afterAll(() => loads.close());

  it('waits for a load in flight, then falls after every row it wrote and before every row of the loads queued behind it', async () => {
    const release = await stallLoadsInto(db.pool, DAY);
    const load = loads.load('mbarrier1', ['bitcoin', 'ethereum'], `${DAY}T10:00:00.000Z`);
    await waitFor('the load to enter the barrier', async () => (await barrierLocks(db.pool)).loads === 1, 10_000, 20);
    let passed = false;
    const barrier = passLoadBarrier(db.pool).then((at) => {
      passed = true;
      return at;
    });
    await waitFor('the barrier to wait for it', async () => (await barrierLocks(db.pool)).waiting === 1, 10_000, 20);
    // A load whose transaction began while the barrier waited: its rows must still come after it.
    const lateLoad = loads.load('mbarrier2', ['tether'], `${DAY}T10:01:00.000Z`);
    await waitFor(
      'the later load to queue behind the barrier',
      async () => (await barrierLocks(db.pool)).queued === 1,
      10_000,
      20,
    );
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(passed).toBe(false);

    await release();
    expect(await load).toMatchObject({ status: 'loaded', rowsLoaded: 2 });
    const at = await barrier;
    expect(at).toMatch(ISO_UTC_MICROS);
    expect(await lateLoad).toMatchObject({ status: 'loaded', rowsLoaded: 1 });
    expect(await isBefore((await loadedAt('mbarrier1')).last, at!)).toBe(true);
    expect(await isBefore(at!, (await loadedAt('mbarrier2')).first)).toBe(true);
  });

  it('gives up after its timeout with no barrier, and lets the loads behind it go on', async () => {
    const release = await stallLoadsInto(db.pool, DAY);
    const load = loads.load('mbarrier3', ['solana'], `${DAY}T11:00:00.000Z`);
    try {
      await waitFor('the load to enter the barrier', async () => (await barrierLocks(db.pool)).loads === 1, 10_000, 20);
      expect(await passLoadBarrier(db.pool, 300)).toBeNull();
      expect((await barrierLocks(db.pool)).waiting).toBe(0);
      // Another load enters at once: the barrier that gave up queues no one behind it.
      const other = await db.pool.connect();
      try {
        await other.query('begin');
        await other.query("set local lock_timeout = '1s'");
        await expect(enterLoad(other)).resolves.toBeUndefined();
        await other.query('rollback');
      } finally {
        other.release();
      }
    } finally {
      await release();
    }
    expect(await load).toMatchObject({ status: 'loaded', rowsLoaded: 1 });
  });

  it('reads as UTC with microseconds whatever the session time zone', async () => {
    const kolkata = new pg.Pool({ connectionString: db.url, max: 1, options: '-c TimeZone=Asia/Kolkata' });
    try {
      const at = await passLoadBarrier(kolkata);
      expect(at).toMatch(ISO_UTC_MICROS);
      // Read back in that session, it is the instant just passed (a local time read as UTC would be 5.5 hours off).
      const check = await kolkata.query<{ recent: boolean }>(
        "select $1::timestamptz between clock_timestamp() - interval '1 minute' and clock_timestamp() as recent",
        [at],
      );
      expect(check.rows[0]!.recent).toBe(true);
    } finally {
      await kolkata.end();
    }
  });
});
