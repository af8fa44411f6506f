import pg from 'pg';
import { recordPlannedRun } from '../../../core/pipeline/run-ledger.js';
import { enterLoad, ISO_UTC_MICROS, passLoadBarrier } from '../../../core/snapshots/load-barrier.js';
import { loadSnapshotBatch } from '../../../core/snapshots/load-snapshots.js';
import { startSimulator, type SimulatorHandle } from '../../../simulator/server.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/database.js';
import { waitFor } from '../../helpers/wait-for.js';

const DAY = '2026-11-27';

describe(passLoadBarrier.name, () => {
  let db: TestDatabase;
  let simulator: SimulatorHandle;
  let loaders: pg.Pool;
  let runs = 0;

  /** One planned batch of these coins observed at `at`, as the load worker receives it. */
  async function batchOf(ids: string[], at: string) {
    const runId = `mbarrier${runs++}`;
    await recordPlannedRun(db.pool, { runId, trigger: 'manual', scheduledAt: null, batches: [ids] });
    const items = simulator.control.marketsSnapshot(ids).map((i) => ({ ...i, last_updated: at }));
    return { runId, batchNo: 0, vsCurrency: 'usd', items };
  }

  /**
   * Holds a load inside its transaction after it entered the barrier: a SHARE lock on the day's
   * partition lets the load's key lookup read but makes its COPY wait. Returns the release.
   */
  async function stallLoadsInto(day: string): Promise<() => Promise<void>> {
    await db.pool.query('select raw.ensure_snapshot_partitions($1::date, $1::date)', [day]);
    const blocker = await db.pool.connect();
    await blocker.query('begin');
    await blocker.query(`lock table raw.coin_market_snapshots_p${day.replaceAll('-', '')} in share mode`);
    return async () => {
      await blocker.query('commit');
      blocker.release();
    };
  }

  /** The barrier's advisory locks in pg_locks: loads inside it, a barrier waiting, loads queued behind that barrier. */
  const barrierLocks = async () =>
    (
      await db.pool.query<{ loads: number; waiting: number; queued: number }>(
        `select count(*) filter (where mode = 'ShareLock' and granted)::int as loads,
                count(*) filter (where mode = 'ExclusiveLock' and not granted)::int as waiting,
                count(*) filter (where mode = 'ShareLock' and not granted)::int as queued
           from pg_locks where locktype = 'advisory' and database = (select oid from pg_database where datname = current_database())`,
      )
    ).rows[0]!;

  const loadedAt = async (runId: string) =>
    (await db.pool.query<{ first: string; last: string }>('select min(loaded_at)::text as first, max(loaded_at)::text as last from raw.coin_market_snapshots where run_id = $1', [runId])).rows[0]!;
  const isBefore = async (a: string, b: string) => (await db.pool.query<{ before: boolean }>('select $1::timestamptz < $2::timestamptz as before', [a, b])).rows[0]!.before;

  beforeAll(async () => {
    db = await createTestDatabase();
    simulator = await startSimulator({ coins: 20 });
    loaders = new pg.Pool({ connectionString: db.url, max: 4 });
  });
  afterAll(async () => {
    await loaders.end();
    await simulator.close();
    await db.drop();
  });

  it('waits for a load in flight, then falls after every row it wrote and before every row of the loads queued behind it', async () => {
    const release = await stallLoadsInto(DAY);
    const early = await batchOf(['bitcoin', 'ethereum'], `${DAY}T10:00:00.000Z`);
    const load = loadSnapshotBatch(loaders, early);
    await waitFor('the load to enter the barrier', async () => (await barrierLocks()).loads === 1, 10_000, 20);
    let passed = false;
    const barrier = passLoadBarrier(db.pool).then((at) => {
      passed = true;
      return at;
    });
    await waitFor('the barrier to wait for it', async () => (await barrierLocks()).waiting === 1, 10_000, 20);
    // A load whose transaction began while the barrier waited: its rows must still come after it.
    const late = await batchOf(['tether'], `${DAY}T10:01:00.000Z`);
    const lateLoad = loadSnapshotBatch(loaders, late);
    await waitFor('the later load to queue behind the barrier', async () => (await barrierLocks()).queued === 1, 10_000, 20);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(passed).toBe(false);

    await release();
    expect(await load).toMatchObject({ status: 'loaded', rowsLoaded: 2 });
    const at = await barrier;
    expect(at).toMatch(ISO_UTC_MICROS);
    expect(await lateLoad).toMatchObject({ status: 'loaded', rowsLoaded: 1 });
    expect(await isBefore((await loadedAt(early.runId)).last, at!)).toBe(true);
    expect(await isBefore(at!, (await loadedAt(late.runId)).first)).toBe(true);
  });

  it('gives up after its timeout with no barrier, and lets the loads behind it go on', async () => {
    const release = await stallLoadsInto(DAY);
    const stuck = await batchOf(['solana'], `${DAY}T11:00:00.000Z`);
    const load = loadSnapshotBatch(loaders, stuck);
    try {
      await waitFor('the load to enter the barrier', async () => (await barrierLocks()).loads === 1, 10_000, 20);
      expect(await passLoadBarrier(db.pool, 300)).toBeNull();
      expect((await barrierLocks()).waiting).toBe(0);
      // Another load enters at once: the barrier that gave up queues no one behind it.
      const other = await loaders.connect();
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
      const check = await kolkata.query<{ recent: boolean }>("select $1::timestamptz between clock_timestamp() - interval '1 minute' and clock_timestamp() as recent", [at]);
      expect(check.rows[0]!.recent).toBe(true);
    } finally {
      await kolkata.end();
    }
  });
});
