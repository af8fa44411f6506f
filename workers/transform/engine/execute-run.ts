import type pg from 'pg';
import { PermanentError, errorMessage } from '../../../core/errors.js';
import type { Logger } from '../../../core/log/logger.js';
import { ISO_UTC_MICROS, LOAD_BARRIER_TIMEOUT_MS, passLoadBarrier } from '../../../core/snapshots/load-barrier.js';
import { abortTransformRun, finishTransformRun, lastLoadsBarrier, startTransformRun } from './record-results.js';
import type { TransformRunner, TransformRunSummary } from './runner-types.js';

export interface ExecuteTransformOptions {
  readonly runId: string;
  readonly jobId?: string;
  /** Other ticks whose rows this run covers (their transforms were waiting). */
  readonly covers?: readonly string[];
  readonly signal: AbortSignal;
  readonly log: Logger;
  readonly fullRefresh?: boolean;
  readonly barrierTimeoutMs?: number;
}

export interface ExecutedTransform {
  readonly transformRunId: number;
  readonly summary: TransformRunSummary;
  /** The dbt run alone, without the wait for the loads in flight. */
  readonly durationMs: number;
  /** What the incremental models read from: the last successful run's barrier (null: their own watermarks). */
  readonly loadedAfter: string | null;
  /** The barrier this run passed, recorded for the next one (null: the loads in flight outlasted the wait). */
  readonly barrier: string | null;
}

/**
 * One run of the dbt project as the transform worker makes it: it passes the load barrier, records the
 * run, runs the project with loaded_after = the last successful run's barrier (so the incremental
 * models read exactly the snapshots loaded since), and records every node's result. A failed run
 * records its barrier too, but only successful runs' barriers are ever read from.
 */
export async function executeTransformRun(
  pool: pg.Pool,
  runner: TransformRunner,
  options: ExecuteTransformOptions,
): Promise<ExecutedTransform> {
  const { runId, signal, log } = options;
  const loadedAfter = await lastLoadsBarrier(pool);
  if (loadedAfter !== null && !ISO_UTC_MICROS.test(loadedAfter)) {
    throw new PermanentError(
      `the last load barrier recorded in pipeline.transform_runs reads '${loadedAfter}', not an ISO-8601 UTC timestamp`,
    );
  }
  const barrierTimeoutMs = options.barrierTimeoutMs ?? LOAD_BARRIER_TIMEOUT_MS;
  const barrier = await passLoadBarrier(pool, barrierTimeoutMs);
  if (barrier === null) {
    log.warn(
      'a snapshot load stayed open past the load barrier timeout; this run records no barrier, so the next one reads from the last barrier recorded',
      { timeoutMs: barrierTimeoutMs },
    );
  }
  const transformRunId = await startTransformRun(pool, {
    runId,
    jobId: options.jobId,
    runner: runner.name,
    covers: options.covers ?? [],
    loadsBarrierAt: barrier,
  });
  const started = performance.now();
  let summary: TransformRunSummary;
  try {
    summary = await runner.run({
      runId,
      signal,
      log,
      fullRefresh: options.fullRefresh,
      vars: { loaded_after: loadedAfter },
    });
  } catch (error) {
    await abortTransformRun(pool, transformRunId, errorMessage(error), performance.now() - started, runner.name);
    throw error;
  }
  const durationMs = performance.now() - started;
  await finishTransformRun(pool, transformRunId, summary, durationMs);
  return { transformRunId, summary, durationMs, loadedAfter, barrier };
}
