import { vanishedTransforms } from '../../core/metrics/registry.js';
import { jobIds } from '../../core/queues/registry.js';
import { resolveVanishedTransforms } from '../../producers/scheduler/lost-runs.js';
import type { TransformRunner } from '../../workers/transform/engine/runner-types.js';
import { InProcessPipeline } from '../helpers/pipeline.js';
import { PrivateRedis } from '../helpers/private-redis.js';
import { createScenario, runRow, runTick, type Scenario } from '../helpers/scenario.js';
import { waitFor } from '../helpers/wait-for.js';
import { enqueueTick } from '../../producers/tick/enqueue-tick.js';

/** A dbt stand-in that builds nothing and succeeds: the transform worker still records its run and load barrier. */
const succeedingRunner = (): TransformRunner => ({
  name: 'bundled',
  run: async () => ({ runner: 'bundled', status: 'success', nodes: [], detail: 'stand-in: nothing built' }),
});

/**
 * Issue 18 §4: a run whose transform job vanished with Redis' data does not stay 'queued' for ever.
 * The watchdog gives it a final status: 'covered' once a later successful transform run has read
 * every row it loaded, 'lost' when none has.
 */
describe('transform status of runs whose transform job vanished with Redis', () => {
  let scenario: Scenario;
  let redis: PrivateRedis;
  let pipeline: InProcessPipeline;
  let transform: InProcessPipeline | undefined;

  beforeAll(async () => {
    scenario = await createScenario({ coins: 200, stepMs: 500 });
    redis = await PrivateRedis.start({ appendonly: false });
    // No transform worker yet: each tick loads, and its transform job waits in Redis ('queued').
    pipeline = await new InProcessPipeline(
      scenario.config({
        REDIS_URL: redis.url,
        COIN_IDS: scenario.simulator.control.universeIds().slice(0, 100).join(','),
        COINGECKO_MAX_IDS_PER_CALL: '50',
      }),
    ).start(['planner', 'fetch', 'load']);
  });
  afterAll(async () => {
    await transform?.stop();
    await pipeline.stop();
    await redis.stop();
    await scenario.teardown();
  });

  /** Enqueues a tick and waits until it is loaded and its transform job waits in Redis. */
  const loadedAwaitingTransform = async (): Promise<string> => {
    await scenario.nextStep();
    const runId = await enqueueTick(pipeline.runtime);
    await waitFor(`run ${runId} loaded`, async () => (await runRow(scenario.db, runId))?.status === 'loaded', 30_000);
    await waitFor(
      `transform job of ${runId} waiting`,
      async () =>
        (await pipeline.runtime.queue('transform').getJob(jobIds.transform(runId)))
          ?.getState()
          .then((s) => s === 'waiting'),
      10_000,
    );
    expect(await runRow(scenario.db, runId)).toMatchObject({ transform_status: 'queued' });
    return runId;
  };
  const wipe = async () => {
    await redis.wipe();
    await redis.up();
  };
  const counted = async (outcome: 'covered' | 'lost') =>
    (await vanishedTransforms.get()).values.find((v) => v.labels.outcome === outcome)?.value ?? 0;

  it("marks 'lost' a run no successful transform has read, and 'covered' one a later transform read past", async () => {
    const [lostBefore, coveredBefore] = [await counted('lost'), await counted('covered')];

    // Phase 1: a loaded tick, Redis wiped before any transform ran: nothing has read its rows.
    const unread = await loadedAwaitingTransform();
    await wipe();
    expect(await resolveVanishedTransforms(pipeline.runtime, 0)).toEqual({ covered: [], lost: [unread] });
    expect(await runRow(scenario.db, unread)).toMatchObject({
      status: 'loaded',
      transform_status: 'lost',
      transform_note: expect.stringMatching(
        /vanished from Redis while queued; no successful transform run had read its rows/,
      ),
    });
    expect((await runRow(scenario.db, unread))!.transform_finished_at).toBeInstanceOf(Date);

    // Phase 2: another loaded tick whose transform job vanishes; then a later tick transforms.
    const overtaken = await loadedAwaitingTransform();
    await wipe();
    transform = await new InProcessPipeline(scenario.config({ REDIS_URL: redis.url })).start(
      ['transform'],
      succeedingRunner,
    );
    await scenario.nextStep();
    const later = await runTick(pipeline.runtime, scenario.db, {}, 60_000);
    expect(later.run).toMatchObject({ status: 'loaded', transform_status: 'succeeded' });

    expect(await resolveVanishedTransforms(pipeline.runtime, 0)).toEqual({ covered: [overtaken], lost: [] });
    expect(await runRow(scenario.db, overtaken)).toMatchObject({
      status: 'loaded',
      transform_status: 'covered',
      transform_note: expect.stringMatching(
        /vanished from Redis while queued; a later successful transform run read every row it loaded/,
      ),
    });
    // A final status stays final: the run found 'lost' is not a candidate any more.
    expect(await runRow(scenario.db, unread)).toMatchObject({ transform_status: 'lost' });
    expect(await resolveVanishedTransforms(pipeline.runtime, 0)).toEqual({ covered: [], lost: [] });

    expect([(await counted('lost')) - lostBefore, (await counted('covered')) - coveredBefore]).toEqual([1, 1]);
  });
});
