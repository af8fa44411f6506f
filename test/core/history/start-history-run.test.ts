import { PLANS } from '../../../core/coingecko/plans.js';
import { DAY_MS, HOUR_MS } from '../../../core/history/plan-history.js';
import { startHistoryRun, type HistoryRequest } from '../../../core/history/start-history-run.js';
import { buildJob } from '../../../core/queues/build-job.js';
import { jobIds } from '../../../core/queues/registry.js';
import { InProcessPipeline } from '../../helpers/pipeline.js';
import { createScenario, type Scenario } from '../../helpers/scenario.js';
import { waitFor } from '../../helpers/wait-for.js';

type Chart = { prices: [number, number][] };

/**
 * History runs end to end in one process: startHistoryRun records and enqueues, the real fetch worker
 * calls the simulator over HTTP and stores the points.
 */
describe(startHistoryRun.name, () => {
  let scenario: Scenario;
  let pipeline: InProcessPipeline;
  // A range that ends in the past on the hour: every call answers the same hourly grid, whenever made.
  const TO = Math.floor(Date.now() / HOUR_MS) * HOUR_MS - HOUR_MS;
  const FROM = TO - 30 * DAY_MS;
  let runNo = 0;

  const request = (coinIds: readonly string[], overrides: Partial<HistoryRequest> = {}): HistoryRequest => ({
    historyRunId: `b-test-${++runNo}`,
    kind: 'backfill',
    coinIds,
    fromMs: FROM,
    toMs: TO,
    minSpanMs: HOUR_MS,
    requested: { test: expect.getState().currentTestName },
    ...overrides,
  });
  const finished = (historyRunId: string) =>
    waitFor(
      `history run ${historyRunId} to finish`,
      async () => {
        const { rows } = await scenario.db.pool.query(
          `select * from pipeline.history_runs where history_run_id = $1 and status <> 'running'`,
          [historyRunId],
        );
        return rows[0] as Record<string, unknown> | undefined;
      },
      90_000,
      200,
    );
  const items = async (historyRunId: string) =>
    (
      await scenario.db.pool.query(
        `select coin_id, status, calls, http_status, points_received, rows_inserted, points_rejected, error
           from pipeline.history_items where history_run_id = $1 order by item_no`,
        [historyRunId],
      )
    ).rows;
  const storedRows = async () =>
    (await scenario.db.pool.query<{ n: number }>('select count(*)::int as n from raw.coin_history_points')).rows[0]!.n;
  const simulatorChart = async (coinId: string, fromMs = FROM, toMs = TO) => {
    const url = `${scenario.simulator.url}/coins/${coinId}/market_chart/range?vs_currency=usd&from=${fromMs / 1000}&to=${toMs / 1000}`;
    return (await (await fetch(url)).json()) as Chart;
  };
  const historyCalls = (since: number) =>
    scenario.simulator.control.requests(since).filter((r) => r.path.endsWith('/market_chart/range'));

  beforeAll(async () => {
    scenario = await createScenario({ coins: 2000 });
    pipeline = await new InProcessPipeline(scenario.config()).start(['fetch']);
  });
  afterAll(async () => {
    await pipeline?.stop();
    await scenario?.teardown();
  });

  describe('30 days of 50 coins', () => {
    let coins: string[];
    beforeAll(() => {
      coins = scenario.simulator.control.universeIds().slice(0, 50);
    });

    it('stores every point the simulator serves, once, with one call per coin', async () => {
      const since = Date.now();
      const started = await startHistoryRun(pipeline.runtime, request(coins));
      expect(started).toMatchObject({ created: true, items: 50, coins: 50 });
      const run = await finished(started.historyRunId);
      expect(run).toMatchObject({ status: 'done', coins: 50, items: 50 });

      const expected = 30 * 24 + 1; // hourly, both ends included
      const rows = await items(started.historyRunId);
      expect(rows).toHaveLength(50);
      for (const row of rows)
        expect(row).toMatchObject({
          status: 'done',
          calls: 1,
          http_status: 200,
          points_received: expected,
          rows_inserted: expected,
          points_rejected: 0,
          error: null,
        });
      expect(historyCalls(since)).toHaveLength(50);
      expect(await storedRows()).toBe(50 * expected);

      // The very points the simulator serves, for a few coins checked value by value.
      for (const coinId of [coins[0]!, coins[17]!, coins[49]!]) {
        const { rows: stored } = await scenario.db.pool.query<{ t: string; price: number }>(
          `select (extract(epoch from observed_at) * 1000)::bigint as t, price from raw.coin_history_points
            where coin_id = $1 and vs_currency = 'usd' and resolution_s = 3600 and history_run_id = $2 order by observed_at`,
          [coinId, started.historyRunId],
        );
        expect(stored.map((r) => [Number(r.t), r.price])).toEqual((await simulatorChart(coinId)).prices);
      }
    });

    it('a second run over the same range plans no call and adds no row', async () => {
      const before = await storedRows();
      const since = Date.now();
      const started = await startHistoryRun(pipeline.runtime, request(coins));
      expect(started).toMatchObject({ created: true, items: 0, coins: 0 });
      expect(await finished(started.historyRunId)).toMatchObject({ status: 'done', items: 0 });
      expect(historyCalls(since)).toEqual([]);
      expect(await storedRows()).toBe(before);
    });

    it('fetching stored ranges again (the ledger forgotten) calls CoinGecko but adds no row', async () => {
      const before = await storedRows();
      await scenario.db.pool.query(`delete from pipeline.history_runs where kind = 'backfill'`);
      const started = await startHistoryRun(pipeline.runtime, request(coins.slice(0, 10)));
      expect(started.items).toBe(10);
      expect(await finished(started.historyRunId)).toMatchObject({ status: 'done' });
      const rows = await items(started.historyRunId);
      expect(rows.map((r) => [r.status, r.points_received, r.rows_inserted])).toEqual(
        Array.from({ length: 10 }, () => ['done', 30 * 24 + 1, 0]),
      );
      expect(await storedRows()).toBe(before);
    });

    it('a job for an item already done (redelivered after a crash) makes no call and changes nothing', async () => {
      const { rows } = await scenario.db.pool.query(
        `select history_run_id, item_no, coin_id, calls, rows_inserted from pipeline.history_items
          where status = 'done' order by history_run_id, item_no limit 1`,
      );
      const item = rows[0];
      const since = Date.now();
      const built = buildJob('fetch', pipeline.config, {
        data: {
          runId: item.history_run_id,
          batchNo: item.item_no,
          request: {
            endpoint: 'market-chart-range',
            coinId: item.coin_id,
            vsCurrency: 'usd',
            from: FROM / 1000,
            to: TO / 1000,
          },
        },
        jobId: 'redelivered',
      });
      const job = await pipeline.runtime.queue('fetch').add(built.name, built.data, built.opts);
      await waitFor('the job to complete', async () => (await job.getState()) === 'completed');
      expect(historyCalls(since)).toEqual([]);
      const { rows: after } = await scenario.db.pool.query(
        `select calls, rows_inserted from pipeline.history_items where history_run_id = $1 and item_no = $2`,
        [item.history_run_id, item.item_no],
      );
      expect(after[0]).toEqual({ calls: item.calls, rows_inserted: item.rows_inserted });
    });

    it('a longer range fetches only the part not stored yet, in calls of at most 90 days', async () => {
      const coinId = coins[0]!;
      const since = Date.now();
      const started = await startHistoryRun(
        pipeline.runtime,
        request([coinId], { historyRunId: 'b-longer', fromMs: TO - 200 * DAY_MS }),
      );
      // Only the 10-coin re-fetch above is on the ledger now: 170 days before it, in two calls.
      expect(started.items).toBe(2);
      expect(await finished('b-longer')).toMatchObject({ status: 'done' });
      const { rows } = await scenario.db.pool.query(
        `select extract(epoch from range_to - range_from) / 86400 as days from pipeline.history_items
          where history_run_id = 'b-longer' order by item_no`,
      );
      expect(rows.map((r) => Number(r.days))).toEqual([90, 80]);
      expect(historyCalls(since)).toHaveLength(2);
    });
  });

  it('quarantines null prices, duplicated and out-of-order timestamps with their reasons, and stores the good points', async () => {
    const [bad, good] = scenario.simulator.control.universeIds().slice(100, 102) as [string, string];
    scenario.simulator.control.setFaults({ badHistoryCoinIds: [bad] });
    try {
      // Ten hours: CoinGecko answers a span of up to a day 5-minutely, 121 points.
      const from = TO - 10 * HOUR_MS;
      const started = await startHistoryRun(pipeline.runtime, request([bad, good], { fromMs: from }));
      expect(await finished(started.historyRunId)).toMatchObject({ status: 'done' });

      const byCoin = Object.fromEntries((await items(started.historyRunId)).map((r) => [r.coin_id, r]));
      expect(byCoin[good]).toMatchObject({
        status: 'done',
        points_received: 121,
        rows_inserted: 121,
        points_rejected: 0,
      });
      // 121 points sent as 122 entries (one duplicated): 3 refused, the other 119 stored.
      expect(byCoin[bad]).toMatchObject({
        status: 'done',
        points_received: 122,
        rows_inserted: 119,
        points_rejected: 3,
      });

      const { rows: quarantined } = await scenario.db.pool.query(
        `select record_index, reason, record from pipeline.quarantined_records where run_id = $1 and coin_id = $2
          order by record_index`,
        [started.historyRunId, bad],
      );
      const t = (step: number) => from + step * 5 * 60_000;
      expect(quarantined.map((q) => [q.record_index, q.reason])).toEqual([
        [1, 'price is null'],
        [3, `duplicated timestamp ${t(2)}`],
        [5, `out-of-order timestamp ${t(3)} after ${t(4)}`],
      ]);
      expect(quarantined[0].record.prices).toEqual([t(1), null]);
      expect(quarantined[0].record.market_caps[0]).toBe(t(1));

      const { rows: stored } = await scenario.db.pool.query<{ t: string }>(
        `select (extract(epoch from observed_at) * 1000)::bigint as t from raw.coin_history_points
          where coin_id = $1 and history_run_id = $2 order by observed_at`,
        [bad, started.historyRunId],
      );
      const grid = Array.from({ length: 121 }, (_, i) => t(i));
      expect(stored.map((r) => Number(r.t))).toEqual(grid.filter((_, i) => i !== 1 && i !== 3));
    } finally {
      scenario.simulator.control.setFaults({ badHistoryCoinIds: [] });
    }
  });

  it("a range beyond the plan's 365 days: 401 with 10012 is permanent, one call, and the item keeps CoinGecko's message", async () => {
    expect(PLANS[pipeline.config.coingecko.plan].historyDays).toBe(365);
    const coinId = scenario.simulator.control.universeIds()[3]!;
    const since = Date.now();
    const started = await startHistoryRun(
      pipeline.runtime,
      request([coinId], { fromMs: Date.now() - 400 * DAY_MS, toMs: Date.now() - 380 * DAY_MS }),
    );
    expect(await finished(started.historyRunId)).toMatchObject({ status: 'failed' });
    const [item] = await items(started.historyRunId);
    expect(item).toMatchObject({ status: 'failed', calls: 1, http_status: 401 });
    expect(item.error).toContain('error_code 10012');
    expect(item.error).toContain('Your request exceeds the allowed time range');
    expect(historyCalls(since).map((c) => c.status)).toEqual([401]);
    const job = await pipeline.runtime.queue('fetch').getJob(jobIds.history(started.historyRunId, 0));
    expect(job?.attemptsMade).toBe(1);
    expect(await job?.getState()).toBe('failed');
  });
});
