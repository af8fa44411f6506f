import pg from 'pg';
import { recordPlannedRun } from '../../core/pipeline/run-ledger.js';
import type { SnapshotContext } from '../../core/snapshots/snapshot-row.js';
import { batchItems, type BatchRef, type SnapshotFixture } from './snapshot-fixture.js';

/** One step of the fixture = one tick (run) of the ledger; its batches are that run's batches. */
export async function planRuns(pool: pg.Pool, fixture: SnapshotFixture, runPrefix: string): Promise<BatchRef[]> {
  const refs: BatchRef[] = [];
  for (const [step, batches] of fixture.ids.entries()) {
    const runId = `b${runPrefix}${step}`;
    await recordPlannedRun(pool, {
      runId,
      trigger: 'manual',
      scheduledAt: null,
      batches: batches.map((ids) => [...ids]),
    });
    batches.forEach((_, batchNo) => refs.push({ runId, batchNo, vsCurrency: 'usd', step }));
  }
  return refs;
}

/** A batch of the fixture with its records parsed, as the baselines insert it. */
export interface ParsedBatch extends SnapshotContext {
  readonly items: readonly unknown[];
}

/** A batch with its records parsed from the fixture's body. */
export function withItems(fixture: SnapshotFixture, ref: BatchRef): ParsedBatch {
  return { runId: ref.runId, batchNo: ref.batchNo, vsCurrency: ref.vsCurrency, items: batchItems(fixture, ref) };
}

/**
 * Runs `load` over every input with `concurrency` loaders pulling from one shared list, as that many
 * BullMQ load slots would. Returns the wall time in ms.
 */
export async function runLoaders<T>(
  inputs: readonly T[],
  concurrency: number,
  load: (input: T) => Promise<unknown>,
  signal?: AbortSignal,
): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < inputs.length) {
        signal?.throwIfAborted();
        await load(inputs[next++]!);
      }
    }),
  );
  return performance.now() - started;
}

export function benchPool(url: string, max: number): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, max, application_name: 'cdp-bench' });
  pool.on('error', () => undefined);
  return pool;
}

/** Empties the raw table (its partitions stay) and checkpoints, so each variant starts alike. */
export async function resetRawTable(pool: pg.Pool): Promise<void> {
  await pool.query('truncate raw.coin_market_snapshots');
  await pool.query('checkpoint');
}

export async function countRows(pool: pg.Pool): Promise<number> {
  const result = await pool.query<{ n: number }>('select count(*)::int as n from raw.coin_market_snapshots');
  return result.rows[0]!.n;
}

/** A pool that remembers the pid of every backend it opened, so their CPU can be read from /proc. */
export function trackedPool(url: string, max: number): { pool: pg.Pool; backendPids: number[] } {
  const pool = benchPool(url, max);
  const backendPids: number[] = [];
  pool.on('connect', (client) => {
    backendPids.push((client as unknown as { processID: number }).processID);
  });
  return { pool, backendPids };
}
