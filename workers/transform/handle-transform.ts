import type { Handler } from '../../core/jobs/run-job.js';
import { PermanentError, RetryableError } from '../../core/errors.js';
import { transformRuns } from './transform-metrics.js';
import { markBatchFailed, setTransformStatus } from '../../core/pipeline/run-ledger.js';
import type { Runtime } from '../../core/runtime.js';
import { executeTransformRun } from './engine/execute-run.js';
import { coveringRun } from './engine/record-results.js';
import { maintainRawPartitions } from './raw-maintenance.js';
import { resolveTransformRunner } from './engine/resolve-runner.js';
import type { TransformRunner } from './engine/runner-types.js';
import { readyTransforms } from './newer-transform.js';

/** `<prefix>:load:load-<runId>-<batchNo>` → batchNo */
function batchNoOf(childKey: string): number | undefined {
  const match = /-(\d+)$/.exec(childKey);
  return match ? Number(match[1]) : undefined;
}

/**
 * Runs once per tick, after every load settled. First it closes the books: batches whose jobs failed
 * without reaching our failure hook (e.g. a job failed after stalling too often) are marked failed
 * from BullMQ's own record. Then, unless a newer tick's transform is already waiting (which will see
 * this tick's rows too), it runs the dbt project, records every node's result, and applies raw
 * retention. A failing error-severity test or model fails the job, naming them.
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
    failedBatches.sort((a, b) => a - b);

    // Coalescing: ticks that finished while a run was going on need one run, of the newest. This job
    // hands over when a newer tick's transform is ready (it will see these rows too), or when a run
    // that started while this job was already waiting has succeeded (it saw them). The newest runs.
    const { newest, others } = await readyTransforms(runtime.queue('transform'), job);
    const coveredBy = newest?.id ?? (await coveringRun(pool, data.runId));
    if (coveredBy) {
      await setTransformStatus(pool, data.runId, 'coalesced', { jobId: job.id });
      transformRuns.inc({ status: 'coalesced' });
      log.info("coalesced into another tick's transform", { coveredBy });
      return { status: 'coalesced', runId: data.runId, failedBatches, detail: `coalesced into ${coveredBy}` };
    }

    await setTransformStatus(pool, data.runId, 'running', { jobId: job.id });
    const chosen = (runner ?? (() => resolveTransformRunner(config)))();
    const covers = others.map((other) => (other.data as { runId: string }).runId);
    const { summary } = await executeTransformRun(pool, chosen, {
      runId: data.runId,
      jobId: job.id,
      covers,
      signal,
      log,
    });
    if (summary.status === 'error') {
      const reason = summary.failureReason ?? 'dbt build failed';
      throw summary.retryable ? new RetryableError(reason) : new PermanentError(reason);
    }
    const warned = summary.nodes.filter((n) => n.status === 'warn').map((n) => n.name);
    if (warned.length > 0) log.warn('transform passed with warnings', { warned });

    await maintainRawPartitions(runtime, log);

    await setTransformStatus(pool, data.runId, 'succeeded');
    return { status: 'succeeded', runId: data.runId, failedBatches, detail: summary.detail };
  };
}
