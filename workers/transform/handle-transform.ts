import type { Handler } from '../../core/jobs/run-job.js';
import { markBatchFailed, setTransformStatus } from '../../core/pipeline/run-ledger.js';
import type { Runtime } from '../../core/runtime.js';
import { resolveTransformRunner, type TransformRunner } from '../../core/transform/runner.js';

/** `<prefix>:load:load-<runId>-<batchNo>` → batchNo */
function batchNoOf(childKey: string): number | undefined {
  const match = /-(\d+)$/.exec(childKey);
  return match ? Number(match[1]) : undefined;
}

/**
 * Runs once per tick, after every load settled. First it closes the books: batches whose jobs failed
 * without reaching our failure hook (e.g. a job failed after stalling too often) are marked failed
 * from BullMQ's own record. Then it runs the dbt project.
 */
export function transformHandler(runtime: Runtime, runner?: () => TransformRunner): Handler<'transform'> {
  const { pool, config } = runtime;
  return async ({ job, data, log, signal }) => {
    const failures = await job.getIgnoredChildrenFailures();
    const failedBatches: number[] = [];
    for (const [childKey, reason] of Object.entries(failures)) {
      const batchNo = batchNoOf(childKey);
      if (batchNo === undefined) continue;
      failedBatches.push(batchNo);
      await markBatchFailed(pool, data.runId, batchNo, reason);
    }
    if (failedBatches.length > 0) log.warn('tick has failed batches; transforming what loaded', { failedBatches });

    await setTransformStatus(pool, data.runId, 'running', { jobId: job.id });
    const chosen = (runner ?? (() => resolveTransformRunner(config)))();
    const summary = await chosen.run({ runId: data.runId, signal, log });
    await setTransformStatus(pool, data.runId, 'succeeded');
    return { status: 'succeeded', runId: data.runId, failedBatches: failedBatches.sort((a, b) => a - b), detail: summary.detail };
  };
}
