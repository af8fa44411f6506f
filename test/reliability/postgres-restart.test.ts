import { enqueueTick } from '../../producers/tick/enqueue-tick.js';
import { loadedRows, parkLoads, startLoaderRig, type LoaderRig } from '../helpers/loader-rig.js';
import { PrivatePostgres } from '../helpers/private-postgres.js';
import { waitForTick } from '../helpers/scenario.js';

const COINS = 2000; // 8 or 9 batches (250 ids, or fewer when the URL gets long)
const LOAD_SLOTS = 4; // 2 load processes x LOAD_CONCURRENCY 2

/**
 * The whole Postgres server restarted while loads are inside their transaction: every session is
 * cut, including idle pooled ones. A private cluster, because the shared one serves other tests.
 *
 * The loads are parked with a lock: a blocker holds SHARE ROW EXCLUSIVE on the raw table, so each
 * load is inside its transaction (batch row locked in the ledger), blocked in the statement that
 * writes raw, when the server goes down. (A COPY of 250 rows lasts milliseconds; a lock is the only
 * way to be sure every load slot is mid-transaction at the moment of the restart.)
 */
describe('Postgres restarted in the middle of loads', () => {
  let server: PrivatePostgres;
  let rig: LoaderRig;

  beforeAll(async () => {
    server = await PrivatePostgres.start();
    try {
      const url = await server.createDatabase('cdp_restart');
      rig = await startLoaderRig({ databaseUrl: url, coins: COINS, env: { LOAD_CONCURRENCY: '2' } });
      // Partitions first: creating one needs a lock the blocker would hold up.
      await rig.db.pool.query('select raw.ensure_snapshot_partitions(current_date - 1, current_date + 3)');
    } catch (error) {
      await server.stop();
      throw error;
    }
  }, 60_000);
  afterAll(async () => {
    await rig?.stop();
    await server?.stop();
  });

  async function expectTickExact(runId: string, parked: number): Promise<void> {
    const { run } = await waitForTick(rig.pipeline.runtime, rig.db, runId, 40_000);
    expect(run).toMatchObject({
      status: 'loaded',
      batches_loaded: run.batches_planned,
      batches_failed: 0,
      rows_loaded: COINS,
      rows_duplicate: 0,
    });
    // Exactly the simulator's coins, each once.
    const rows = await loadedRows(rig.db, runId);
    expect({ n: rows.n, coins: rows.coins }).toEqual({ n: COINS, coins: COINS });
    expect(rows.ids).toEqual([...rig.simulator.control.universeIds()].sort());
    // The interrupted loads rolled back and were retried: a second attempt each, none failed.
    const ofRun = async (state: 'completed' | 'failed') =>
      (await rig.pipeline.runtime.queue('load').getJobs([state])).filter((j) => j.id!.startsWith(`load-${runId}-`));
    const loads = await ofRun('completed');
    expect(loads.length).toBe(run.batches_planned);
    expect(await ofRun('failed')).toEqual([]);
    expect(loads.filter((j) => j.attemptsMade > 1).length).toBeGreaterThanOrEqual(parked);
    rig.expectLoadersUp();
  }

  it('pg_ctl restart -m fast (sessions ended with 57P01): loads roll back, are retried, and the count is exact', async () => {
    rig.nextMarketStep();
    const runId = await enqueueTick(rig.pipeline.runtime);
    const { parked, release } = await parkLoads(rig, LOAD_SLOTS);
    const mark = rig.logMark();
    await server.restart('fast');
    await release();

    await expectTickExact(runId, parked);
    // The load processes saw the shutdown, logged it and retried; they did not exit or need a restart.
    const reasons = rig.loaderLogs('job failed, will retry', mark).map((entry) => String(entry.reason));
    expect(reasons.length).toBeGreaterThanOrEqual(parked);
    expect(
      reasons.filter((r) => /terminating connection due to administrator command \(57P01\)/.test(r)).length,
    ).toBeGreaterThanOrEqual(parked);
  });

  it('pg_ctl restart -m immediate (a crash, then WAL recovery): committed loads survive, interrupted ones are retried, the count is exact', async () => {
    rig.nextMarketStep();
    const before = (await rig.db.pool.query<{ n: number }>('select count(*)::int as n from raw.coin_market_snapshots'))
      .rows[0]!.n;
    const runId = await enqueueTick(rig.pipeline.runtime);
    const { parked, release } = await parkLoads(rig, LOAD_SLOTS);
    const mark = rig.logMark();
    await server.restart('immediate');
    await release();

    await expectTickExact(runId, parked);
    expect(rig.loaderLogs('job failed, will retry', mark).length).toBeGreaterThanOrEqual(parked);
    // What earlier ticks committed survived the crash (WAL recovery), and nothing is there twice.
    const after = await rig.db.pool.query(
      'select count(*)::int as n, count(distinct (run_id, coin_id))::int as distinct_rows from raw.coin_market_snapshots',
    );
    expect(after.rows[0]).toEqual({ n: before + COINS, distinct_rows: before + COINS });
  });
});
