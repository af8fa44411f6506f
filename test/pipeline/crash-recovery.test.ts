import pg from 'pg';
import { InProcessPipeline, type WorkerKind } from '../helpers/pipeline.js';
import { PipelineProcess } from '../helpers/processes.js';
import { testEnv } from '../helpers/config.js';
import {
  createScenario,
  refreshUniverse,
  tickWithFetchesInFlight,
  waitForTick,
  type Scenario,
} from '../helpers/scenario.js';
import { enqueueTick } from '../../producers/tick/enqueue-tick.js';
import { waitFor } from '../helpers/wait-for.js';

/**
 * A worker process SIGKILLed in the middle of a job: BullMQ re-delivers the job once its lock
 * lapses (3 s here), another process finishes it, and the data ends up exactly as without the crash.
 */
describe('a worker killed mid-job', () => {
  let scenario: Scenario;
  let inProcess: InProcessPipeline | undefined;
  const processes: PipelineProcess[] = [];
  const spawnWorker = (kind: 'fetch' | 'load') => {
    const child = new PipelineProcess(kind, {
      ...testEnv({ databaseUrl: scenario.db.url, prefix: scenario.prefix, coingeckoUrl: scenario.simulator.url }),
      LOG_LEVEL: 'info',
      TRACK_TOP_N: '2000',
    });
    processes.push(child);
    return child;
  };
  const start = async (kinds: WorkerKind[]) => {
    inProcess = await new InProcessPipeline(scenario.config({ TRACK_TOP_N: '2000' })).start(kinds);
    return inProcess;
  };
  const exactlyOnce = async (runId: string) =>
    (
      await scenario.db.pool.query(
        'select count(*)::int as n, count(distinct coin_id)::int as coins from raw.coin_market_snapshots where run_id = $1',
        [runId],
      )
    ).rows[0];

  beforeAll(async () => {
    scenario = await createScenario({ coins: 2000, stepMs: 500 });
  });
  afterEach(async () => {
    await Promise.all(processes.splice(0).map((p) => p.kill('SIGKILL')));
    await inProcess?.stop();
    inProcess = undefined;
  });
  afterAll(() => scenario.teardown());

  it('a fetch worker: the tick completes with every coin loaded once', async () => {
    const inProcess = await start(['planner', 'load', 'transform']);
    const first = spawnWorker('fetch');
    await first.waitForLog('fetch worker started');
    await refreshUniverse(inProcess.runtime);

    // Slow CoinGecko down so calls are in flight when the worker dies.
    const runId = await tickWithFetchesInFlight(scenario, inProcess.runtime, 1500);
    await first.kill('SIGKILL');
    scenario.simulator.control.setFaults({ latencyMs: 0 });

    const second = spawnWorker('fetch');
    const { run } = await waitForTick(inProcess.runtime, scenario.db, runId, 60_000);
    expect(run).toMatchObject({ status: 'loaded', batches_failed: 0, rows_loaded: 2000 });
    expect(await exactlyOnce(runId)).toEqual({ n: 2000, coins: 2000 });
    // The survivor did the re-delivered work.
    expect(second.logs().filter((l) => l.message === 'job completed').length).toBeGreaterThan(0);
  });

  it('a load worker blocked inside its transaction: nothing half-written, the tick completes', async () => {
    const inProcess = await start(['planner', 'fetch', 'transform']);
    const first = spawnWorker('load');
    await first.waitForLog('load worker started');

    // Hold a lock that blocks INSERTs into the raw table: the load worker's transaction stops midway
    // (ledger row locked, the COPY into the raw table waiting).
    const blocker = new pg.Client({ connectionString: scenario.db.url });
    await blocker.connect();
    try {
      await blocker.query('begin');
      await blocker.query('lock table raw.coin_market_snapshots in share row exclusive mode');
      const runId = await enqueueTick(inProcess.runtime);
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
      await first.kill('SIGKILL');
      await blocker.query('rollback');

      spawnWorker('load');
      const { run } = await waitForTick(inProcess.runtime, scenario.db, runId, 60_000);
      expect(run).toMatchObject({ status: 'loaded', batches_failed: 0, rows_loaded: 2000, rows_duplicate: 0 });
      expect(await exactlyOnce(runId)).toEqual({ n: 2000, coins: 2000 });
    } finally {
      await blocker.end();
    }
  });
});
