import type { FlowJob } from 'bullmq';
import type { AppConfig } from '../../core/config/index.js';
import { buildJob } from '../../core/queues/build-job.js';
import { jobIds } from '../../core/queues/registry.js';

/**
 * One tick as a BullMQ flow: transform (root) ← one load per batch ← its fetch.
 * - A fetch that fails for good fails its load (failParentOnFailure): nothing to load.
 * - A load that fails for good is ignored by the transform (ignoreDependencyOnFailure), which still
 *   runs once every batch has loaded or failed, and reads the failures to finish the ledger.
 * So exactly one transform job exists per tick, queued by BullMQ itself when the last batch settles;
 * no counter in our code can get it wrong. Every id is deterministic: re-adding the flow is a no-op.
 */
export function tickFlow(config: AppConfig, runId: string, batches: readonly (readonly string[])[]): FlowJob {
  const vsCurrency = config.coingecko.vsCurrency;
  return {
    ...buildJob('transform', config, { data: { runId }, jobId: jobIds.transform(runId) }),
    children: batches.map((ids, batchNo) => ({
      ...buildJob('load', config, {
        data: { runId, batchNo, vsCurrency },
        jobId: jobIds.load(runId, batchNo),
        opts: { ignoreDependencyOnFailure: true },
      }),
      children: [
        buildJob('fetch', config, {
          data: { runId, batchNo, request: { endpoint: 'markets', vsCurrency, ids: [...ids] } },
          jobId: jobIds.fetch(runId, batchNo),
          opts: { failParentOnFailure: true },
        }),
      ],
    })),
  };
}
