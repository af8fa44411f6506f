import type { DefaultJobOptions } from 'bullmq';
import type { AppConfig } from '../config/index.js';
import type { QueueKey } from './registry.js';

/** Name of the custom backoff (core/jobs/backoff.ts): exponential with jitter, honouring Retry-After. */
export const BACKOFF_TYPE = 'jittered';

/**
 * Default options of each queue's jobs, derived from configuration. Flows and job schedulers do not
 * inherit a Queue's defaults, so buildJob (build-job.ts) always passes these explicitly.
 */
export function jobOptions(key: QueueKey, config: AppConfig): DefaultJobOptions {
  const attempts: Record<QueueKey, number> = {
    tick: 3,
    universe: 3,
    fetch: config.fetch.attempts,
    load: config.load.attempts,
    transform: config.transform.attempts,
  };
  return {
    attempts: attempts[key],
    backoff: { type: BACKOFF_TYPE, delay: config.retry.baseDelayMs },
    removeOnComplete: { age: Math.ceil(config.jobs.keepCompletedMs / 1000), count: 5000 },
    removeOnFail: { age: Math.ceil(config.jobs.keepFailedMs / 1000), count: 20_000 },
  };
}

/** The events stream is trimmed to this; every Queue instance writes it, so all must agree. */
export const EVENTS_MAX_LEN = 2000;
