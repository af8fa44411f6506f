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
