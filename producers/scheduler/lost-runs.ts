import { vanishedTransforms } from '../../core/metrics/registry.js';
import { jobIds } from '../../core/queues/registry.js';
import type { Runtime } from '../../core/runtime.js';

/**
 * A run whose jobs vanished from Redis (Redis restarted without persistence, or was flushed) would
 * stay 'running' for ever. Runs older than `olderThanMs` that are unfinished and whose transform
 * job (the flow's root, present from planning to the end) no longer exists are marked 'lost'.
 */
export async function markLostRuns(runtime: Runtime, olderThanMs: number, now = Date.now()): Promise<string[]> {
  const candidates = await runtime.pool.query<{ run_id: string }>(
    `select run_id from pipeline.pipeline_runs where finished_at is null and started_at < $1 order by started_at limit 500`,
    [new Date(now - olderThanMs)],
  );
  const lost: string[] = [];
  for (const { run_id: runId } of candidates.rows) {
    if (await runtime.queue('transform').getJob(jobIds.transform(runId))) continue;
    const marked = await runtime.pool.query(
      `update pipeline.pipeline_runs
          set status = 'lost', finished_at = now(),
              error = 'its jobs vanished from Redis (restarted without persistence or flushed); the next tick covers its coins'
        where run_id = $1 and finished_at is null`,
      [runId],
    );
    if (marked.rowCount) lost.push(runId);
  }
  return lost;
}

/** What became of runs whose transform job vanished: their run ids, by final transform status. */
export interface VanishedTransforms {
  readonly covered: string[];
  readonly lost: string[];
}

/**
 * A run whose transform job vanished from Redis would keep transform_status 'queued' (or 'pending',
 * 'running') for ever. Finished runs older than `olderThanMs` whose transform job no longer exists get
 * a final status: 'covered' when a successful transform run read past every row the run loaded (the
 * load barrier says so; pipeline.transform_covers_run), 'lost' otherwise; transform_note says which
 * and why. Run markLostRuns first, so that unfinished runs whose flow vanished are finished by then.
 */
export async function resolveVanishedTransforms(
  runtime: Runtime,
  olderThanMs: number,
  now = Date.now(),
): Promise<VanishedTransforms> {
  const candidates = await runtime.pool.query<{ run_id: string; transform_status: string }>(
    `select run_id, transform_status from pipeline.pipeline_runs
      where transform_status in ('pending', 'queued', 'running') and finished_at is not null and started_at < $1
      order by started_at limit 500`,
    [new Date(now - olderThanMs)],
  );
  const resolved: VanishedTransforms = { covered: [], lost: [] };
  for (const { run_id: runId, transform_status: previous } of candidates.rows) {
    if (await runtime.queue('transform').getJob(jobIds.transform(runId))) continue;
    const covered = (
      await runtime.pool.query<{ covered: boolean }>('select pipeline.transform_covers_run($1) as covered', [runId])
    ).rows[0]!.covered;
    const outcome = covered ? 'covered' : 'lost';
    const note = covered
      ? `its transform job vanished from Redis while ${previous}; a later successful transform run read every row it loaded`
      : `its transform job vanished from Redis while ${previous}; no successful transform run had read its rows when this was checked`;
    // Guarded by the status read above: a transform worker that finishes after all wins with its own status.
    const marked = await runtime.pool.query(
      `update pipeline.pipeline_runs set transform_status = $2, transform_finished_at = now(), transform_note = $3
        where run_id = $1 and transform_status = $4`,
      [runId, outcome, note, previous],
    );
    if (!marked.rowCount) continue;
    resolved[outcome].push(runId);
    vanishedTransforms.inc({ outcome });
  }
  return resolved;
}
