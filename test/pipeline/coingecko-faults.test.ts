import type { Job } from 'bullmq';
import { coingeckoRequests, schemaDrift } from '../../core/metrics/registry.js';
import { InProcessPipeline } from '../helpers/pipeline.js';
import { queueEvents, withActiveJobs } from '../helpers/queue-events.js';
import { deletePrefix, testPrefix } from '../helpers/redis.js';
import { allJobs, createScenario, refreshUniverse, runTick, type Scenario } from '../helpers/scenario.js';

/**
 * CoinGecko misbehaving, one fault at a time, through the real simulator: each is retried,
 * waited out, quarantined or failed for good exactly as documented in core/errors.ts.
 */
describe('CoinGecko faults', () => {
  let scenario: Scenario;
  let pipeline: InProcessPipeline;
  const fetchJobsOf = async (runId: string): Promise<Job[]> =>
    (await allJobs(pipeline.runtime, 'fetch')).filter((j) => j.id!.startsWith(`fetch-${runId}-`));

  beforeAll(async () => {
    // A short CoinGecko update step, so waiting for fresh last_updated values (nextStep) is quick.
    scenario = await createScenario({ coins: 1000, stepMs: 200 });
    pipeline = await new InProcessPipeline(
      scenario.config({
        TRACK_TOP_N: '1000',
        FETCH_ATTEMPTS: '3',
        COINGECKO_TIMEOUT: '400ms',
        COINGECKO_RATE_LIMIT_WAIT: '1s',
      }),
    ).start();
    await refreshUniverse(pipeline.runtime);
  });
  // Each test's tick must see a market step of its own: a tick can now finish within one step.
  beforeEach(() => scenario.nextStep());
  afterEach(() => scenario.simulator.control.reset());
  afterAll(async () => {
    await pipeline.stop();
    await scenario.teardown();
  });

  it('retries a burst of 5xx responses and still loads every batch', async () => {
    const served503 = async () =>
      (await coingeckoRequests.get()).values.find(
        (v) => v.labels.endpoint === '/coins/markets' && v.labels.status === '503',
      )?.value ?? 0;
    const before = await served503();
    scenario.simulator.control.setFaults({ failNext: [{ count: 3, kind: '503', path: '/coins/markets' }] });
    const { runId, run } = await runTick(pipeline.runtime, scenario.db);
    expect((await served503()) - before).toBe(3);
    expect(run).toMatchObject({ status: 'loaded', rows_loaded: 1000, batches_failed: 0 });
    expect(scenario.simulator.control.stats().byStatus['503']).toBe(3);
    const retries = (await fetchJobsOf(runId)).reduce((n, j) => n + j.attemptsMade - 1, 0);
    expect(retries).toBe(3);
  });

  it('retries requests that time out', async () => {
    scenario.simulator.control.setFaults({
      hangMs: 5000,
      failNext: [{ count: 2, kind: 'timeout', path: '/coins/markets' }],
    });
    const { run } = await runTick(pipeline.runtime, scenario.db);
    expect(run).toMatchObject({ status: 'loaded', rows_loaded: 1000, batches_failed: 0 });
  });

  it("retries a non-JSON body, then fails the batch with the body's first bytes in the reason", async () => {
    scenario.simulator.control.setFaults({ failNext: [{ count: 3, kind: 'html', path: '/coins/markets' }] });
    const ids = scenario.simulator.control.universeIds().slice(0, 100);
    const { runId, run, transform } = await runTick(pipeline.runtime, scenario.db, { coinIds: ids });
    const [fetch] = await fetchJobsOf(runId);
    expect(fetch!.attemptsMade).toBe(3);
    expect(fetch!.failedReason).toMatch(/body is not JSON \(HTTP 5\d\d|body is not JSON|HTTP 5\d\d/);
    expect(fetch!.failedReason).toMatch(/<!DOCTYPE html|<html/i);
    expect(run).toMatchObject({ status: 'failed', batches_planned: 1, batches_failed: 1, rows_loaded: 0 });
    const batch = (
      await scenario.db.pool.query('select status, error from pipeline.pipeline_batches where run_id = $1', [runId])
    ).rows[0];
    expect(batch.status).toBe('failed');
    expect(batch.error).toMatch(/<!DOCTYPE html|<html/i);
    // The tick's transform still ran (and knows which batch is missing).
    expect(transform.id).toBe(`transform-${runId}`);
  });

  it('quarantines invalid records with the reason and loads the rest of their batch', async () => {
    const [bad1, bad2] = scenario.simulator.control.universeIds().slice(5, 7);
    scenario.simulator.control.setFaults({ invalidCoinIds: [bad1!, bad2!] });
    const { runId, run } = await runTick(pipeline.runtime, scenario.db);
    expect(run).toMatchObject({ status: 'loaded', rows_loaded: 998, records_rejected: 2, batches_failed: 0 });
    const quarantined = await scenario.db.pool.query(
      "select coin_id, reason, record->>'current_price' as price from pipeline.quarantined_records where run_id = $1 order by coin_id",
      [runId],
    );
    expect(quarantined.rows).toEqual(
      [bad1, bad2].sort().map((coinId) => ({
        coin_id: coinId,
        reason: 'current_price: expected number or null, got string "n/a"',
        price: 'n/a',
      })),
    );
  });

  it('pauses every fetch on a 429 for as long as Retry-After says, without using an attempt', async () => {
    scenario.simulator.control.setFaults({
      failNext: [{ count: 1, kind: '429', retryAfterSec: 2, path: '/coins/markets' }],
    });
    const since = Date.now();
    const { runId, run } = await runTick(pipeline.runtime, scenario.db);
    expect(run).toMatchObject({ status: 'loaded', rows_loaded: 1000 });
    const log = scenario.simulator.control.requests(since).filter((r) => r.path.startsWith('/coins/markets'));
    const limited = log.find((r) => r.status === 429)!;
    const after = log.filter((r) => r.t > limited.t);

    // What the fetch queue did, in the order Redis applied it: the job that got the 429 set the pause,
    // then was handed back to wait. It set the pause after it started, so nothing started since may
    // start before that start plus Retry-After.
    const events = (await queueEvents(pipeline.runtime.redis, pipeline.runtime.queue('fetch'))).filter((e) =>
      e.jobId?.startsWith(`fetch-${runId}-`),
    );
    const handedBack = events.filter((e) => e.event === 'waiting' && e.prev === 'active');
    expect(handedBack).toHaveLength(1);
    const back = events.indexOf(handedBack[0]!);
    const limitedJob = handedBack[0]!.jobId!;
    const start = events.findLastIndex((e, i) => i < back && e.event === 'active' && e.jobId === limitedJob);
    const resumed = events.slice(back + 1).filter((e) => e.event === 'active');
    expect(resumed.map((e) => e.jobId)).toContain(limitedJob);
    expect(resumed.filter((e) => e.at - events[start]!.at < 1900)).toEqual([]);
    // Only jobs already active by then (the other fetch slots) may call CoinGecko during the pause,
    // one call each: calls started before the pause was set may land after the 429, no others.
    const replay = withActiveJobs(events).slice(start, back + 1);
    const racing = new Set(replay.flatMap(({ active }) => [...active]).filter((id) => id !== limitedJob));
    expect(racing.size).toBeLessThanOrEqual(3);
    expect(after.filter((r) => r.t - limited.t < 1900).length).toBeLessThanOrEqual(racing.size);
    // The limited job's own call again, after Retry-After.
    expect(after.some((r) => r.t - limited.t >= 1900)).toBe(true);
    expect((await fetchJobsOf(runId)).every((j) => j.attemptsMade === 1)).toBe(true);
  });

  it("fails a batch at once on a permanent 4xx, with CoinGecko's message", async () => {
    // A second pipeline of its own (own prefix) whose configured currency CoinGecko rejects.
    const prefix = testPrefix();
    const badCurrency = await new InProcessPipeline(
      scenario.config({ VS_CURRENCY: 'xyz', QUEUE_PREFIX: prefix }),
    ).start();
    const runtime = badCurrency.runtime;
    try {
      const { runId, run } = await runTick(runtime, scenario.db, { coinIds: ['bitcoin'] });
      const [fetch] = (await allJobs(runtime, 'fetch')).filter((j) => j.id!.startsWith(`fetch-${runId}-`));
      expect(fetch!.attemptsMade).toBe(1);
      expect(fetch!.failedReason).toBe('GET /coins/markets: HTTP 400: invalid vs_currency');
      expect(run).toMatchObject({ status: 'failed', batches_failed: 1 });
    } finally {
      await badCurrency.stop();
      await deletePrefix(prefix);
    }
  });

  it('retries a body cut off mid-JSON and loads the batch on the next attempt', async () => {
    scenario.simulator.control.setFaults({ failNext: [{ count: 2, kind: 'truncated', path: '/coins/markets' }] });
    const { runId, run } = await runTick(pipeline.runtime, scenario.db);
    expect(run).toMatchObject({ status: 'loaded', rows_loaded: 1000, batches_failed: 0 });
    expect((await fetchJobsOf(runId)).reduce((n, j) => n + j.attemptsMade - 1, 0)).toBe(2);
  });

  it('on schema drift, loads what still fits, quarantines type changes and counts new fields', async () => {
    const drift = async (field: string) =>
      (await schemaDrift.get()).values.find((v) => v.labels.field === field)?.value ?? 0;
    const before = await drift('market_cap_dominance');
    scenario.simulator.control.setFaults({
      stringifyFields: ['total_volume'],
      extraFields: { market_cap_dominance: 0.5 },
    });
    const { runId, run } = await runTick(pipeline.runtime, scenario.db);
    // A documented field that changed type: every record fails validation and is kept with the reason.
    expect(run).toMatchObject({ status: 'loaded', rows_loaded: 0, records_rejected: 1000 });
    const reasons = await scenario.db.pool.query('select reason from pipeline.quarantined_records where run_id = $1', [
      runId,
    ]);
    expect(reasons.rows).toHaveLength(1000);
    expect(
      reasons.rows.every((r) => /^total_volume: expected number or null, got string "\d+(\.\d+)?"$/.test(r.reason)),
    ).toBe(true);
    // An undocumented new field does not block loading; it is counted for the schema-drift alert.
    scenario.simulator.control.setFaults({ stringifyFields: [], extraFields: { market_cap_dominance: 0.5 } });
    const next = await runTick(pipeline.runtime, scenario.db);
    expect(next.run).toMatchObject({ status: 'loaded', rows_loaded: 1000, records_rejected: 0 });
    expect((await drift('market_cap_dominance')) - before).toBe(1000);
  });
});
