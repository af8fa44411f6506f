import pg from 'pg';
import { recordPlannedRun } from '../../core/pipeline/run-ledger.js';
import { loadBatch, type LoadBatchOutcome } from '../../core/snapshots/load-snapshots.js';
import type { SnapshotContext } from '../../core/snapshots/snapshot-row.js';
import { startSimulator, type SimulatorHandle } from '../../simulator/server.js';
import { createTestDatabase, type TestDatabase } from './database.js';
import { parkedBatchOf } from './parked-batches.js';

/** One parsed batch of a planned run. */
export interface LoadBatchInput extends SnapshotContext {
  /** The parsed /coins/markets array, unvalidated. */
  readonly items: readonly unknown[];
  /**
   * Each item's JSON text as CoinGecko sent it, in the same order (see jsonArrayItems). Stored as
   * the `record` column; without it each record is serialised again.
   */
  readonly texts?: readonly string[];
}

/**
 * Validates, encodes and loads one parsed batch: what the fetch and load workers do between them,
 * without the fetch worker's key check (its load looks the keys up) and without Redis.
 */
export async function loadSnapshotBatch(pool: pg.Pool, input: LoadBatchInput): Promise<LoadBatchOutcome> {
  const context = { runId: input.runId, batchNo: input.batchNo, vsCurrency: input.vsCurrency };
  return loadBatch(pool, parkedBatchOf(context, input.items, input.texts));
}

/** A test database, a simulator for realistic records, and a pool of loader connections. */
export interface SnapshotLoads {
  readonly db: TestDatabase;
  readonly simulator: SimulatorHandle;
  /** Loads one planned batch of these coins observed at `at`, through the load worker's path. */
  load(runId: string, ids: readonly string[], at: string): Promise<LoadBatchOutcome>;
  close(): Promise<void>;
}

export async function startSnapshotLoads(): Promise<SnapshotLoads> {
  const db = await createTestDatabase();
  const simulator = await startSimulator({ coins: 20 });
  const loaders = new pg.Pool({ connectionString: db.url, max: 4 });
  return {
    db,
    simulator,
    async load(runId, ids, at) {
      await recordPlannedRun(db.pool, { runId, trigger: 'manual', scheduledAt: null, batches: [[...ids]] });
      const items = simulator.control.marketsSnapshot([...ids]).map((i) => ({ ...i, last_updated: at }));
      return loadSnapshotBatch(loaders, { runId, batchNo: 0, vsCurrency: 'usd', items });
    },
    async close() {
      await loaders.end();
      await simulator.close();
      await db.drop();
    },
  };
}

/**
 * Holds the snapshot loads into one day's partition inside their transactions, after they entered the
 * load barrier: a SHARE lock on the partition lets a load's key lookup read but makes its COPY wait.
 * Returns the release.
 */
export async function stallLoadsInto(pool: pg.Pool, day: string): Promise<() => Promise<void>> {
  await pool.query('select raw.ensure_snapshot_partitions($1::date, $1::date)', [day]);
  const blocker = await pool.connect();
  await blocker.query('begin');
  await blocker.query(`lock table raw.coin_market_snapshots_p${day.replaceAll('-', '')} in share mode`);
  return async () => {
    await blocker.query('commit');
    blocker.release();
  };
}

/** The load barrier's advisory locks in this database: loads inside it, a barrier waiting, loads queued behind that barrier. */
export async function barrierLocks(pool: pg.Pool): Promise<{ loads: number; waiting: number; queued: number }> {
  const result = await pool.query<{ loads: number; waiting: number; queued: number }>(
    `select count(*) filter (where mode = 'ShareLock' and granted)::int as loads,
            count(*) filter (where mode = 'ExclusiveLock' and not granted)::int as waiting,
            count(*) filter (where mode = 'ShareLock' and not granted)::int as queued
       from pg_locks where locktype = 'advisory' and database = (select oid from pg_database where datname = current_database())`,
  );
  return result.rows[0]!;
}
