import { detectGaps, type GapRules } from '../../../core/history/detect-gaps.js';
import { repairRunId, settleGapRepairs, startGapRepairs } from '../../../core/history/repair-gaps.js';
import { resumeHistoryRuns } from '../../../core/history/resume-history-runs.js';
import { jobIds } from '../../../core/queues/registry.js';
import { InProcessPipeline } from '../../helpers/pipeline.js';
import { deletePrefix } from '../../helpers/redis.js';
import { createScenario, type Scenario } from '../../helpers/scenario.js';
import { waitFor } from '../../helpers/wait-for.js';

const MINUTE_MS = 60_000;

/**
 * Gaps are found in the run ledger, so these tests write ticks into it directly, an hour in the past:
 * a gap that long holds CoinGecko points (5-minutely), which a gap of a few live ticks would not.
 */
describe('coverage gaps: detection and repair from market_chart/range', () => {
  let scenario: Scenario;
  let pipeline: InProcessPipeline;
  let coins: string[];
  const now = Date.now();
  const rules: GapRules = { thresholdMs: 5 * MINUTE_MS, lookbackMs: 24 * 60 * MINUTE_MS, maxCoins: 3 };

  beforeAll(async () => {
    scenario = await createScenario({ coins: 200 });
    coins = scenario.simulator.control.universeIds().slice(0, 5);
    pipeline = new InProcessPipeline(scenario.config({ COIN_IDS: coins.join(','), GAP_REPAIR_MAX_COINS: '3' }));
  });
  afterAll(async () => {
    await pipeline.stop();
    await scenario.teardown();
  });

  /** A tick started `minutesAgo` that loaded its coins in two batches (or is still running). */
  async function tick(runId: string, minutesAgo: number, state: 'loaded' | 'running' | 'failed' = 'loaded') {
    const startedAt = new Date(now - minutesAgo * MINUTE_MS);
    const loaded = state === 'loaded' ? 2 : 0;
    await scenario.db.pool.query(
      `insert into pipeline.pipeline_runs (run_id, trigger, started_at, coins_planned, batches_planned, batches_loaded, finished_at, status)
       values ($1, 'schedule', $2, $3, 2, $4, case when $5 = 'running' then null else $2::timestamptz + interval '2 seconds' end,
               case when $5 = 'loaded' then 'loaded' when $5 = 'failed' then 'failed' else 'running' end)`,
      [runId, startedAt, coins.length, loaded, state],
    );
    for (const [batchNo, ids] of [coins.slice(0, 2), coins.slice(2)].entries())
      await scenario.db.pool.query(
        `insert into pipeline.pipeline_batches (run_id, batch_no, coin_ids, status, loaded_at) values ($1, $2, $3, $4, $5)`,
        [runId, batchNo, ids, state === 'loaded' ? 'loaded' : 'planned', state === 'loaded' ? startedAt : null],
      );
  }

  const gapRows = async () =>
    (
      await scenario.db.pool.query<{
        gap_id: string;
        gap_from: Date;
        gap_to: Date;
        coins: number;
        coins_tracked: number;
        status: string;
        history_run_id: string | null;
        points_stored: number | null;
        note: string | null;
      }>('select * from pipeline.coverage_gaps order by gap_from')
    ).rows;

  it('records a stretch without a loaded tick longer than the threshold once, and nothing shorter', async () => {
    // Ticks every minute from 120 to 100 minutes ago, none that loaded from 100 to 60 (one failed), then again.
    for (let m = 120; m >= 100; m -= 1) await tick(`t-${m}`, m);
    await tick('t-failed-80', 80, 'failed');
    for (let m = 60; m >= 58; m -= 1) await tick(`t-${m}`, m);

    const detected = await detectGaps(scenario.db.pool, rules, now);
    expect(detected).toEqual([
      { gapId: expect.any(Number), fromMs: now - 100 * MINUTE_MS, toMs: now - 60 * MINUTE_MS, coins: 3 },
    ]);
    expect(await detectGaps(scenario.db.pool, rules, now)).toEqual([]);
    expect(await gapRows()).toEqual([
      expect.objectContaining({ coins: 3, coins_tracked: 5, status: 'open', history_run_id: null }),
    ]);
  });

  it('waits while a tick started inside a stretch may still load, and ignores what is past the look-back', async () => {
    await tick('t-40', 40);
    await tick('t-30-running', 30, 'running');
    await tick('t-20', 20);
    expect(await detectGaps(scenario.db.pool, rules, now)).toEqual([
      expect.objectContaining({ fromMs: now - 58 * MINUTE_MS, toMs: now - 40 * MINUTE_MS }),
    ]);
    // A look-back of 50 minutes sees the ticks at 40 and 20 only: the 58-40 gap starts before it.
    await scenario.db.pool.query(`delete from pipeline.coverage_gaps where gap_from = $1`, [
      new Date(now - 58 * MINUTE_MS),
    ]);
    expect(await detectGaps(scenario.db.pool, { ...rules, lookbackMs: 50 * MINUTE_MS }, now)).toEqual([]);
    await scenario.db.pool.query(
      `update pipeline.pipeline_runs set status = 'failed', finished_at = now() where run_id = 't-30-running'`,
    );
    expect(await detectGaps(scenario.db.pool, rules, now)).toEqual([
      expect.objectContaining({ fromMs: now - 58 * MINUTE_MS, toMs: now - 40 * MINUTE_MS }),
      expect.objectContaining({ fromMs: now - 40 * MINUTE_MS, toMs: now - 20 * MINUTE_MS }),
    ]);
  });

  it('repairs each gap with one call per coin, for the highest-ranked GAP_REPAIR_MAX_COINS coins, and says how many points it stored', async () => {
    await pipeline.start(['fetch']);
    const started = await startGapRepairs(pipeline.runtime);
    expect(started).toHaveLength(3);
    expect(started.map((s) => s.calls)).toEqual([3, 3, 3]);
    expect(await startGapRepairs(pipeline.runtime)).toEqual([]); // each gap is repaired once
    const items = await scenario.db.pool.query<{ coin_id: string }>(
      `select distinct coin_id from pipeline.history_items where history_run_id = $1 order by coin_id`,
      [started[0]!.historyRunId],
    );
    expect(items.rows.map((r) => r.coin_id)).toEqual([...coins.slice(0, 3)].sort());

    await waitFor(
      'every repair finished',
      async () => (await settleGapRepairs(pipeline.runtime), (await gapRows()).every((g) => g.status === 'repaired')),
      30_000,
    );
    const gaps = await gapRows();
    // 40 minutes hold 8 five-minute points per coin at least; 20 minutes 4 (one may be the previous gap's end).
    expect(gaps[0]).toMatchObject({ history_run_id: repairRunId(Number(gaps[0]!.gap_id)), note: null });
    expect(gaps[0]!.points_stored).toBeGreaterThanOrEqual(3 * 8);
    expect(gaps[2]!.points_stored).toBeGreaterThanOrEqual(3 * 3);
    const outside = await scenario.db.pool.query<{ n: number }>(
      `select count(*)::int as n from raw.coin_history_points p join pipeline.coverage_gaps g on g.history_run_id = p.history_run_id
        where p.observed_at < g.gap_from or p.observed_at > g.gap_to`,
    );
    expect(outside.rows[0]!.n).toBe(0);
  });

  it('marks a gap inside history already fetched repaired at no cost, and says why', async () => {
    await scenario.db.pool.query(
      `insert into pipeline.coverage_gaps (gap_from, gap_to, coins, coins_tracked) values ($1, $2, 3, 5)`,
      [new Date(now - 70 * MINUTE_MS), new Date(now - 60 * MINUTE_MS)],
    );
    const [started] = await startGapRepairs(pipeline.runtime);
    expect(started).toMatchObject({ calls: 0 });
    await settleGapRepairs(pipeline.runtime);
    expect((await gapRows()).find((g) => g.gap_from.getTime() === now - 70 * MINUTE_MS)).toMatchObject({
      status: 'repaired',
      points_stored: 0,
      note: expect.stringContaining('already covered'),
    });
  });

  it('resumes a repair whose jobs vanished from Redis, adding each pending job once', async () => {
    await pipeline.stop();
    pipeline = new InProcessPipeline(scenario.config({ COIN_IDS: coins.join(','), GAP_REPAIR_MAX_COINS: '3' }));
    await tick('t-16', 16);
    await tick('t-5', 5);
    expect(await detectGaps(scenario.db.pool, rules, now)).toHaveLength(1);
    const [repair] = await startGapRepairs(pipeline.runtime);
    expect(repair!.calls).toBe(3);
    expect(await resumeHistoryRuns(pipeline.runtime)).toEqual([]); // its jobs are there

    await deletePrefix(scenario.prefix); // Redis lost everything (no worker has taken a job yet)
    expect(await pipeline.runtime.queue('fetch').getJob(jobIds.history(repair!.historyRunId, 0))).toBeUndefined();
    expect(await resumeHistoryRuns(pipeline.runtime)).toEqual([{ historyRunId: repair!.historyRunId, jobs: 3 }]);
    expect(await resumeHistoryRuns(pipeline.runtime)).toEqual([]);
    expect(await pipeline.runtime.queue('fetch').getJobCounts('prioritized', 'waiting')).toEqual({
      prioritized: 3,
      waiting: 0,
    });

    await pipeline.start(['fetch']);
    await waitFor(
      'the resumed repair finished',
      async () => (await settleGapRepairs(pipeline.runtime), (await gapRows()).at(-1)!.status === 'repaired'),
      30_000,
    );
    const calls = await scenario.db.pool.query<{ calls: number }>(
      `select sum(calls)::int as calls from pipeline.history_items where history_run_id = $1`,
      [repair!.historyRunId],
    );
    expect(calls.rows[0]!.calls).toBe(3);
  });
});
