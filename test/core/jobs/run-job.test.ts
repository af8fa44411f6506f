import { Queue, type Job } from 'bullmq';
import pg from 'pg';
import { PermanentError, RateLimitedError, RetryableError } from '../../../core/errors.js';
import { closeWorker } from '../../../core/jobs/close-worker.js';
import { classifyUnclassified, startWorker } from '../../../core/jobs/run-job.js';
import { rootLogger } from '../../../core/log/logger.js';
import { buildJob } from '../../../core/queues/build-job.js';
import { Runtime } from '../../../core/runtime.js';
import { testConfig } from '../../helpers/config.js';
import { TEST_REDIS_URL } from '../../helpers/env.js';
import { deletePrefix, testPrefix } from '../../helpers/redis.js';
import { waitFor } from '../../helpers/wait-for.js';

function serverError(code: string, message: string): pg.DatabaseError {
  const error = new pg.DatabaseError(message, message.length, 'error');
  error.code = code;
  return error;
}

describe(classifyUnclassified.name, () => {
  it('fails a raw Postgres permission error for good, naming the table and the SQLSTATE', () => {
    const classified = classifyUnclassified(
      serverError('42501', 'permission denied for table pipeline_batches'),
      'load',
    );
    expect(classified).toBeInstanceOf(PermanentError);
    expect((classified as Error).message).toBe(
      'load job, Postgres: permission denied for table pipeline_batches (42501)',
    );
  });

  it('fails an undefined table or column for good too (class 42 never clears)', () => {
    expect(
      classifyUnclassified(serverError('42P01', 'relation "pipeline.gone" does not exist'), 'tick'),
    ).toBeInstanceOf(PermanentError);
    expect(classifyUnclassified(serverError('42703', 'column "gone" does not exist'), 'tick')).toBeInstanceOf(
      PermanentError,
    );
  });

  it('leaves other raw Postgres errors to the default (retried), untouched', () => {
    for (const code of ['57P01', '53100', '40P01', '23505']) {
      const error = serverError(code, `server said ${code}`);
      expect(classifyUnclassified(error, 'load')).toBe(error);
    }
  });

  it('leaves errors already classified, and non-Postgres errors, as they are', () => {
    const ours = [new PermanentError('no'), new RetryableError('later'), new RateLimitedError('429', 1000)];
    for (const error of ours) expect(classifyUnclassified(error, 'fetch')).toBe(error);
    const plain = Object.assign(new Error('socket'), { code: 'ECONNRESET' });
    expect(classifyUnclassified(plain, 'fetch')).toBe(plain);
  });
});

/**
 * CoinGecko answered 429 and the queue cannot be paused: Redis refuses the rateLimit call. The job
 * must not vanish past the failure recording (the hook that marks its batch failed in the ledger):
 * it fails as a transient failure, using an attempt, and its final failure is recorded once.
 * Real Redis throughout; the refusing queue is a real Queue whose connection was closed, which is
 * what ioredis does for every command once a connection is gone ("Connection is closed.").
 */
describe('startWorker when pausing the queue after a 429 fails', () => {
  const prefix = testPrefix();
  let runtime: Runtime;
  let refusing: Queue;

  beforeAll(async () => {
    // No database is used: the hook below records failures in memory.
    runtime = new Runtime(
      testConfig({ databaseUrl: 'postgres://127.0.0.1:5432/unused', prefix, coingeckoUrl: 'http://127.0.0.1:9' }),
      rootLogger,
      'test',
    );
    refusing = new Queue('load', { connection: { url: TEST_REDIS_URL }, prefix });
    await refusing.waitUntilReady();
    await refusing.close();
  });
  afterAll(async () => {
    await runtime.close();
    await deletePrefix(prefix);
  });

  async function runUntilFailed(
    attempts: number,
    rateLimitQueue: Queue = refusing,
    maxStartedAttempts?: number,
  ): Promise<{
    job: Job;
    recorded: { jobId: string | undefined; attempt: number; reason: string }[];
    handled: number;
  }> {
    const recorded: { jobId: string | undefined; attempt: number; reason: string }[] = [];
    let handled = 0;
    const worker = startWorker(
      'load',
      async () => {
        handled++;
        throw new RateLimitedError('GET /coins/markets: HTTP 429', 100);
      },
      runtime,
      {
        concurrency: 1,
        // queue.rateLimit() only pauses workers that have a limiter.
        limiter: { max: 1000, duration: 1000 },
        rateLimitQueue,
        maxStartedAttempts,
        onFinalFailure: async ({ job }, reason) => {
          recorded.push({ jobId: job.id, attempt: job.attemptsMade + 1, reason });
        },
      },
    );
    try {
      const queue = runtime.queue('load');
      const { name, data, opts } = buildJob('load', runtime.config, {
        data: { runId: `r${attempts}-${maxStartedAttempts}`, batchNo: 0, vsCurrency: 'usd' },
        opts: { attempts, backoff: { type: 'fixed', delay: 50 } },
      });
      const added = await queue.add(name, data, opts);
      const job = await waitFor(
        'the job to fail for good',
        async () => {
          const now = await queue.getJob(added.id!);
          return now && (await now.getState()) === 'failed' ? now : undefined;
        },
        15_000,
      );
      return { job, recorded, handled };
    } finally {
      await closeWorker(worker, 5_000);
    }
  }

  const REASON = 'GET /coins/markets: HTTP 429; pausing the queue for the 429 failed: Connection is closed.';

  it('records the final failure (ledger hook) with both causes in the reason', async () => {
    const { job, recorded, handled } = await runUntilFailed(1);
    expect(handled).toBe(1);
    expect(recorded).toEqual([{ jobId: job.id, attempt: 1, reason: REASON }]);
    expect(job.failedReason).toBe(REASON);
  });

  it('retries it as a transient failure first, and records only the last attempt', async () => {
    const { job, recorded, handled } = await runUntilFailed(3);
    expect(handled).toBe(3);
    expect(job.attemptsMade).toBe(3);
    expect(recorded).toEqual([{ jobId: job.id, attempt: 3, reason: REASON }]);
  });

  it('records a job BullMQ fails without running it (started more often than maxStartedAttempts)', async () => {
    // The queue pauses fine here: each 429 hands the job back unused, and the second start is refused.
    const { job, recorded, handled } = await runUntilFailed(3, runtime.queue('load') as unknown as Queue, 1);
    expect(handled).toBe(1);
    expect(job.failedReason).toBe('job started more than allowable limit');
    await waitFor('the failure to be recorded', async () => recorded.length > 0, 5_000);
    expect(recorded).toEqual([
      expect.objectContaining({ jobId: job.id, reason: 'job started more than allowable limit' }),
    ]);
  });
});
