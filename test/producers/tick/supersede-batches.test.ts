import { Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { markBatchFetched, recordPlannedRun } from '../../../core/pipeline/run-ledger.js';
import { jobIds, QUEUES } from '../../../core/queues/registry.js';
import type { Runtime } from '../../../core/runtime.js';
import { supersedeOlderBatches } from '../../../producers/tick/supersede-batches.js';
import { tickFlow } from '../../../producers/tick/tick-flow.js';
import { InProcessPipeline } from '../../helpers/pipeline.js';
import { createScenario, runRow, type Scenario } from '../../helpers/scenario.js';

/**
 * No fetch worker runs here: a bare BullMQ worker takes fetch jobs by hand, so each batch is exactly
 * in the state a case needs (waiting, active under a lock, completed with its load waiting).
 */
describe(supersedeOlderBatches.name, () => {
  let scenario: Scenario;
  let pipeline: InProcessPipeline;
  let taker: Worker;
  let takerConnection: Redis;
  let runtime: Runtime;
  let runs = 0;

  beforeAll(async () => {
    scenario = await createScenario({ coins: 10 });
    pipeline = new InProcessPipeline(scenario.config());
    runtime = pipeline.runtime;
    takerConnection = runtime.redis.duplicate();
    taker = new Worker(QUEUES.fetch.name, null, {
      connection: takerConnection,
      prefix: scenario.prefix,
      autorun: false,
      lockDuration: 60_000,
      // The fetch queue's jobs back off 'jittered' (core/jobs/run-job.ts); a minute keeps a retry delayed.
      settings: { backoffStrategy: () => 60_000 },
    });
  });
  afterAll(async () => {
    await taker.close();
    await takerConnection.quit();
    await pipeline.stop();
    await scenario.teardown();
  });

  /** A run planned and enqueued as a tick would be, one coin per batch. */
  async function plannedRun(coins: string[]): Promise<string> {
    const runId = `t${1764230400000 + runs++}`;
    const batches = coins.map((c) => [c]);
    await recordPlannedRun(runtime.pool, { runId, trigger: 'schedule', scheduledAt: null, batches });
    await runtime.flows.add(tickFlow(runtime.config, runId, batches));
    return runId;
  }
  /** Takes the next fetch job as a worker would: active, under its lock. */
  async function take(token: string): Promise<Job> {
    const job = await taker.getNextJob(token);
    if (!job) throw new Error('no fetch job to take');
    return job;
  }
  const state = async (key: 'fetch' | 'load' | 'transform', id: string) =>
    (await runtime.queue(key).getJob(id))?.getState() ?? 'gone';
  async function batches(runId: string) {
    const { rows } = await runtime.pool.query<{ status: string; superseded_by: string | null }>(
      'select status, superseded_by from pipeline.pipeline_batches where run_id = $1 order by batch_no',
      [runId],
    );
    return rows;
  }

  it('removes the unfetched batches of an older run, records them, and releases its transform', async () => {
    const older = await plannedRun(['bitcoin', 'ethereum']);
    const newer = await plannedRun(['bitcoin', 'ethereum']);
    expect(await supersedeOlderBatches(runtime, newer, ['bitcoin', 'ethereum'])).toEqual([
      { runId: older, batchNo: 0 },
      { runId: older, batchNo: 1 },
    ]);
    expect(await batches(older)).toEqual([
      { status: 'superseded', superseded_by: newer },
      { status: 'superseded', superseded_by: newer },
    ]);
    expect(await runRow(scenario.db, older)).toMatchObject({ status: 'superseded', batches_superseded: 2 });
    expect(await state('fetch', jobIds.fetch(older, 0))).toBe('gone');
    expect(await state('load', jobIds.load(older, 1))).toBe('gone');
    // Nothing left to wait for: the older run's transform runs (and finds the newer one to coalesce into).
    expect(await state('transform', jobIds.transform(older))).toBe('waiting');
    // The newer run is untouched.
    expect(await state('fetch', jobIds.fetch(newer, 0))).toBe('waiting');
    expect(await batches(newer)).toEqual([
      { status: 'planned', superseded_by: null },
      { status: 'planned', superseded_by: null },
    ]);
    await runtime.queue('fetch').drain();
  });

  it('leaves a fetch in flight and a fetched batch (its load waiting) in the queue and in the ledger', async () => {
    await runtime.queue('fetch').drain();
    const older = await plannedRun(['bitcoin', 'ethereum', 'tether']);
    const inFlight = await take('in-flight');
    const fetched = await take('fetched');
    await markBatchFetched(runtime.pool, older, fetched.data.batchNo, 1);
    await fetched.moveToCompleted(
      { payloadKey: 'parked', records: 1, bytes: 2, httpStatus: 200, durationMs: 1 },
      'fetched',
      false,
    );
    const newer = await plannedRun(['bitcoin', 'ethereum', 'tether']);

    const superseded = await supersedeOlderBatches(runtime, newer, ['bitcoin', 'ethereum', 'tether']);
    const untouched = [inFlight.data.batchNo, fetched.data.batchNo];
    const waitingBatch = [0, 1, 2].find((n) => !untouched.includes(n))!;
    expect(superseded).toEqual([{ runId: older, batchNo: waitingBatch }]);
    expect(await state('fetch', jobIds.fetch(older, inFlight.data.batchNo))).toBe('active');
    expect(await state('load', jobIds.load(older, inFlight.data.batchNo))).toBe('waiting-children');
    expect(await state('load', jobIds.load(older, fetched.data.batchNo))).toBe('waiting');
    const statuses = (await batches(older)).map((b) => b.status);
    expect(statuses[inFlight.data.batchNo]).toBe('planned');
    expect(statuses[fetched.data.batchNo]).toBe('fetched');
    expect(statuses[waitingBatch]).toBe('superseded');
    expect(await runRow(scenario.db, older)).toMatchObject({ status: 'running', batches_superseded: 1 });
    await runtime.queue('fetch').drain();
  });

  it('leaves a fetch that failed an attempt to its retries, so an outage ends in failed batches with their reason', async () => {
    await runtime.queue('fetch').drain();
    const older = await plannedRun(['bitcoin']);
    const failing = await take('failing');
    await failing.moveToFailed(new Error('GET /coins/markets: HTTP 503'), 'failing', false);
    expect(await state('fetch', jobIds.fetch(older, 0))).toBe('delayed');
    const newer = await plannedRun(['bitcoin']);
    expect(await supersedeOlderBatches(runtime, newer, ['bitcoin'])).toEqual([]);
    expect((await batches(older)).map((b) => b.status)).toEqual(['planned']);
    await runtime.queue('fetch').drain(true);
  });

  it("supersedes only batches whose coins the newer tick fetches, and never a newer run's", async () => {
    await runtime.queue('fetch').drain();
    const older = await plannedRun(['bitcoin', 'dogecoin']);
    const newer = await plannedRun(['bitcoin']);
    expect(await supersedeOlderBatches(runtime, newer, ['bitcoin'])).toEqual([{ runId: older, batchNo: 0 }]);
    // Planned again later (a retried older tick), the older run supersedes nothing of the newer one.
    expect(await supersedeOlderBatches(runtime, older, ['bitcoin', 'dogecoin'])).toEqual([]);
    expect((await batches(older)).map((b) => b.status)).toEqual(['superseded', 'planned']);
    await runtime.queue('fetch').drain();
  });

  it('records a batch whose jobs a planner removed before it died, but not one whose whole flow vanished', async () => {
    await runtime.queue('fetch').drain();
    const interrupted = await plannedRun(['bitcoin']);
    const vanished = await plannedRun(['ethereum']);
    await (await runtime.queue('load').getJob(jobIds.load(interrupted, 0)))!.remove({ removeChildren: true });
    await (await runtime.queue('transform').getJob(jobIds.transform(vanished)))!.remove({ removeChildren: true });
    const newer = await plannedRun(['bitcoin', 'ethereum']);
    expect(await supersedeOlderBatches(runtime, newer, ['bitcoin', 'ethereum'])).toEqual([
      { runId: interrupted, batchNo: 0 },
    ]);
    // The scheduler's watchdog marks the vanished run lost (producers/scheduler/lost-runs.ts).
    expect((await batches(vanished)).map((b) => b.status)).toEqual(['planned']);
  });
});
