import { DAY_MS, HOUR_MS } from '../../../core/history/plan-history.js';
import { startHistoryRun } from '../../../core/history/start-history-run.js';
import { testEnv } from '../../helpers/config.js';
import { InProcessPipeline } from '../../helpers/pipeline.js';
import { PipelineProcess } from '../../helpers/processes.js';
import { createScenario, type Scenario } from '../../helpers/scenario.js';
import { waitFor } from '../../helpers/wait-for.js';

/**
 * A fetch worker process SIGKILLed in the middle of a backfill: its in-flight history jobs are
 * re-delivered once their locks lapse, another process finishes the run, and every point is stored
 * once, exactly as the simulator serves it.
 */
describe('a fetch worker killed mid-backfill', () => {
  let scenario: Scenario;
  let producer: InProcessPipeline;
  const processes: PipelineProcess[] = [];
  /** Calls one worker process has in flight at most: what a SIGKILL can leave half done. */
  const CONCURRENCY = 4;
  const spawnFetchWorker = () => {
    const child = new PipelineProcess('fetch', {
      ...testEnv({ databaseUrl: scenario.db.url, prefix: scenario.prefix, coingeckoUrl: scenario.simulator.url }),
      LOG_LEVEL: 'info',
      FETCH_CONCURRENCY: String(CONCURRENCY),
    });
    processes.push(child);
    return child;
  };
  const progress = async (historyRunId: string) =>
    (
      await scenario.db.pool.query<{ done: number; pending: number; calls: number }>(
        `select count(*) filter (where status = 'done')::int as done, count(*) filter (where status = 'pending')::int as pending,
                sum(calls)::int as calls
           from pipeline.history_items where history_run_id = $1`,
        [historyRunId],
      )
    ).rows[0]!;

  beforeAll(async () => {
    scenario = await createScenario({ coins: 1000 });
    producer = await new InProcessPipeline(scenario.config()).start([]);
  });
  afterAll(async () => {
    await Promise.all(processes.map((p) => p.kill('SIGKILL')));
    await producer?.stop();
    await scenario?.teardown();
  });

  it('resumes: the run completes, every (coin, time) stored once, no call repeated but the killed ones', async () => {
    const coins = scenario.simulator.control.universeIds().slice(0, 24);
    // A range ending in the past on the hour: the simulator serves the same points at any later time.
    const toMs = Math.floor(Date.now() / HOUR_MS) * HOUR_MS - HOUR_MS;
    const fromMs = toMs - 30 * DAY_MS;
    const first = spawnFetchWorker();
    await first.waitForLog('fetch worker started');

    // Every call held 400 ms, so calls are in flight whenever the worker dies.
    scenario.simulator.control.setFaults({ latencyMs: 400 });
    const since = Date.now();
    const { historyRunId, items } = await startHistoryRun(producer.runtime, {
      historyRunId: 'b-killed',
      kind: 'backfill',
      coinIds: coins,
      fromMs,
      toMs,
      minSpanMs: HOUR_MS,
      requested: {},
    });
    expect(items).toBe(24);
    const fetchQueue = producer.runtime.queue('fetch');
    await waitFor('some calls done, some pending, some in flight', async () => {
      const { done, pending } = await progress(historyRunId);
      return done > 0 && pending > 4 && (await fetchQueue.getJobCounts('active')).active! > 0;
    });
    await first.kill('SIGKILL');
    scenario.simulator.control.setFaults({ latencyMs: 0 });
    const pendingAtKill = (await progress(historyRunId)).pending;
    expect(pendingAtKill).toBeGreaterThan(0);

    const second = spawnFetchWorker();
    await waitFor(
      'the run to finish',
      async () =>
        (
          await scenario.db.pool.query(
            `select status from pipeline.history_runs where history_run_id = $1 and status <> 'running'`,
            [historyRunId],
          )
        ).rows[0],
      60_000,
    );
    expect(
      (
        await scenario.db.pool.query('select status from pipeline.history_runs where history_run_id = $1', [
          historyRunId,
        ])
      ).rows[0].status,
    ).toBe('done');
    const after = await progress(historyRunId);
    expect(after).toMatchObject({ done: 24, pending: 0 });
    // The survivor did the rest, the killed worker's in-flight calls included.
    expect(second.logs().filter((l) => l.message === 'job completed').length).toBeGreaterThanOrEqual(pendingAtKill);

    // Calls: one per item, plus at most one again for each call the killed worker had in flight (a
    // redelivered job whose points were stored before the kill makes none).
    const calls = scenario.simulator.control.requests(since).filter((r) => r.path.endsWith('/market_chart/range'));
    expect(calls.length).toBeGreaterThanOrEqual(24);
    expect(calls.length).toBeLessThanOrEqual(24 + CONCURRENCY);
    // The ledger counts a call before making it: one the kill cut short may never have reached CoinGecko.
    expect(after.calls).toBeGreaterThanOrEqual(calls.length);
    expect(after.calls).toBeLessThanOrEqual(24 + CONCURRENCY);

    // Every point the simulator serves for every coin, once.
    const { rows } = await scenario.db.pool.query<{ coin_id: string; n: number; distinct_times: number }>(
      `select coin_id, count(*)::int as n, count(distinct observed_at)::int as distinct_times
         from raw.coin_history_points group by coin_id order by coin_id`,
    );
    expect(rows).toEqual(
      [...coins].sort().map((coin_id) => ({ coin_id, n: 30 * 24 + 1, distinct_times: 30 * 24 + 1 })),
    );
    for (const coinId of [coins[0]!, coins[23]!]) {
      const url = `${scenario.simulator.url}/coins/${coinId}/market_chart/range?vs_currency=usd&from=${fromMs / 1000}&to=${toMs / 1000}`;
      const { prices } = (await (await fetch(url)).json()) as { prices: [number, number][] };
      const { rows: stored } = await scenario.db.pool.query<{ t: string; price: number }>(
        `select (extract(epoch from observed_at) * 1000)::bigint as t, price from raw.coin_history_points
          where coin_id = $1 order by observed_at`,
        [coinId],
      );
      expect(stored.map((r) => [Number(r.t), r.price])).toEqual(prices);
    }
  });
});
