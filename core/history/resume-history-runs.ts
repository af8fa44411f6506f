import { jobIds } from '../queues/registry.js';
import type { Runtime } from '../runtime.js';
import type { HistoryKind } from './history-ledger.js';
import { enqueueHistoryItems } from './start-history-run.js';

/**
 * History runs still 'running' whose jobs vanished from Redis (wiped, or restarted without
 * persistence) would never finish. For each running run, the job of its first pending item is looked
 * up (one Redis call per run, not per item); when it is gone, every pending item's job is added
 * again. Job ids are deterministic, so a job that does exist is not added twice, and a run whose jobs
 * are being added by startHistoryRun at the same moment ends up with each job once.
 */
export async function resumeHistoryRuns(runtime: Runtime): Promise<Array<{ historyRunId: string; jobs: number }>> {
  const { rows } = await runtime.pool.query<{ history_run_id: string; kind: HistoryKind; first_pending: number }>(
    `select r.history_run_id, r.kind, min(i.item_no) as first_pending
       from pipeline.history_runs r join pipeline.history_items i using (history_run_id)
      where r.status = 'running' and i.status = 'pending'
      group by r.history_run_id, r.kind
      order by r.history_run_id`,
  );
  const resumed: Array<{ historyRunId: string; jobs: number }> = [];
  for (const run of rows) {
    if (await runtime.queue('fetch').getJob(jobIds.history(run.history_run_id, run.first_pending))) continue;
    resumed.push({
      historyRunId: run.history_run_id,
      jobs: await enqueueHistoryItems(runtime, run.history_run_id, run.kind),
    });
  }
  return resumed;
}
