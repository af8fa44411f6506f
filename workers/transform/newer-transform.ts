import type { Job, Queue } from 'bullmq';

/**
 * The other transform jobs ready to run right now. The transform queue runs one job at a time, so
 * ticks finishing during a run queue up here, and their rows are already committed (a transform job
 * becomes ready only after its tick's loads settled).
 */
export async function readyTransforms(queue: Queue, job: Job): Promise<{ newest: Job | undefined; others: Job[] }> {
  const ready = (await queue.getJobs(['waiting', 'prioritized'], 0, 500)).filter(
    (other) => other && other.id !== job.id,
  );
  // Newer = added later (the flow's root is added when its tick is planned).
  const newest = ready.filter((other) => other.timestamp > job.timestamp).sort((a, b) => b.timestamp - a.timestamp)[0];
  return { newest, others: ready };
}
