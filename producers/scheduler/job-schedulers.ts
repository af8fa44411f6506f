import { errorMessage } from '../../core/errors.js';
import { buildJob } from '../../core/queues/build-job.js';
import { SCHEDULERS } from '../../core/queues/registry.js';
import type { Runtime } from '../../core/runtime.js';
import { watchCoverage } from './coverage-watch.js';
import { markLostRuns, resolveVanishedTransforms } from './lost-runs.js';

/**
 * The tick and universe job schedulers. Concurrent upserts from many replicas have had race bugs in
 * BullMQ, so replicas take a short Redis lock first; a watchdog re-creates a scheduler that has
 * disappeared (e.g. Redis lost its data) or stopped advancing.
 */
export async function upsertJobSchedulers(runtime: Runtime): Promise<boolean> {
  const { config, redis } = runtime;
  const lockKey = `${config.redis.prefix}:scheduler:upsert-lock`;
  const locked = await redis.set(lockKey, String(process.pid), 'PX', 10_000, 'NX');
  if (locked !== 'OK') return false;
  try {
    // Templates carry no job id: each scheduled job gets its own (repeat:<scheduler>:<slot>).
    const tick = buildJob('tick', config, { data: { trigger: 'schedule' } });
    await runtime
      .queue('tick')
      .upsertJobScheduler(
        SCHEDULERS.tick,
        { every: config.tick.intervalMs },
        { name: tick.name, data: tick.data, opts: tick.opts },
      );
    const universe = buildJob('universe', config, { data: {} });
    await runtime
      .queue('universe')
      .upsertJobScheduler(
        SCHEDULERS.universe,
        { every: config.universe.refreshIntervalMs },
        { name: universe.name, data: universe.data, opts: universe.opts },
      );
    return true;
  } finally {
    await redis.del(lockKey);
  }
}

export interface WatchdogFinding {
  readonly scheduler: string;
  readonly problem: 'missing' | 'behind';
}

/** Checks both schedulers; returns what was wrong (and has been repaired). */
export async function checkJobSchedulers(runtime: Runtime, now = Date.now()): Promise<WatchdogFinding[]> {
  const { config } = runtime;
  const findings: WatchdogFinding[] = [];
  const checks = [
    { key: 'tick' as const, id: SCHEDULERS.tick, every: config.tick.intervalMs },
    { key: 'universe' as const, id: SCHEDULERS.universe, every: config.universe.refreshIntervalMs },
  ];
  for (const { key, id, every } of checks) {
    const scheduler = await runtime.queue(key).getJobScheduler(id);
    if (!scheduler) findings.push({ scheduler: id, problem: 'missing' });
    else if (scheduler.next !== undefined && scheduler.next < now - 2 * every)
      findings.push({ scheduler: id, problem: 'behind' });
  }
  if (findings.length > 0) await upsertJobSchedulers(runtime);
  return findings;
}

/** How old an unfinished run must be before a missing flow means it was lost, not still being planned. */
export function lostRunAgeMs(runtime: Runtime): number {
  return Math.max(60_000, 2 * runtime.config.tick.intervalMs + runtime.config.jobs.lockDurationMs);
}

export function startSchedulerWatchdog(runtime: Runtime, intervalMs: number): () => void {
  let coverageBusy = false;
  const timer = setInterval(() => {
    checkJobSchedulers(runtime).then(
      (findings) => {
        for (const finding of findings) runtime.logger.warn('job scheduler repaired', { ...finding });
      },
      (error: unknown) =>
        runtime.logger.warn('scheduler watchdog could not check (Redis down?)', { reason: errorMessage(error) }),
    );
    const olderThanMs = lostRunAgeMs(runtime);
    markLostRuns(runtime, olderThanMs)
      .then(async (lost) => {
        if (lost.length > 0) runtime.logger.warn('runs lost with Redis data marked in the run table', { lost });
        const { covered, lost: transformsLost } = await resolveVanishedTransforms(runtime, olderThanMs);
        if (covered.length > 0)
          runtime.logger.info('runs whose transform job vanished were covered by a later transform', { covered });
        if (transformsLost.length > 0)
          runtime.logger.warn('runs whose transform job vanished were never transformed', { lost: transformsLost });
      })
      .catch((error: unknown) => runtime.logger.warn('could not check for lost runs', { reason: errorMessage(error) }));
    // One pass at a time: re-adding a large run's jobs can outlast the interval (each step is idempotent anyway).
    if (coverageBusy) return;
    coverageBusy = true;
    watchCoverage(runtime)
      .catch((error: unknown) =>
        runtime.logger.warn('could not check coverage gaps and history runs', { reason: errorMessage(error) }),
      )
      .finally(() => (coverageBusy = false));
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
