import {
  DelayedError,
  MetricsTime,
  RateLimitError,
  UnrecoverableError,
  WaitingChildrenError,
  Worker,
  type Job,
  type Queue,
} from 'bullmq';
import type { Redis } from 'ioredis';
import pg from 'pg';
import type { AppConfig } from '../config/index.js';
import { classifyPostgresError, errorMessage, PermanentError, RateLimitedError, RetryableError } from '../errors.js';
import type { Logger } from '../log/logger.js';
import { jobDuration, jobsStalled, jobsTotal, rateLimitWaitSeconds } from '../metrics/registry.js';
import { BACKOFF_TYPE } from '../queues/job-options.js';
import { describeIssues, QUEUES, type PayloadOf, type QueueKey, type ResultOf } from '../queues/registry.js';
import { jitteredBackoff } from './backoff.js';

/** What a handler gets: the validated payload, a logger scoped to this job, and its abort signal. */
export interface JobContext<K extends QueueKey> {
  readonly job: Job<PayloadOf<K>, ResultOf<K>>;
  readonly data: PayloadOf<K>;
  readonly log: Logger;
  readonly signal: AbortSignal;
  readonly token: string | undefined;
}

export type Handler<K extends QueueKey> = (context: JobContext<K>) => Promise<ResultOf<K>>;

export interface WorkerDeps {
  readonly config: AppConfig;
  /** A worker-role connection (maxRetriesPerRequest: null); BullMQ duplicates it for blocking reads. */
  readonly redis: Redis;
  readonly logger: Logger;
}

export interface WorkerOptions<K extends QueueKey> {
  readonly concurrency: number;
  /** Jobs started per window across every process (BullMQ's Redis limiter). */
  readonly limiter?: { max: number; duration: number };
  /** Needed to pause the whole queue on RateLimitedError (429). */
  readonly rateLimitQueue?: Queue;
  /**
   * Called once when a job fails for good: a permanent error or its last attempt (before BullMQ
   * records it), or failed by BullMQ without running (too many starts or stalls; just after).
   */
  readonly onFinalFailure?: (context: JobContext<K>, reason: string) => Promise<void>;
  /** Upper bound on starts, counting 429 waits, so a 429 storm cannot loop a job forever. */
  readonly maxStartedAttempts?: number;
}

/**
 * Every handler runs through here: payload validation, a scoped logger (queue, job id, attempt N of
 * M, run), timing and metrics, and the mapping from our error classes to what BullMQ should do.
 */
export function startWorker<K extends QueueKey>(
  key: K,
  handler: Handler<K>,
  deps: WorkerDeps,
  options: WorkerOptions<K>,
): Worker {
  const queue = QUEUES[key].name;
  const { config } = deps;

  /** Job objects the processor ran for: their failures, final or not, were handled there. */
  const processed = new WeakSet<Job>();

  // Three declared parameters: BullMQ only passes the AbortSignal to processors with length >= 3.
  const processor = async (
    job: Job<PayloadOf<K>, ResultOf<K>>,
    token?: string,
    signal?: AbortSignal,
  ): Promise<ResultOf<K>> => {
    processed.add(job);
    const attempts = job.opts.attempts ?? 1;
    const parsed = QUEUES[key].payload.safeParse(job.data);
    const runId = parsed.success ? (parsed.data as { runId?: string }).runId : undefined;
    const log = deps.logger.child({ queue, jobId: job.id, attempt: `${job.attemptsMade + 1}/${attempts}`, runId });
    if (!parsed.success) {
      const reason = `invalid ${queue} payload: ${describeIssues(parsed.error)}`;
      log.error('job rejected', { reason });
      jobsTotal.inc({ queue, status: 'failed' });
      throw new UnrecoverableError(reason);
    }
    // Aborted only by closeWorker once SHUTDOWN_TIMEOUT has passed: say which job goes back, so an
    // operator reading a stopped container's log knows what another worker will pick up.
    signal?.addEventListener(
      'abort',
      () => log.warn('job handed back at shutdown: another worker re-runs it once its lock lapses'),
      { once: true },
    );
    const context: JobContext<K> = {
      job,
      data: parsed.data as PayloadOf<K>,
      log,
      signal: signal ?? new AbortController().signal,
      token,
    };
    const stopTimer = (status: string) => jobDuration.observe({ queue, status }, (performance.now() - started) / 1000);
    const started = performance.now();
    try {
      const result = await handler(context);
      stopTimer('completed');
      jobsTotal.inc({ queue, status: 'completed' });
      log.info('job completed', { durationMs: Math.round(performance.now() - started), result });
      return result;
    } catch (thrown) {
      let error = classifyUnclassified(thrown, queue);
      if (error instanceof DelayedError || error instanceof WaitingChildrenError) {
        jobsTotal.inc({ queue, status: 'delayed' });
        throw error;
      }
      if (error instanceof RateLimitedError && options.rateLimitQueue) {
        try {
          await options.rateLimitQueue.rateLimit(error.retryAfterMs);
        } catch (pauseError) {
          // The queue could not be paused (Redis refused or went away), so this start cannot be handed
          // back as "rate limited": it fails as an ordinary transient failure below, uses an attempt,
          // and on the last one goes through the same failure recording (ledger) as every other.
          error = new RetryableError(
            `${error.message}; pausing the queue for the 429 failed: ${errorMessage(pauseError)}`,
            { cause: pauseError },
          );
        }
        if (error instanceof RateLimitedError) {
          rateLimitWaitSeconds.inc(error.retryAfterMs / 1000);
          jobsTotal.inc({ queue, status: 'rate_limited' });
          stopTimer('rate_limited');
          log.warn('rate limited: pausing the queue for every worker', {
            waitMs: error.retryAfterMs,
            reason: error.message,
          });
          throw new RateLimitError();
        }
      }
      const reason = errorMessage(error);
      const permanent = error instanceof PermanentError || error instanceof UnrecoverableError;
      const final = permanent || job.attemptsMade + 1 >= attempts;
      stopTimer(final ? 'failed' : 'retried');
      jobsTotal.inc({ queue, status: final ? 'failed' : 'retried' });
      log[final ? 'error' : 'warn'](final ? 'job failed for good' : 'job failed, will retry', { reason, permanent });
      if (final && options.onFinalFailure) {
        await options
          .onFinalFailure(context, reason)
          .catch((hookError: unknown) =>
            log.error('recording the failure failed', { reason: errorMessage(hookError) }),
          );
      }
      if (error instanceof PermanentError) throw new UnrecoverableError(reason);
      throw error;
    }
  };

  const worker = new Worker<PayloadOf<K>, ResultOf<K>>(queue, processor, {
    connection: deps.redis,
    prefix: config.redis.prefix,
    concurrency: options.concurrency,
    limiter: options.limiter,
    lockDuration: config.jobs.lockDurationMs,
    stalledInterval: config.jobs.stalledIntervalMs,
    maxStalledCount: config.jobs.maxStalledCount,
    maxStartedAttempts: options.maxStartedAttempts,
    metrics: { maxDataPoints: MetricsTime.ONE_WEEK },
    settings: {
      backoffStrategy: (attemptsMade: number, type?: string, error?: Error) =>
        type === BACKOFF_TYPE
          ? jitteredBackoff(config.retry.baseDelayMs, config.retry.maxDelayMs)(attemptsMade, type, error)
          : 1000,
    },
  });
  // Zero the incident counters up front so their series exist (and alerts can compare) before the first incident.
  jobsStalled.inc({ queue }, 0);
  for (const status of ['completed', 'failed', 'retried'] as const) jobsTotal.inc({ queue, status }, 0);
  worker.on('error', (error) => deps.logger.error('worker error', { queue, reason: errorMessage(error) }));
  // BullMQ fails some jobs without calling the processor: started more than maxStartedAttempts
  // times (a 429 storm), or stalled more than maxStalledCount times. Those failures are final and
  // go through the same recording as the processor's own.
  worker.on('failed', (job, error) => {
    if (!job || processed.has(job) || !options.onFinalFailure) return;
    void recordFailureOutsideProcessor(job as Job<PayloadOf<K>, ResultOf<K>>, errorMessage(error)).catch(
      (hookError: unknown) =>
        deps.logger.error('recording the failure failed', { queue, jobId: job.id, reason: errorMessage(hookError) }),
    );
  });
  const recordFailureOutsideProcessor = async (job: Job<PayloadOf<K>, ResultOf<K>>, reason: string) => {
    // A parent failed because its child failed for good (failParentOnFailure): the child's own worker
    // recorded that failure, with the useful reason; "child … failed" would only overwrite it.
    if (/^child \S+ failed$/.test(reason)) return;
    const parsed = QUEUES[key].payload.safeParse(job.data);
    if (!parsed.success || (await job.getState()) !== 'failed') return;
    const log = deps.logger.child({ queue, jobId: job.id, runId: (parsed.data as { runId?: string }).runId });
    jobsTotal.inc({ queue, status: 'failed' });
    log.error('job failed for good', { reason, permanent: true });
    await options.onFinalFailure!(
      { job, data: parsed.data as PayloadOf<K>, log, signal: new AbortController().signal, token: undefined },
      reason,
    );
  };
  worker.on('stalled', (jobId) => {
    jobsStalled.inc({ queue });
    deps.logger.warn('job stalled: its worker stopped renewing the lock; returned to the queue', { queue, jobId });
  });
  return worker;
}

/**
 * Handlers classify the errors they expect; anything else is retried. One kind of Postgres error
 * that slips through unclassified (a ledger query outside a handler's try) must not be retried:
 * class 42 (42501 permission denied, 42P01 undefined table, 42703 undefined column…) fails the same
 * way every time, so it fails the job at once with Postgres's message as the reason instead of
 * burning every attempt. Other unclassified errors keep being retried, as before.
 */
export function classifyUnclassified(error: unknown, queue: string): unknown {
  if (error instanceof RetryableError || error instanceof PermanentError || error instanceof RateLimitedError)
    return error;
  return error instanceof pg.DatabaseError && error.code?.startsWith('42')
    ? classifyPostgresError(error, `${queue} job, Postgres`)
    : error;
}
