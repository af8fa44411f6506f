import type { Job } from 'bullmq';

/**
 * Run ids are derived from the job, never invented, so a retried job re-plans the same run.
 * Scheduled jobs use the scheduler's slot time (`t<slotMs>` for ticks, `u<slotMs>` for universe
 * refreshes); jobs added by hand carry the run id in their job id (`tick-m<ms>` → `m<ms>`).
 */
export function runIdentity(
  job: Pick<Job, 'id' | 'opts'>,
  scheduledPrefix: 't' | 'u',
): { runId: string; scheduledAt: Date | null } {
  const id = job.id ?? '';
  if (id.startsWith('repeat:')) {
    const slot = (job.opts as { prevMillis?: number }).prevMillis ?? Number(id.split(':').pop());
    return { runId: `${scheduledPrefix}${slot}`, scheduledAt: new Date(slot) };
  }
  const dash = id.indexOf('-');
  return { runId: dash > 0 ? id.slice(dash + 1) : `j${id.replace(/[^A-Za-z0-9_-]/g, '')}`, scheduledAt: null };
}
