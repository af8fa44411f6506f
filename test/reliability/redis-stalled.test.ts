import { testEnv } from '../helpers/config.js';
import { InProcessPipeline } from '../helpers/pipeline.js';
import { PipelineProcess } from '../helpers/processes.js';
import { createScenario, refreshUniverse, waitForTick, type Scenario } from '../helpers/scenario.js';
import { TcpFaultProxy } from '../helpers/tcp-fault-proxy.js';
import { waitFor } from '../helpers/wait-for.js';
import { enqueueTick } from '../../producers/tick/enqueue-tick.js';

const STALL_MS = 30_000;

describe(`Redis stalled for ${STALL_MS / 1000} s mid-tick (a hung server or black-holed network)`, () => {
  let scenario: Scenario;
  let proxy: TcpFaultProxy;
  let client: InProcessPipeline;
  const processes: PipelineProcess[] = [];
  let dashboardUrl: string;

  beforeAll(async () => {
    scenario = await createScenario({ coins: 2000, stepMs: 60_000 });
    proxy = await TcpFaultProxy.start({ host: '127.0.0.1', port: 6379 });
    const env = {
      ...testEnv({ databaseUrl: scenario.db.url, prefix: scenario.prefix, coingeckoUrl: scenario.simulator.url }),
      REDIS_URL: `redis://127.0.0.1:${proxy.port}`,
      LOG_LEVEL: 'info',
      TRACK_TOP_N: '2000',
      COINGECKO_MAX_IDS_PER_CALL: '50',
      SCHEDULE_ENABLED: 'false',
      DASHBOARD_PORT: '0',
      DASHBOARD_HOST: '127.0.0.1',
    };
    for (const kind of ['scheduler', 'fetch', 'load', 'transform', 'dashboard'] as const)
      processes.push(new PipelineProcess(kind, env));
    await Promise.all([
      ...processes
        .slice(0, 4)
        .map((p, i) => p.waitForLog(`${['scheduler', 'fetch worker', 'load worker', 'transform worker'][i]} started`)),
      processes[4]!.waitForLog('dashboard listening'),
    ]);
    dashboardUrl = processes[4]!.logs().find((l) => l.message === 'dashboard listening')!.url as string;
    // The test's own client talks to Redis directly, so it can watch while the processes cannot.
    client = new InProcessPipeline(scenario.config({ TRACK_TOP_N: '2000', COINGECKO_MAX_IDS_PER_CALL: '50' }));
    await refreshUniverse(client.runtime);
  });
  afterAll(async () => {
    await Promise.all(processes.map((p) => p.kill('SIGKILL')));
    await proxy.close();
    await client.runtime.close();
    await scenario.teardown();
  });

  const readyz = async () => {
    const response = await fetch(new URL('/readyz', dashboardUrl));
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };

  it('keeps every process up, says so in logs and /readyz, and resumes to a complete tick', async () => {
    expect((await readyz()).status).toBe(200);
    scenario.simulator.control.setFaults({ latencyMs: 400 });
    const runId = await enqueueTick(client.runtime);
    await waitFor(
      'some batches loaded',
      async () => {
        const row = (
          await scenario.db.pool.query('select batches_loaded from pipeline.pipeline_runs where run_id = $1', [runId])
        ).rows[0];
        return row && row.batches_loaded >= 2;
      },
      30_000,
      100,
    );

    proxy.setMode('stall');
    const stalledAt = Date.now();
    const notReady = await waitFor(
      '/readyz to report Redis',
      async () => {
        const ready = await readyz();
        return ready.status === 503 ? ready : undefined;
      },
      10_000,
      250,
    );
    expect(JSON.stringify(notReady.body)).toMatch(/redis/);
    await waitFor(
      'workers to log that Redis is not answering',
      async () =>
        processes
          .slice(0, 4)
          .every((p) => p.logs().some((l) => l.message === 'redis is not answering; jobs wait until it is back')),
      15_000,
      250,
    );
    await new Promise((r) => setTimeout(r, Math.max(0, STALL_MS - (Date.now() - stalledAt))));
    expect(processes.map((p) => p.lines.length > 0 && p.pid > 0)).toEqual([true, true, true, true, true]);
    for (const p of processes)
      expect(
        await Promise.race([p.exited.then(() => 'exited'), new Promise((r) => setTimeout(() => r('alive'), 10))]),
      ).toBe('alive');

    proxy.setMode('pass');
    scenario.simulator.control.setFaults({ latencyMs: 0 });
    const { run } = await waitForTick(client.runtime, scenario.db, runId, 90_000);
    expect(run).toMatchObject({ status: 'loaded', batches_failed: 0, rows_loaded: 2000 });
    const rows = await scenario.db.pool.query(
      'select count(*)::int as n, count(distinct coin_id)::int as coins from raw.coin_market_snapshots where run_id = $1',
      [runId],
    );
    expect(rows.rows[0]).toEqual({ n: 2000, coins: 2000 });
    await waitFor('/readyz to recover', async () => (await readyz()).status === 200, 15_000, 250);
    await waitFor(
      'workers to log that Redis is back',
      async () => processes.slice(0, 4).every((p) => p.logs().some((l) => l.message === 'redis is answering again')),
      15_000,
      250,
    );
  });
});
