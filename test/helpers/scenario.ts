import type { Job } from 'bullmq';
import type { AppConfig } from '../../core/config/index.js';
import type { PipelineRun } from '../../core/db/entities/pipeline-run.js';
import { jobIds, type QUEUES } from '../../core/queues/registry.js';
import type { Runtime } from '../../core/runtime.js';
import { enqueueTick, enqueueUniverseRefresh } from '../../producers/tick/enqueue-tick.js';
import { resolveOptions } from '../../simulator/options.js';
import { startSimulator, type SimulatorHandle, type SimulatorOptions } from '../../simulator/server.js';
import { createTestDatabase, type TestDatabase } from './database.js';
import { testConfig } from './config.js';
import { deletePrefix, testPrefix } from './redis.js';
import { waitFor } from './wait-for.js';

/** Everything one pipeline test needs: its own database, BullMQ prefix and simulator. */
export interface Scenario {
  readonly db: TestDatabase;
  readonly prefix: string;
  readonly simulator: SimulatorHandle;
  config(env?: Record<string, string>): AppConfig;
  /**
   * Waits for the simulator's next market step. Every request within a step sees the same data (like
   * CoinGecko's cache), so a tick fetching less than a step after the previous one finds some of its
   * rows already loaded: tests that expect every row of a tick to be new call this first.
   */
  nextStep(): Promise<void>;
  teardown(): Promise<void>;
}

export async function createScenario(simulatorOptions: Partial<SimulatorOptions> = {}): Promise<Scenario> {
  const db = await createTestDatabase();
  const prefix = testPrefix();
  const simulator = await startSimulator({ coins: 15_000, ...simulatorOptions });
  return {
    db,
    prefix,
    simulator,
    config: (env) => testConfig({ databaseUrl: db.url, prefix, coingeckoUrl: simulator.url, env }),
    async nextStep() {
      const { stepMs, clock } = resolveOptions(simulatorOptions);
      const step = Math.floor(clock() / stepMs);
      await waitFor(
        "the simulator's next market step",
        async () => Math.floor(clock() / stepMs) > step,
        stepMs * 2 + 1_000,
        Math.min(50, stepMs),
      );
    },
    async teardown() {
      await simulator.close();
      await deletePrefix(prefix);
      await db.drop();
    },
  };
}

type RunRow = { [K in keyof PipelineRun]: unknown } & Record<string, unknown>;

export async function runRow(db: TestDatabase, runId: string): Promise<RunRow | undefined> {
  const result = await db.pool.query('select * from pipeline.pipeline_runs where run_id = $1', [runId]);
  return result.rows[0];
}

/**
 * Refreshes the universe and waits for it (top-N ticks need ranks). The simulator's market moves
 * every step, so a ranking fetched across a step boundary can miss a coin that slipped between two
 * pages (it keeps its rank from an earlier refresh, but on the first one it has none): tests that
 * count every coin refresh again until the top N are all ranked, as the next hourly refresh would.
 */
export async function refreshUniverse(runtime: Runtime, timeoutMs = 60_000): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const refreshId = await enqueueUniverseRefresh(runtime);
    await waitFor(
      'universe refresh',
      async () => {
        const job = await runtime.queue('universe').getJob(jobIds.manualUniverse(refreshId));
        const state = await job?.getState();
        if (state === 'failed') throw new Error(`universe refresh failed: ${job?.failedReason}`);
        return state === 'completed';
      },
      timeoutMs,
    );
    if (runtime.config.universe.coinIds) return;
    const { rows } = await runtime.pool.query<{ active: number; ranked: number }>(
      'select count(*)::int as active, count(market_cap_rank)::int as ranked from raw.coins where is_active',
    );
    if (rows[0]!.ranked >= Math.min(rows[0]!.active, runtime.config.universe.topN) || attempt === 3) return;
    await new Promise((resolve) => setTimeout(resolve, 5)); // distinct refresh ids (milliseconds)
  }
}

/** Enqueues a tick and waits until its run is finished and its transform job has settled. */
export async function runTick(
  runtime: Runtime,
  db: TestDatabase,
  options: Parameters<typeof enqueueTick>[1] = {},
  timeoutMs = 90_000,
): Promise<{ runId: string; run: RunRow; transform: Job }> {
  const runId = await enqueueTick(runtime, options);
  return { runId, ...(await waitForTick(runtime, db, runId, timeoutMs)) };
}

export async function waitForTick(
  runtime: Runtime,
  db: TestDatabase,
  runId: string,
  timeoutMs = 90_000,
): Promise<{ run: RunRow; transform: Job }> {
  const transform = await waitFor(
    `transform job of ${runId} to settle`,
    async () => {
      const job = await runtime.queue('transform').getJob(jobIds.transform(runId));
      const state = await job?.getState();
      return state === 'completed' || state === 'failed' ? job : undefined;
    },
    timeoutMs,
    200,
  );
  const run = await waitFor(
    `run ${runId} to finish`,
    async () => {
      const row = await runRow(db, runId);
      return row?.finished_at ? row : undefined;
    },
    10_000,
  );
  return { run, transform: transform as Job };
}

/** Every job of a queue in any state (for "exactly one" assertions). */
export async function allJobs(runtime: Runtime, key: keyof typeof QUEUES): Promise<Job[]> {
  return runtime
    .queue(key)
    .getJobs(['active', 'waiting', 'waiting-children', 'delayed', 'prioritized', 'completed', 'failed']);
}

/**
 * Adds a tick while the simulator holds every call for `latencyMs`, and returns once a markets call
 * is held and fetch jobs are active: a worker killed then certainly dies mid-call. Faults stay set.
 */
export async function tickWithFetchesInFlight(
  scenario: Scenario,
  runtime: Runtime,
  latencyMs: number,
): Promise<string> {
  scenario.simulator.control.setFaults({ latencyMs });
  const since = Date.now();
  const runId = await enqueueTick(runtime);
  await waitFor('a markets call held by the simulator', async () =>
    scenario.simulator.control.requests(since).some((r) => r.path.startsWith('/coins/markets')),
  );
  await waitFor('fetch jobs active', async () => (await runtime.queue('fetch').getJobCounts('active')).active! > 0);
  return runId;
}
