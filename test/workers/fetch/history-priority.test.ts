import { DAY_MS, HOUR_MS } from '../../../core/history/plan-history.js';
import { startHistoryRun } from '../../../core/history/start-history-run.js';
import { jobIds } from '../../../core/queues/registry.js';
import { enqueueTick } from '../../../producers/tick/enqueue-tick.js';
import { InProcessPipeline } from '../../helpers/pipeline.js';
import { queueEvents } from '../../helpers/queue-events.js';
import { createScenario, waitForTick, type Scenario } from '../../helpers/scenario.js';
import { waitFor } from '../../helpers/wait-for.js';

/**
 * Issue 16 §3: backfill calls share the one rate limit with live ticks but never delay them. Asserted
 * on the order Redis applied the fetch queue's events in, not on time: once a tick's fetch jobs are
 * waiting, no history job starts until the last of them has started. (The latency ratio it buys is
 * measured by the benchmark, not here.)
 */
describe('history calls behind a tick', () => {
  let scenario: Scenario;
  let pipeline: InProcessPipeline;
  const LIMIT_PER_MIN = 120;

  beforeAll(async () => {
    scenario = await createScenario({ coins: 2000, stepMs: 60_000 });
    pipeline = await new InProcessPipeline(
      scenario.config({ COINGECKO_RATE_LIMIT_PER_MIN: String(LIMIT_PER_MIN), COINGECKO_MAX_IDS_PER_CALL: '50' }),
    ).start();
  });
  afterAll(async () => {
    await pipeline?.stop();
    await scenario?.teardown();
  });

  it('a tick queued during a backfill at the rate limit starts all its calls before any further history call, with no 429', async () => {
    const { runtime } = pipeline;
    // CoinGecko's own limit, per minute like the plans': the pipeline must keep to it with both kinds of calls.
    scenario.simulator.control.setFaults({ rateLimit: LIMIT_PER_MIN, rateWindowMs: 60_000 });
    const since = Date.now();
    const ids = scenario.simulator.control.universeIds();
    const toMs = Math.floor(Date.now() / HOUR_MS) * HOUR_MS;
    const backfill = await startHistoryRun(runtime, {
      historyRunId: 'b-priority',
      kind: 'backfill',
      coinIds: ids.slice(0, 300),
      fromMs: toMs - 2 * DAY_MS,
      toMs,
      minSpanMs: HOUR_MS,
      requested: {},
    });
    expect(backfill.items).toBe(300);
    await waitFor('the backfill running at the limit', async () => {
      const { rows } = await scenario.db.pool.query(
        `select count(*)::int as n from pipeline.history_items where history_run_id = 'b-priority' and status = 'done'`,
      );
      return rows[0].n >= 5;
    });

    const runId = await enqueueTick(runtime, { coinIds: ids.slice(1000, 1500) });
    const { run } = await waitForTick(runtime, scenario.db, runId, 90_000);
    expect(run).toMatchObject({ status: 'loaded', batches_planned: 10, batches_failed: 0, rows_loaded: 500 });

    const tickJobs = new Set(Array.from({ length: 10 }, (_, n) => jobIds.fetch(runId, n)));
    const events = await queueEvents(runtime.redis, runtime.queue('fetch'));
    const queued = events.findLastIndex((e) => tickJobs.has(e.jobId ?? '') && e.event === 'waiting');
    const lastStarted = events.findLastIndex((e) => tickJobs.has(e.jobId ?? '') && e.event === 'active');
    expect(queued).toBeGreaterThanOrEqual(0);
    expect(lastStarted).toBeGreaterThan(queued);
    // Every tick job started once: none was handed back by a rate limit.
    expect(events.filter((e) => tickJobs.has(e.jobId ?? '') && e.event === 'active')).toHaveLength(10);
    const historyStartsBetween = events
      .slice(queued + 1, lastStarted)
      .filter((e) => e.event === 'active' && e.jobId?.startsWith('history-'));
    expect(historyStartsBetween).toEqual([]);
    // The backfill was running before the tick and went on after it.
    const historyStarts = events.flatMap((e, i) =>
      e.event === 'active' && e.jobId?.startsWith('history-') ? [i] : [],
    );
    expect(historyStarts.some((i) => i < queued)).toBe(true);
    await waitFor('a history call after the tick', async () => {
      const later = await queueEvents(runtime.redis, runtime.queue('fetch'));
      return later.slice(lastStarted + 1).some((e) => e.event === 'active' && e.jobId?.startsWith('history-'));
    });

    const requests = scenario.simulator.control.requests(since);
    expect(requests.filter((r) => r.status === 429)).toEqual([]);
    expect(requests.filter((r) => r.path.startsWith('/coins/markets'))).toHaveLength(10);
  });
});
