import { buildJob } from '../../core/queues/build-job.js';
import { jobIds } from '../../core/queues/registry.js';
import type { Runtime } from '../../core/runtime.js';

/**
 * Adds a tick outside the schedule (ONCE=1 demo runs, backfills, tests). Returns its run id.
 * The run id is a letter plus the time, unique per millisecond and free of ':' (BullMQ forbids it in ids).
 */
export async function enqueueTick(
  runtime: Runtime,
  options: { trigger?: 'manual' | 'backfill'; coinIds?: readonly string[]; runId?: string } = {},
): Promise<string> {
  const runId = options.runId ?? `m${Date.now()}`;
  const { name, data, opts } = buildJob('tick', runtime.config, {
    data: { trigger: options.trigger ?? 'manual', ...(options.coinIds ? { coinIds: [...options.coinIds] } : {}) },
    jobId: jobIds.manualTick(runId),
  });
  await runtime.queue('tick').add(name, data, opts);
  return runId;
}

/** Adds a universe refresh outside the schedule; returns its refresh id. */
export async function enqueueUniverseRefresh(runtime: Runtime): Promise<string> {
  const refreshId = `v${Date.now()}`;
  const { name, data, opts } = buildJob('universe', runtime.config, {
    data: {},
    jobId: jobIds.manualUniverse(refreshId),
  });
  await runtime.queue('universe').add(name, data, opts);
  return refreshId;
}
