import { loadConfig } from '../../../core/config/index.js';
import { PermanentError } from '../../../core/errors.js';
import { buildJob } from '../../../core/queues/build-job.js';
import { BACKOFF_TYPE, jobOptions } from '../../../core/queues/job-options.js';
import { JOB_NAMES, jobIds, QUEUE_KEYS, type PayloadOf } from '../../../core/queues/registry.js';

const config = loadConfig({
  FETCH_ATTEMPTS: '4',
  LOAD_ATTEMPTS: '7',
  TRANSFORM_ATTEMPTS: '2',
  RETRY_BASE_DELAY: '250ms',
  JOB_KEEP_COMPLETED: '1h',
  JOB_KEEP_FAILED: '2d',
});
const RUN = 't1764230400000';
const fetchData: PayloadOf<'fetch'> = {
  runId: RUN,
  batchNo: 3,
  request: { endpoint: 'markets', vsCurrency: 'usd', ids: ['bitcoin', 'ethereum'] },
};

/** What buildJob throws for `data`, as a producer would see it. */
function refusal<K extends Parameters<typeof buildJob>[0]>(key: K, data: unknown, jobId?: string): Error {
  try {
    buildJob(key, config, { data: data as PayloadOf<K>, jobId });
  } catch (error) {
    return error as Error;
  }
  throw new Error(`expected buildJob('${key}') to refuse ${JSON.stringify(data)}`);
}

describe(buildJob.name, () => {
  it("applies the queue's default options from the configuration", () => {
    const { opts } = buildJob('fetch', config, { data: fetchData });
    expect(opts).toEqual({
      attempts: 4,
      backoff: { type: BACKOFF_TYPE, delay: 250 },
      removeOnComplete: { age: 3600, count: 5000 },
      removeOnFail: { age: 172_800, count: 20_000 },
    });
    for (const [key, attempts] of [
      ['load', 7],
      ['transform', 2],
      ['tick', 3],
      ['universe', 3],
    ] as const) {
      expect(
        buildJob(key, config, {
          data:
            key === 'tick'
              ? { trigger: 'manual' }
              : key === 'universe'
                ? {}
                : key === 'load'
                  ? { runId: RUN, batchNo: 0, vsCurrency: 'usd' }
                  : { runId: RUN },
        } as never).opts,
      ).toEqual({ ...jobOptions(key, config), attempts });
    }
  });

  it('sets the job id when given, and none when not (scheduler templates)', () => {
    expect(buildJob('fetch', config, { data: fetchData, jobId: jobIds.fetch(RUN, 3) }).opts.jobId).toBe(
      `fetch-${RUN}-3`,
    );
    expect(buildJob('fetch', config, { data: fetchData }).opts).not.toHaveProperty('jobId');
  });

  it('lets the given options win over the defaults, the job id kept', () => {
    const { opts } = buildJob('load', config, {
      data: { runId: RUN, batchNo: 0, vsCurrency: 'usd' },
      jobId: jobIds.load(RUN, 0),
      opts: { attempts: 1, backoff: { type: 'fixed', delay: 50 }, ignoreDependencyOnFailure: true },
    });
    expect(opts).toEqual({
      ...jobOptions('load', config),
      attempts: 1,
      backoff: { type: 'fixed', delay: 50 },
      jobId: `load-${RUN}-0`,
      ignoreDependencyOnFailure: true,
    });
  });

  it('names the queue and the job from the registry', () => {
    expect(buildJob('transform', config, { data: { runId: RUN } })).toMatchObject({
      queueName: 'transform',
      name: 'dbt-run',
    });
    expect(buildJob('load', config, { data: { runId: RUN, batchNo: 0, vsCurrency: 'usd' } })).toMatchObject({
      queueName: 'load',
      name: 'copy-batch',
    });
    expect(buildJob('tick', config, { data: { trigger: 'schedule' } })).toMatchObject({
      queueName: 'tick',
      name: 'tick',
    });
    expect(buildJob('universe', config, { data: {} })).toMatchObject({ queueName: 'universe', name: 'refresh' });
    expect(buildJob('fetch', config, { data: fetchData })).toMatchObject({ queueName: 'fetch', name: 'coins-markets' });
  });

  it('returns the parsed payload', () => {
    const { data } = buildJob('tick', config, { data: { trigger: 'backfill', coinIds: ['bitcoin'] } });
    expect(data).toEqual({ trigger: 'backfill', coinIds: ['bitcoin'] });
    // Unknown fields are dropped, as the worker's parse would drop them.
    expect(buildJob('transform', config, { data: { runId: RUN, extra: 1 } as PayloadOf<'transform'> }).data).toEqual({
      runId: RUN,
    });
  });

  it('refuses an invalid payload at the producer, naming the queue, the job and the field', () => {
    const error = refusal('fetch', { ...fetchData, request: { ...fetchData.request, ids: [] } }, jobIds.fetch(RUN, 3));
    expect(error).toBeInstanceOf(PermanentError);
    expect(error.message).toBe(
      `cannot add a fetch job (fetch-${RUN}-3): invalid payload: request.ids Too small: expected array to have >=1 items`,
    );
  });

  it('lists every bad field in one message', () => {
    const message = refusal('load', { runId: 'has spaces', batchNo: -1 }).message;
    expect(message).toMatch(/^cannot add a load job: invalid payload: /);
    expect(message).toContain('runId run ids look like t1764230400000');
    expect(message).toContain('batchNo Too small');
    expect(message).toContain('vsCurrency Invalid input');
  });

  it('refuses a payload that is not an object, at its root', () => {
    expect(refusal('transform', 'oops').message).toMatch(/^cannot add a transform job: invalid payload: \(root\) /);
  });
});

describe('JOB_NAMES', () => {
  it("names every queue's jobs", () => {
    expect(Object.keys(JOB_NAMES).sort()).toEqual([...QUEUE_KEYS].sort());
  });

  it.each<[PayloadOf<'fetch'>['request'], string]>([
    [{ endpoint: 'markets', vsCurrency: 'usd', ids: ['bitcoin'] }, 'coins-markets'],
    [{ endpoint: 'markets-page', vsCurrency: 'usd', page: 1, perPage: 250 }, 'markets-page'],
    [{ endpoint: 'coins-list' }, 'coins-list'],
  ])('names a fetch job for its call: %j is %j', (request, name) => {
    expect(JOB_NAMES.fetch({ runId: RUN, batchNo: 0, request })).toBe(name);
  });
});

describe('jobIds', () => {
  // Stored in Redis and shown by Bull Board: these are the schemes, byte for byte.
  it('builds each id scheme', () => {
    expect(jobIds.fetch(RUN, 0)).toBe('fetch-t1764230400000-0');
    expect(jobIds.load(RUN, 12)).toBe('load-t1764230400000-12');
    expect(jobIds.transform(RUN)).toBe('transform-t1764230400000');
    expect(jobIds.manualTick('m1764230400000')).toBe('tick-m1764230400000');
    expect(jobIds.manualUniverse('v1764230400000')).toBe('universe-v1764230400000');
  });
});
