import { randomBytes } from 'node:crypto';
import { buildJob } from '../../core/queues/build-job.js';
import { jobIds } from '../../core/queues/registry.js';
import type { Runtime } from '../../core/runtime.js';

/**
 * Adds a tick outside the schedule (ONCE=1 demo runs, backfills, tests). Returns its run id.
 * The run id is a letter, the time and a random suffix, free of ':' (BullMQ forbids it in ids). The
 * time alone is not unique: two ticks added in the same millisecond (one process looping, or several
 * `npm run tick` started at once) would share one job id, and BullMQ would silently keep only the first.
 */
export async function enqueueTick(
  runtime: Runtime,
  options: { trigger?: 'manual' | 'backfill'; coinIds?: readonly string[]; runId?: string } = {},
): Promise<string> {
  const runId = options.runId ?? `m${Date.now()}-${randomBytes(3).toString('hex')}`;
  const { name, data, opts } = buildJob('tick', runtime.config, {
    data: { trigger: options.trigger ?? 'manual', ...(options.coinIds ? { coinIds: [...options.coinIds] } : {}) },
    jobId: jobIds.manualTick(runId),
  });
  await runtime.queue('tick').add(name, data, opts);
  return runId;
}

/** Adds a universe refresh outside the schedule; returns its refresh id. */
export async function enqueueUniverseRefresh(runtime: Runtime): Promise<string> {
  const refreshId = `v${Date.now()}-${randomBytes(3).toString('hex')}`;
  const { name, data, opts } = buildJob('universe', runtime.config, {
    data: {},
    jobId: jobIds.manualUniverse(refreshId),
  });
  await runtime.queue('universe').add(name, data, opts);
  return refreshId;
}
