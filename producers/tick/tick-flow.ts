import type { FlowJob } from 'bullmq';
import type { AppConfig } from '../../core/config/index.js';
import { jobOptions } from '../../core/queues/job-options.js';
import { jobIds, QUEUES, type PayloadOf } from '../../core/queues/registry.js';

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
    name: 'dbt-run',
    queueName: QUEUES.transform.name,
    data: { runId } satisfies PayloadOf<'transform'>,
    opts: { ...jobOptions('transform', config), jobId: jobIds.transform(runId) },
    children: batches.map((ids, batchNo) => ({
      name: 'copy-batch',
      queueName: QUEUES.load.name,
      data: { runId, batchNo, vsCurrency } satisfies PayloadOf<'load'>,
      opts: { ...jobOptions('load', config), jobId: jobIds.load(runId, batchNo), ignoreDependencyOnFailure: true },
      children: [
        {
          name: 'coins-markets',
          queueName: QUEUES.fetch.name,
          data: { runId, batchNo, request: { endpoint: 'markets', vsCurrency, ids: [...ids] } } satisfies PayloadOf<'fetch'>,
          opts: { ...jobOptions('fetch', config), jobId: jobIds.fetch(runId, batchNo), failParentOnFailure: true },
        },
      ],
    })),
  };
}
