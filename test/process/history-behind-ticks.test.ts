import { HOUR_MS } from '../../core/history/plan-history.js';
import { startHistoryRun } from '../../core/history/start-history-run.js';
import { jobIds } from '../../core/queues/registry.js';
import { enqueueTick } from '../../producers/tick/enqueue-tick.js';
import { busiestWindow } from '../helpers/busiest-window.js';
import { testEnv } from '../helpers/config.js';
import { InProcessPipeline } from '../helpers/pipeline.js';
import { PipelineProcess } from '../helpers/processes.js';
import { queueEvents, type QueueEvent } from '../helpers/queue-events.js';
import { createScenario, type Scenario } from '../helpers/scenario.js';
import { waitFor } from '../helpers/wait-for.js';

type Kind = 'scheduler' | 'fetch' | 'load';

interface RunRow {
  readonly run_id: string;
  readonly trigger: string;
  readonly batches_planned: number;
  readonly batches_loaded: number;
  readonly batches_failed: number;
  readonly batches_superseded: number;
  readonly started_ms: number;
  /** Planned to last batch loaded. */
  readonly load_ms: number | null;
}

/**
 * Issue 16 with real processes at a low rate limit, as the compose stack runs it (30 calls/min, a
 * scheduler planning ticks, two fetch and one load process): a gap repair of 250 coins (one
 * market_chart/range call each, minutes of calls at this limit) is queued while ticks keep being
 * planned, some of its calls fail and wait for their retry, and a burst of manual ticks is added on
 * top. Every tick planned meanwhile loads all its batches, and the repair moves on with the calls the
 * ticks leave. Asserted on the ledger and on the order Redis applied the fetch queue's events in:
 * once a tick's fetch jobs wait, no history job starts before the last of them has started.
 */
describe('a gap repair of many coins behind ticks at 30 calls/min', () => {
  const LIMIT_PER_MIN = 30;
  const INTERVAL_MS = 10_000; // 30 calls/min allow 5 calls per tick; a tick needs 2
  const REPAIR_COINS = 250;
  const FAILING_COINS = 5; // their first two history calls get a 503: retried after a backoff (delayed)
  let scenario: Scenario;
  let client: InProcessPipeline;
  const processes: PipelineProcess[] = [];

  beforeAll(async () => {
    scenario = await createScenario({ coins: 2000, stepMs: 2000 });
    const settings = {
      TICK_INTERVAL: `${INTERVAL_MS}ms`,
      COIN_IDS: scenario.simulator.control.universeIds().slice(0, 100).join(','),
      COINGECKO_MAX_IDS_PER_CALL: '50',
      COINGECKO_RATE_LIMIT_PER_MIN: String(LIMIT_PER_MIN),
      UNIVERSE_REFRESH_INTERVAL: '1h',
      // Retries land in later ticks, after a stay in the delayed set.
      RETRY_BASE_DELAY: '2s',
      // Only the repair this test starts: a gap the watchdog found would add its own.
      GAP_REPAIR_MAX_COINS: '0',
    };
    const env = {
      ...testEnv({ databaseUrl: scenario.db.url, prefix: scenario.prefix, coingeckoUrl: scenario.simulator.url }),
      ...settings,
      LOG_LEVEL: 'info',
    };
    client = new InProcessPipeline(scenario.config(settings));
    // CoinGecko's own limit, in its fixed minute windows: the pipeline must keep to it with both kinds of calls.
    scenario.simulator.control.setFaults({ rateLimit: LIMIT_PER_MIN, rateWindowMs: 60_000 });
    const kinds: Kind[] = ['scheduler', 'fetch', 'fetch', 'load'];
    processes.push(...kinds.map((kind) => new PipelineProcess(kind, env)));
    await Promise.all(
      processes.map((p, i) =>
        p.waitForLog(kinds[i] === 'scheduler' ? 'scheduler started' : `${kinds[i]} worker started`, 60_000),
      ),
    );
  });
  afterAll(async () => {
    await Promise.all(processes.map((p) => p.kill('SIGTERM')));
    await client?.runtime.close();
    await scenario?.teardown();
  });

  const runs = async (from: number, to = Infinity): Promise<RunRow[]> =>
    (
      await scenario.db.pool.query<RunRow>(
        `select r.run_id, r.trigger, r.batches_planned, r.batches_loaded, r.batches_failed, r.batches_superseded,
                extract(epoch from r.started_at) * 1000 as started_ms,
                (extract(epoch from max(b.loaded_at) - r.started_at) * 1000)::int as load_ms
           from pipeline.pipeline_runs r join pipeline.pipeline_batches b using (run_id)
          where r.started_at >= to_timestamp($1 / 1000.0) and r.started_at < to_timestamp($2 / 1000.0)
          group by r.run_id order by r.started_at, r.run_id`,
        [from, Number.isFinite(to) ? to : 8.64e15],
      )
    ).rows;
  const settled = (run: RunRow) =>
    run.batches_loaded + run.batches_failed + run.batches_superseded === run.batches_planned;
  const historyItems = async () =>
    (
      await scenario.db.pool.query<{ item_no: number; coin_id: string; status: string; calls: number }>(
        `select item_no, coin_id, status, calls from pipeline.history_items where history_run_id = 'g-starve'`,
      )
    ).rows;

  /** The history jobs started between a run's fetch jobs being queued and the last of them starting. */
  const historyStartsWithin = (events: readonly QueueEvent[], run: RunRow) => {
    const tickJobs = new Set(Array.from({ length: run.batches_planned }, (_, n) => jobIds.fetch(run.run_id, n)));
    const queued = events.findLastIndex((e) => tickJobs.has(e.jobId ?? '') && e.event === 'waiting');
    const lastStarted = events.findLastIndex((e) => tickJobs.has(e.jobId ?? '') && e.event === 'active');
    if (queued < 0 || lastStarted < queued)
      throw new Error(`${run.run_id}: its fetch jobs' events are not in the stream`);
    return events
      .slice(queued + 1, lastStarted)
      .filter((e) => e.event === 'active' && e.jobId?.startsWith('history-'))
      .map((e) => e.jobId);
  };

  it('loads every tick planned during the repair in full, before any waiting history call, and the repair moves on with the spare calls', async () => {
    const { runtime } = client;
    const start = Date.now();
    // The reference: ticks with no history queued, in this run.
    const before = await waitFor(
      'two ticks loaded before the repair',
      async () => {
        const done = (await runs(start)).filter((r) => r.batches_loaded === r.batches_planned);
        return done.length >= 2 ? done : undefined;
      },
      90_000,
      200,
    );
    const ids = scenario.simulator.control.universeIds();
    const repairCoins = ids.slice(500, 500 + REPAIR_COINS);
    const failing = repairCoins.slice(0, FAILING_COINS);
    for (const coin of failing)
      scenario.simulator.control.setFaults({
        failNext: [{ count: 2, kind: '503', path: `/coins/${coin}/market_chart` }],
      });
    const repairQueuedAt = Date.now();
    const toMs = Math.floor(repairQueuedAt / HOUR_MS) * HOUR_MS;
    const repair = await startHistoryRun(runtime, {
      historyRunId: 'g-starve',
      kind: 'repair',
      coinIds: repairCoins,
      fromMs: toMs - 2 * HOUR_MS,
      toMs,
      minSpanMs: 0,
      requested: {},
    });
    expect(repair.items).toBe(REPAIR_COINS);

    // Once the failing calls have been made, and are waiting for their retry, a burst of manual
    // ticks on top of the schedule (as the compose stack's scale-out check adds).
    await waitFor(
      'the failing history calls made once',
      async () =>
        (await historyItems()).filter((i) => failing.includes(i.coin_id) && i.calls >= 1).length === FAILING_COINS,
      60_000,
      200,
    );
    const burst = ['mburst1', 'mburst2', 'mburst3'];
    for (const runId of burst) await enqueueTick(runtime, { runId });
    const burstAt = Date.now();
    // The ticks planned since the repair was queued, up to the fourth scheduled one after the burst.
    const cutoff = await waitFor(
      'four scheduled ticks planned after the burst',
      async () => (await runs(burstAt)).filter((r) => r.trigger === 'schedule')[3],
      90_000,
      200,
    );
    const until = Number(cutoff.started_ms) + 1;
    const during = await waitFor(
      'every tick planned since the repair settled',
      async () => {
        const planned = await runs(repairQueuedAt, until);
        const waiting = planned.filter((r) => !settled(r));
        if (waiting.length === 0) return planned;
        // Named in the timeout's message: which ticks wait, and how far the repair got meanwhile.
        const historyDone = (await historyItems()).filter((i) => i.status === 'done').length;
        throw new Error(
          `ticks not loaded: ${waiting.map((r) => `${r.run_id} ${r.batches_loaded}/${r.batches_planned}`).join(', ')}; history calls done: ${historyDone}`,
        );
      },
      180_000,
      200,
    );
    // The planner runs two ticks at once: the burst's runs may start in any order.
    expect(
      during
        .filter((r) => burst.includes(r.run_id))
        .map((r) => r.run_id)
        .sort(),
    ).toEqual(burst);
    for (const run of during)
      expect(run).toMatchObject({ batches_planned: 2, batches_loaded: 2, batches_failed: 0, batches_superseded: 0 });

    const events = await queueEvents(runtime.redis, runtime.queue('fetch'));
    for (const run of during)
      expect({ run: run.run_id, historyStarts: historyStartsWithin(events, run) }).toEqual({
        run: run.run_id,
        historyStarts: [],
      });
    // History calls did run between the ticks, including the retries the backoff held in the delayed set.
    const items = await historyItems();
    const done = items.filter((i) => i.status === 'done').length;
    expect(done).toBeGreaterThan(0);
    expect(done).toBeLessThan(REPAIR_COINS);
    const failingJobs = new Set(
      items.filter((i) => failing.includes(i.coin_id)).map((i) => jobIds.history('g-starve', i.item_no)),
    );
    const retried = new Set(
      events.filter((e) => e.event === 'delayed' && failingJobs.has(e.jobId ?? '')).map((e) => e.jobId),
    );
    expect(retried.size).toBe(FAILING_COINS);

    const requests = scenario.simulator.control.requests(repairQueuedAt);
    expect(requests.filter((r) => r.status === 429)).toEqual([]);
    expect(
      busiestWindow(
        requests.map((r) => r.t),
        60_000,
      ),
    ).toBeLessThanOrEqual(LIMIT_PER_MIN);
    expect((await scenario.db.pool.query('select gap_id from pipeline.coverage_gaps')).rows).toEqual([]);

    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const scheduled = during.filter((r) => r.trigger === 'schedule');
    process.stdout.write(
      `history behind ticks: planned-to-loaded median ${median(before.map((r) => r.load_ms!))} ms for ${before.length} ticks without history (reference), ` +
        `${median(scheduled.map((r) => r.load_ms!))} ms for ${scheduled.length} scheduled ticks during the repair, ` +
        `burst of ${burst.length} manual ticks loaded in ${Math.max(...during.filter((r) => burst.includes(r.run_id)).map((r) => r.load_ms!))} ms; ` +
        `repair ${done}/${REPAIR_COINS} coins stored in ${Math.round((Date.now() - repairQueuedAt) / 1000)} s; ` +
        `${requests.length} calls, busiest sliding minute ${busiestWindow(
          requests.map((r) => r.t),
          60_000,
        )} (limit ${LIMIT_PER_MIN})\n`,
    );
  }, 300_000);
});
