import type pg from 'pg';
import { transformLastSuccess, transformNodes, transformRunDuration, transformRuns } from '../transform-metrics.js';
import { isoUtc } from '../../../core/snapshots/load-barrier.js';
import type { TransformRunSummary } from './runner-types.js';
import { countNodes } from './summarize.js';

/**
 * Opens the run's row before dbt starts, so a dashboard sees a run in progress. Returns its id.
 * Only one run executes at a time (the transform queue's global concurrency is 1), so a row still
 * 'running' now belongs to a worker that died mid-run: it is closed as an error saying so.
 */
export async function startTransformRun(
  pool: pg.Pool,
  run: {
    runId: string;
    jobId: string | undefined;
    runner: 'dbt' | 'bundled';
    covers: readonly string[];
    loadsBarrierAt?: string | null;
  },
): Promise<number> {
  await pool.query(
    `update pipeline.transform_runs
        set status = 'error', finished_at = now(),
            error = 'aborted: its transform worker stopped before the run finished (crash, kill or lost lock); a later run covered its ticks'
      where status = 'running'`,
  );
  const result = await pool.query<{ transform_run_id: number }>(
    'insert into pipeline.transform_runs (run_id, job_id, runner, covers_run_ids, loads_barrier_at) values ($1, $2, $3, $4, $5) returning transform_run_id',
    [
      run.runId,
      run.jobId ?? null,
      run.runner,
      [run.runId, ...run.covers.filter((id) => id !== run.runId)],
      run.loadsBarrierAt ?? null,
    ],
  );
  return Number(result.rows[0]!.transform_run_id);
}

/** Stores every node's outcome and closes the run's row; updates the transform metrics. */
export async function finishTransformRun(
  pool: pg.Pool,
  transformRunId: number,
  summary: TransformRunSummary,
  durationMs: number,
): Promise<void> {
  const counts = countNodes(summary.nodes);
  const client = await pool.connect();
  try {
    await client.query('begin');
    const n = summary.nodes;
    if (n.length > 0) {
      await client.query(
        `insert into pipeline.transform_node_results
           (transform_run_id, unique_id, resource_type, name, status, started_at, completed_at, execution_time_ms, rows_affected, failures, message)
         select $1, * from unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::timestamptz[], $7::timestamptz[], $8::int[], $9::bigint[], $10::bigint[], $11::text[])
         on conflict (transform_run_id, unique_id) do nothing`,
        [
          transformRunId,
          n.map((x) => x.uniqueId),
          n.map((x) => x.resourceType),
          n.map((x) => x.name),
          n.map((x) => x.status),
          n.map((x) => x.startedAt),
          n.map((x) => x.completedAt),
          n.map((x) => Math.round(x.executionTimeMs)),
          n.map((x) => x.rowsAffected),
          n.map((x) => x.failures),
          n.map((x) => (x.message === null ? null : x.message.slice(0, 4000))),
        ],
      );
    }
    await client.query(
      `update pipeline.transform_runs
          set status = $2, finished_at = now(), duration_ms = $3, models_built = $4, models_failed = $5,
              tests_passed = $6, tests_warned = $7, tests_failed = $8, nodes_skipped = $9, detail = $10, error = left($11, 4000)
        where transform_run_id = $1`,
      [
        transformRunId,
        summary.status,
        Math.round(durationMs),
        counts.modelsBuilt,
        counts.modelsFailed,
        counts.testsPassed,
        counts.testsWarned,
        counts.testsFailed,
        counts.skipped,
        summary.detail,
        summary.failureReason ?? null,
      ],
    );
    await client.query('commit');
  } catch (error) {
    await client.query('rollback').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
  transformRunDuration.observe({ runner: summary.runner, status: summary.status }, durationMs / 1000);
  transformRuns.inc({ status: summary.status });
  for (const node of summary.nodes) transformNodes.inc({ resource_type: node.resourceType, status: node.status });
  if (summary.status === 'success') transformLastSuccess.set(Date.now() / 1000);
}

/** A run that crashed before producing a summary (runner threw). */
export async function abortTransformRun(
  pool: pg.Pool,
  transformRunId: number,
  reason: string,
  durationMs: number,
  runner: string,
): Promise<void> {
  await pool.query(
    `update pipeline.transform_runs set status = 'error', finished_at = now(), duration_ms = $2, error = left($3, 4000)
      where transform_run_id = $1`,
    [transformRunId, Math.round(durationMs), reason],
  );
  transformRunDuration.observe({ runner, status: 'error' }, durationMs / 1000);
  transformRuns.inc({ status: 'error' });
}

/** The job id of a successful run that started while `runId`'s transform was already waiting, if any. */
export async function coveringRun(pool: pg.Pool, runId: string): Promise<string | undefined> {
  const result = await pool.query<{ job_id: string | null; run_id: string }>(
    `select job_id, run_id from pipeline.transform_runs
      where status = 'success' and run_id <> $1 and $1 = any(covers_run_ids)
      order by transform_run_id desc limit 1`,
    [runId],
  );
  const row = result.rows[0];
  return row ? (row.job_id ?? `transform of ${row.run_id}`) : undefined;
}

/**
 * The newest load barrier a successful run passed (ISO-8601 UTC, microseconds), or null before any.
 * Every snapshot loaded up to it was read by that run; the next run reads the ones loaded after it.
 * The newest of any successful run, not only the last run's: a run that succeeded without passing
 * the barrier read everything after the earlier one too.
 */
export async function lastLoadsBarrier(pool: pg.Pool): Promise<string | null> {
  const result = await pool.query<{ at: string | null }>(
    `select ${isoUtc('max(loads_barrier_at)')} as at from pipeline.transform_runs where status = 'success'`,
  );
  return result.rows[0]?.at ?? null;
}
