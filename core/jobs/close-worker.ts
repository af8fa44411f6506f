import type { Worker } from 'bullmq';

/**
 * Lets active jobs finish for up to `timeoutMs`, then hands the rest back: they stay active, their
 * locks lapse and another worker re-runs them (handlers are idempotent).
 */
export async function closeWorker(worker: Worker, timeoutMs: number): Promise<'graceful' | 'forced'> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'forced'>((resolve) => {
    timer = setTimeout(() => resolve('forced'), timeoutMs);
  });
  const outcome = await Promise.race([worker.close().then(() => 'graceful' as const), timedOut]);
  clearTimeout(timer);
  if (outcome === 'forced') {
    worker.cancelAllJobs('shutdown');
    await worker.close(true);
  }
  return outcome;
}
