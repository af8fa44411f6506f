import pg from 'pg';
import type { Runtime } from '../../core/runtime.js';
import { enqueueTick } from '../../producers/tick/enqueue-tick.js';
import { testEnv } from '../helpers/config.js';
import { InProcessPipeline, type WorkerKind } from '../helpers/pipeline.js';
import { PipelineProcess } from '../helpers/processes.js';
import { queueEvents } from '../helpers/queue-events.js';
import {
  createScenario,
  refreshUniverse,
  tickWithFetchesInFlight,
  runRow,
  waitForTick,
  type Scenario,
} from '../helpers/scenario.js';
import { waitFor } from '../helpers/wait-for.js';

/** Issue 18: a SIGKILLed worker's job runs again within this long, with the default lock settings. */
const RECOVERY_BOUND_MS = 15_000;
const COINS = 1000;
/** Enough concurrency for the victim to hold every job of the tick (batches of at most 250 coins). */
const VICTIM_CONCURRENCY = '8';

/** Redis' clock (ms): the events stream's entry ids are stamped by it, so kill and re-activation share one clock. */
async function redisNow(runtime: Runtime): Promise<number> {
  const [seconds, micros] = await runtime.redis.time();
  return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
}

/**
 * A worker process SIGKILLed while its jobs are active, run with the DEFAULT JOB_LOCK_DURATION and
 * JOB_STALLED_INTERVAL (the other tests shorten them): each job it held becomes active again on a
 * fresh process within 15 s of the kill (the 'active' event on the queue's event stream, stamped by
 * Redis), and the tick completes with every coin loaded once.
 */
describe("a SIGKILLed worker's jobs with the default lock settings", () => {
  let scenario: Scenario;
  let inProcess: InProcessPipeline | undefined;
  const processes: PipelineProcess[] = [];
  const spawnWorker = (kind: 'fetch' | 'load', extra: Record<string, string> = {}) => {
    const env = testEnv({
      databaseUrl: scenario.db.url,
      prefix: scenario.prefix,
      coingeckoUrl: scenario.simulator.url,
    });
    delete env.JOB_LOCK_DURATION;
    delete env.JOB_STALLED_INTERVAL;
    const child = new PipelineProcess(kind, { ...env, LOG_LEVEL: 'info', TRACK_TOP_N: String(COINS), ...extra });
    processes.push(child);
    return child;
  };
  const start = async (kinds: WorkerKind[]) => {
    inProcess = await new InProcessPipeline(scenario.config({ TRACK_TOP_N: String(COINS) })).start(kinds);
    return inProcess;
  };
  const exactlyOnce = async (runId: string) =>
    (
      await scenario.db.pool.query(
        'select count(*)::int as n, count(distinct coin_id)::int as coins from raw.coin_market_snapshots where run_id = $1',
        [runId],
      )
    ).rows[0];

  /**
   * Once `victim` holds every job of its queue (none waiting), starts a fresh worker of the same kind
   * and waits until it is up, then SIGKILLs the victim: every job it held must be active again (an
   * 'active' event after the kill) within the bound. The replacement is up before the kill, as a
   * replica or a restarted pod would be: its boot time, seconds on a busy machine, is not lock
   * recovery. The fresh worker finds the queue empty, so it cannot take any of the victim's jobs.
   */
  const killAndMeasure = async (
    runtime: Runtime,
    runId: string,
    kind: 'fetch' | 'load',
    victim: PipelineProcess,
    afterKill: () => Promise<void>,
  ) => {
    const queue = runtime.queue(kind);
    const batches = Number((await runRow(scenario.db, runId))!.batches_planned);
    await waitFor(
      `every ${kind} job held by the victim`,
      async () => {
        const counts = await queue.getJobCounts('active', 'waiting', 'prioritized', 'delayed');
        return counts.active === batches && counts.waiting === 0 && counts.prioritized === 0 && counts.delayed === 0;
      },
      30_000,
    );
    const fresh = spawnWorker(kind);
    await fresh.waitForLog(`${kind} worker started`);
    const held = (await queue.getJobs(['active'])).map((job) => job.id!);
    expect(held).toHaveLength(batches);

    const killedAt = await redisNow(runtime);
    await victim.kill('SIGKILL');
    await afterKill();
    const reactivated = await waitFor(
      `${held.length} ${kind} job(s) active again`,
      async () => {
        const events = (await queueEvents(runtime.redis, queue)).filter(
          (e) => e.event === 'active' && e.at >= killedAt,
        );
        const firstActive = new Map<string, number>();
        for (const e of events) if (e.jobId && !firstActive.has(e.jobId)) firstActive.set(e.jobId, e.at);
        return held.every((id) => firstActive.has(id))
          ? held.map((id) => ({ id, afterKillMs: firstActive.get(id)! - killedAt }))
          : undefined;
      },
      60_000,
      100,
    );
    for (const { id, afterKillMs } of reactivated) {
      expect({ id, withinBound: afterKillMs <= RECOVERY_BOUND_MS, afterKillMs }).toEqual({
        id,
        withinBound: true,
        afterKillMs,
      });
    }
    // The re-run went through BullMQ's stalled-job recovery (not a retry after a failure).
    for (const id of held) expect((await queue.getJob(id))?.stalledCounter).toBeGreaterThanOrEqual(1);
  };

  beforeAll(async () => {
    scenario = await createScenario({ coins: COINS, stepMs: 500 });
  });
  afterEach(async () => {
    scenario.simulator.control.setFaults({ latencyMs: 0 });
    await Promise.all(processes.splice(0).map((p) => p.kill('SIGKILL')));
    await inProcess?.stop();
    inProcess = undefined;
  });
  afterAll(() => scenario.teardown());

  it('a fetch worker killed while CoinGecko holds its calls', async () => {
    const pipeline = await start(['planner', 'load', 'transform']);
    // Calls held for 30 s and a client that waits that long: the victim's jobs stay in flight.
    const first = spawnWorker('fetch', { FETCH_CONCURRENCY: VICTIM_CONCURRENCY, COINGECKO_TIMEOUT: '60s' });
    await first.waitForLog('fetch worker started');
    await refreshUniverse(pipeline.runtime);

    // CoinGecko holds every call, so the worker's jobs are certainly in flight when it dies.
    const runId = await tickWithFetchesInFlight(scenario, pipeline.runtime, 30_000);

    await killAndMeasure(pipeline.runtime, runId, 'fetch', first, async () => {
      scenario.simulator.control.setFaults({ latencyMs: 0 });
    });

    const { run } = await waitForTick(pipeline.runtime, scenario.db, runId, 60_000);
    expect(run).toMatchObject({ status: 'loaded', batches_failed: 0, rows_loaded: COINS });
    expect(await exactlyOnce(runId)).toEqual({ n: COINS, coins: COINS });
  });

  it('a load worker killed while its transaction waits on the raw table', async () => {
    const pipeline = await start(['planner', 'fetch', 'transform']);
    const first = spawnWorker('load', { LOAD_CONCURRENCY: VICTIM_CONCURRENCY });
    await first.waitForLog('load worker started');
    await refreshUniverse(pipeline.runtime);

    // A lock that blocks INSERTs into the raw table holds the load worker's transaction midway.
    const blocker = new pg.Client({ connectionString: scenario.db.url });
    await blocker.connect();
    try {
      await blocker.query('begin');
      await blocker.query('lock table raw.coin_market_snapshots in share row exclusive mode');
      const runId = await enqueueTick(pipeline.runtime);
      await waitFor(
        'a load blocked on the raw table',
        async () => {
          const waiting = await scenario.db.pool.query(
            "select count(*)::int as n from pg_stat_activity where application_name = 'cdp-load-worker' and wait_event_type = 'Lock'",
          );
          return waiting.rows[0].n > 0;
        },
        30_000,
      );

      await killAndMeasure(pipeline.runtime, runId, 'load', first, async () => {
        await blocker.query('rollback');
      });

      const { run } = await waitForTick(pipeline.runtime, scenario.db, runId, 60_000);
      expect(run).toMatchObject({ status: 'loaded', batches_failed: 0, rows_loaded: COINS, rows_duplicate: 0 });
      expect(await exactlyOnce(runId)).toEqual({ n: COINS, coins: COINS });
    } finally {
      await blocker.end();
    }
  });
});
