import { closeSync, openSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';
import type { Job, JobType } from 'bullmq';
import { enqueueTick } from '../../producers/tick/enqueue-tick.js';
import { loadedRows, startLoaderRig, type LoaderRig } from '../helpers/loader-rig.js';
import { PrivatePostgres } from '../helpers/private-postgres.js';
import { waitForTick } from '../helpers/scenario.js';
import { waitFor } from '../helpers/wait-for.js';

const COINS = 1000;
const DISK_FULL = /could not extend file "[^"]+": No space left on device \(53100\)/;

/** Writes zeros into `file` until the filesystem refuses (ENOSPC); returns the bytes written. */
function fillUp(file: string): number {
  const fd = openSync(file, 'w');
  let written = 0;
  try {
    for (const size of [1 << 20, 1 << 12]) {
      const chunk = Buffer.alloc(size);
      for (;;) {
        try {
          written += writeSync(fd, chunk);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
          break;
        }
      }
    }
  } finally {
    closeSync(fd);
  }
  return written;
}

/**
 * Postgres really runs out of disk: the raw table's partitions live in a tablespace on a small tmpfs
 * of their own (a private cluster, so nothing else shares it), which the test fills with a file.
 * Extending a partition then fails with SQLSTATE 53100, which clears once space is freed, so the
 * load is retried rather than failed for good. LOAD_ATTEMPTS is raised so that the outage (a few
 * seconds here, with 100 ms–2 s backoff) cannot use the attempts up before the space comes back.
 */
describe('Postgres disk full while loading', () => {
  let server: PrivatePostgres;
  let rig: LoaderRig;
  let mount: string;

  beforeAll(async () => {
    server = await PrivatePostgres.start();
    try {
      const url = await server.createDatabase('cdp_disk_full');
      const disk = server.mountTinyDisk('tiny', 16 * 1024 * 1024);
      mount = disk.mount;
      rig = await startLoaderRig({ databaseUrl: url, coins: COINS, env: { LOAD_ATTEMPTS: '40' } });
      await rig.db.pool.query(`create tablespace tiny location '${disk.tablespaceDir}'`);
      // On a partitioned table this sets where new partitions go; the loader creates them as it needs them.
      await rig.db.pool.query('alter table raw.coin_market_snapshots set tablespace tiny');
    } catch (error) {
      await rig?.stop();
      await server.stop();
      throw error;
    }
  }, 60_000);
  // A test that fails midway must not leave the disk full for the next one.
  afterEach(() => rmSync(path.join(mount, 'filler'), { force: true }));
  afterAll(async () => {
    await rig?.stop();
    await server?.stop();
  });

  const loadsOf = async (runId: string, states: JobType[]) =>
    (await rig.pipeline.runtime.queue('load').getJobs(states)).filter((j: Job) => j.id!.startsWith(`load-${runId}-`));

  it('fails the load with the disk-full reason, writes nothing, keeps the process up, and loads exactly once when space is freed', async () => {
    // A tick with room first: its rows land on the tiny disk, so the test fills the disk Postgres writes to.
    rig.nextMarketStep();
    const { runId: roomy, run: roomyRun } = await (async () => {
      const id = await enqueueTick(rig.pipeline.runtime);
      return { runId: id, ...(await waitForTick(rig.pipeline.runtime, rig.db, id, 30_000)) };
    })();
    expect(roomyRun).toMatchObject({ status: 'loaded', rows_loaded: COINS });
    const placed = await rig.db.pool.query<{ tablespace: string | null }>(
      "select distinct tablespace from pg_tables where schemaname = 'raw' and tablename like 'coin_market_snapshots_p%'",
    );
    expect(placed.rows).toEqual([{ tablespace: 'tiny' }]);

    const filler = path.join(mount, 'filler');
    expect(fillUp(filler)).toBeGreaterThan(0);
    const mark = rig.logMark();
    rig.nextMarketStep();
    const runId = await enqueueTick(rig.pipeline.runtime);

    // Every load of the tick fails on the full disk and is retried (not failed for good), with the reason.
    const failing = await waitFor(
      'every load retried on the full disk',
      async () => {
        const jobs = await loadsOf(runId, ['delayed', 'active', 'waiting', 'failed', 'completed']);
        const planned = (
          await rig.db.pool.query<{ n: number }>(
            'select batches_planned as n from pipeline.pipeline_runs where run_id = $1',
            [runId],
          )
        ).rows[0]?.n;
        return planned &&
          jobs.length === planned &&
          jobs.every((j) => j.attemptsMade >= 2 && DISK_FULL.test(j.failedReason ?? ''))
          ? jobs
          : undefined;
      },
      30_000,
    );
    expect(await loadsOf(runId, ['failed', 'completed'])).toEqual([]);
    // Nothing half-written: no row, no quarantine entry, no batch marked loaded.
    expect((await loadedRows(rig.db, runId)).n).toBe(0);
    const ledger = await rig.db.pool.query(
      'select count(*) filter (where status = $2)::int as loaded, count(*)::int as batches from pipeline.pipeline_batches where run_id = $1',
      [runId, 'loaded'],
    );
    expect(ledger.rows[0]).toEqual({ loaded: 0, batches: failing.length });
    const quarantined = await rig.db.pool.query(
      'select count(*)::int as n from pipeline.quarantined_records where run_id = $1',
      [runId],
    );
    expect(quarantined.rows[0].n).toBe(0);
    // The load processes logged it as a retryable failure and are still running.
    const retries = rig.loaderLogs('job failed, will retry', mark);
    expect(retries.length).toBeGreaterThanOrEqual(failing.length * 2);
    expect(retries.every((entry) => DISK_FULL.test(String(entry.reason)) && entry.permanent === false)).toBe(true);
    rig.expectLoadersUp();

    rmSync(filler);
    const { run } = await waitForTick(rig.pipeline.runtime, rig.db, runId, 30_000);
    expect(run).toMatchObject({
      status: 'loaded',
      batches_loaded: failing.length,
      batches_failed: 0,
      rows_loaded: COINS,
      rows_duplicate: 0,
    });
    const rows = await loadedRows(rig.db, runId);
    expect({ n: rows.n, coins: rows.coins }).toEqual({ n: COINS, coins: COINS });
    expect(rows.ids).toEqual([...rig.simulator.control.universeIds()].sort());
    expect((await loadsOf(runId, ['completed'])).length).toBe(failing.length);
    // The earlier tick's rows are untouched.
    expect((await loadedRows(rig.db, roomy)).n).toBe(COINS);
    rig.expectLoadersUp();
  });

  it('with the disk still full at the last attempt, fails the batch for good with the reason, and the next tick loads once space is back', async () => {
    const filler = path.join(mount, 'filler');
    let short: LoaderRig | undefined;
    try {
      // A pipeline and database of its own (raw partitions on the same tiny disk) whose loads get 2
      // attempts (attempts are set when the planner adds the job).
      const ownUrl = await server.createDatabase('cdp_disk_full_short');
      short = await startLoaderRig({ databaseUrl: ownUrl, coins: COINS, loaders: 1, env: { LOAD_ATTEMPTS: '2' } });
      await short.db.pool.query('alter table raw.coin_market_snapshots set tablespace tiny');
      // Partitions while there is room: creating one writes its TOAST index's metapage, which a full
      // disk refuses too (the tick planner then fails and retries the same way, 53100).
      await short.db.pool.query('select raw.ensure_snapshot_partitions(current_date - 1, current_date + 3)');
      expect(fillUp(filler)).toBeGreaterThan(0);
      const mark = short.logMark();
      short.nextMarketStep();
      const runId = await enqueueTick(short.pipeline.runtime);
      const { run } = await waitForTick(short.pipeline.runtime, short.db, runId, 30_000);
      const planned = Number(run.batches_planned);
      expect(run).toMatchObject({ status: 'failed', batches_loaded: 0, batches_failed: planned, rows_loaded: 0 });
      // In the failed set (what Bull Board shows) and in the batch ledger, with Postgres's reason.
      const failed = (await short.pipeline.runtime.queue('load').getJobs(['failed'])).filter((j) =>
        j.id!.startsWith(`load-${runId}-`),
      );
      expect(failed.length).toBe(planned);
      for (const job of failed) {
        expect(job.failedReason).toMatch(DISK_FULL);
        expect(job.attemptsMade).toBe(2);
      }
      const ledger = await short.db.pool.query<{ status: string; error: string }>(
        'select status, error from pipeline.pipeline_batches where run_id = $1',
        [runId],
      );
      expect(ledger.rows.map((r) => r.status)).toEqual(Array(planned).fill('failed'));
      for (const { error } of ledger.rows) expect(error).toMatch(DISK_FULL);
      expect((await loadedRows(short.db, runId)).n).toBe(0);
      expect(short.loaderLogs('job failed for good', mark).every((entry) => DISK_FULL.test(String(entry.reason)))).toBe(
        true,
      );
      short.expectLoadersUp();

      rmSync(filler);
      short.nextMarketStep();
      const next = await enqueueTick(short.pipeline.runtime);
      const { run: nextRun } = await waitForTick(short.pipeline.runtime, short.db, next, 30_000);
      expect(nextRun).toMatchObject({ status: 'loaded', batches_failed: 0, rows_loaded: COINS, rows_duplicate: 0 });
      expect((await loadedRows(short.db, next)).coins).toBe(COINS);
      short.expectLoadersUp();
    } finally {
      rmSync(filler, { force: true });
      await short?.stop();
    }
  });
});
