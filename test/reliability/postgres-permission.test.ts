import type { JobType } from 'bullmq';
import { enqueueTick } from '../../producers/tick/enqueue-tick.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { loadedRows, parkLoads, startLoaderRig, type LoaderRig } from '../helpers/loader-rig.js';
import { runTick, waitForTick } from '../helpers/scenario.js';

const COINS = 1000;
const LOAD_SLOTS = 4; // 2 load processes x LOAD_CONCURRENCY 2
const DENIED = /^loading batch \d+ of run \S+: permission denied for table coin_market_snapshots \(42501\)$/;

/**
 * The load role loses INSERT on the raw table mid-run (an operator's REVOKE, a broken deploy of the
 * grants). That cannot clear by itself, so the load fails for good at once, with Postgres's message as
 * the reason in the failed set (Bull Board) and the batch ledger, instead of burning attempts; the
 * process stays up, and once the grant is back the next tick loads.
 *
 * The load processes connect as cdp_loader (the production role, here via `-c role=` on the
 * superuser's connection, since the roles are NOLOGIN until deploy gives them passwords).
 */
describe('the loader role loses INSERT on raw mid-run', () => {
  let db: TestDatabase;
  let rig: LoaderRig;

  beforeAll(async () => {
    db = await createTestDatabase();
    try {
      rig = await startLoaderRig({
        databaseUrl: db.url,
        loaderRole: 'cdp_loader',
        coins: COINS,
        env: { LOAD_CONCURRENCY: '2' },
      });
      await db.pool.query('select raw.ensure_snapshot_partitions(current_date - 1, current_date + 3)');
    } catch (error) {
      await db.drop();
      throw error;
    }
  }, 60_000);
  afterAll(async () => {
    await rig?.stop();
    await db?.drop();
  });

  const loadsOf = async (runId: string, states: JobType[]) =>
    (await rig.pipeline.runtime.queue('load').getJobs(states)).filter((j) => j.id!.startsWith(`load-${runId}-`));

  it('fails the loads for good with "permission denied", keeps the processes up, and loads again after GRANT', async () => {
    // The role works as granted.
    rig.nextMarketStep();
    const before = await runTick(rig.pipeline.runtime, db, {}, 30_000);
    expect(before.run).toMatchObject({ status: 'loaded', rows_loaded: COINS });

    // Loads parked inside their transaction lose the grant before they write.
    rig.nextMarketStep();
    const mark = rig.logMark();
    const runId = await enqueueTick(rig.pipeline.runtime);
    const { release } = await parkLoads(rig, LOAD_SLOTS);
    await db.pool.query('revoke insert on raw.coin_market_snapshots from cdp_loader');
    await release();

    const { run } = await waitForTick(rig.pipeline.runtime, db, runId, 30_000);
    const planned = Number(run.batches_planned);
    expect(run).toMatchObject({ status: 'failed', batches_loaded: 0, batches_failed: planned, rows_loaded: 0 });
    // In the failed set at the first attempt (no retries burnt), with Postgres's message as the reason.
    const failed = await loadsOf(runId, ['failed']);
    expect(failed.length).toBe(planned);
    for (const job of failed) {
      expect(job.failedReason).toMatch(DENIED);
      expect(job.attemptsMade).toBe(1);
    }
    // The batch ledger (the dashboard's pipeline page) carries the same reason; nothing was written.
    const ledger = await db.pool.query<{ error: string }>(
      'select error from pipeline.pipeline_batches where run_id = $1',
      [runId],
    );
    expect(ledger.rows.length).toBe(planned);
    for (const { error } of ledger.rows) expect(error).toMatch(DENIED);
    expect((await loadedRows(db, runId)).n).toBe(0);
    // Logged as a permanent failure; the processes did not crash.
    const finals = rig.loaderLogs('job failed for good', mark);
    expect(finals.length).toBe(planned);
    expect(finals.every((entry) => entry.permanent === true && DENIED.test(String(entry.reason)))).toBe(true);
    expect(rig.loaderLogs('job failed, will retry', mark)).toEqual([]);
    rig.expectLoadersUp();

    // The grant comes back: the next tick loads every coin, once.
    await db.pool.query('grant insert on raw.coin_market_snapshots to cdp_loader');
    rig.nextMarketStep();
    const after = await runTick(rig.pipeline.runtime, db, {}, 30_000);
    expect(after.run).toMatchObject({ status: 'loaded', batches_failed: 0, rows_loaded: COINS, rows_duplicate: 0 });
    const rows = await loadedRows(db, after.runId);
    expect({ n: rows.n, coins: rows.coins }).toEqual({ n: COINS, coins: COINS });
    expect(rows.ids).toEqual([...rig.simulator.control.universeIds()].sort());
    rig.expectLoadersUp();
  });
});
