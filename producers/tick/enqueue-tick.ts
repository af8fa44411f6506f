import { jobOptions } from '../../core/queues/job-options.js';
import { jobIds, type PayloadOf } from '../../core/queues/registry.js';
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
  const data: PayloadOf<'tick'> = { trigger: options.trigger ?? 'manual', ...(options.coinIds ? { coinIds: [...options.coinIds] } : {}) };
  await runtime.queue('tick').add('tick', data, { ...jobOptions('tick', runtime.config), jobId: jobIds.manualTick(runId) });
  return runId;
}

/** Adds a universe refresh outside the schedule; returns its refresh id. */
export async function enqueueUniverseRefresh(runtime: Runtime): Promise<string> {
  const refreshId = `v${Date.now()}`;
  await runtime.queue('universe').add('refresh', {}, { ...jobOptions('universe', runtime.config), jobId: jobIds.manualUniverse(refreshId) });
  return refreshId;
}
