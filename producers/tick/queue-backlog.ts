import type { Runtime } from '../../core/runtime.js';

/** The states of a job that has not started yet: ready, ready by priority, or waiting out a backoff or rate limit. */
const NOT_STARTED = ['waiting', 'prioritized', 'delayed'] as const;

/**
 * Fetch and load jobs not started yet, as a tick is planned and before its own are added: the backlog
 * it finds, recorded on its ledger row for the operations view. Load jobs of a flow count only once
 * their fetch has finished (until then they wait for children). Counts of a queue are a few Redis
 * calls; a failure only loses the observation (undefined), never the tick.
 */
export async function queueBacklog(runtime: Runtime): Promise<{ fetch: number; load: number } | undefined> {
  try {
    const [fetch, load] = await Promise.all([
      runtime.queue('fetch').getJobCountByTypes(...NOT_STARTED),
      runtime.queue('load').getJobCountByTypes(...NOT_STARTED),
    ]);
    return { fetch, load };
  } catch {
    return undefined;
  }
}
