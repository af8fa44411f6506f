import type { JobsOptions } from 'bullmq';
import type { AppConfig } from '../config/index.js';
import { PermanentError } from '../errors.js';
import { jobOptions } from './job-options.js';
import { describeIssues, JOB_NAMES, QUEUES, type PayloadOf, type QueueKey } from './registry.js';

/** What a producer says about one job; everything else comes from the registry. */
export interface JobSpec<K extends QueueKey> {
  readonly data: PayloadOf<K>;
  /** From `jobIds` (registry.ts). Leave it out for scheduler templates and where BullMQ may pick one. */
  readonly jobId?: string;
  /** Options this job needs beyond its queue's defaults (flow dependencies, a parent); they win. */
  readonly opts?: Omit<JobsOptions, 'jobId'>;
}

/**
 * A job ready for `queue.add(name, data, opts)`, `addBulk`, a FlowProducer node (spread it and add
 * `children`) or an `upsertJobScheduler` template (`{ name, data, opts }`).
 */
export interface BuiltJob<K extends QueueKey> {
  readonly name: string;
  readonly queueName: string;
  readonly data: PayloadOf<K>;
  readonly opts: JobsOptions;
}

/**
 * Builds one job of queue `key` from the registry: its queue and job name, the queue's default options
 * (passed explicitly, since flows and schedulers do not inherit a Queue's defaults), then the given
 * options, and the payload parsed with the queue's schema. A producer bug fails here, at the producer,
 * with the queue and the field, instead of as a rejected job in a worker later.
 */
export function buildJob<K extends QueueKey>(key: K, config: AppConfig, spec: JobSpec<K>): BuiltJob<K> {
  const queueName = QUEUES[key].name;
  const parsed = QUEUES[key].payload.safeParse(spec.data);
  if (!parsed.success) {
    throw new PermanentError(
      `cannot add a ${queueName} job${spec.jobId === undefined ? '' : ` (${spec.jobId})`}: invalid payload: ${describeIssues(parsed.error)}`,
    );
  }
  const data = parsed.data as PayloadOf<K>;
  return {
    name: JOB_NAMES[key](data),
    queueName,
    data,
    opts: { ...jobOptions(key, config), ...(spec.jobId === undefined ? {} : { jobId: spec.jobId }), ...spec.opts },
  };
}
