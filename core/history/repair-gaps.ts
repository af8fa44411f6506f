import type { Runtime } from '../runtime.js';
import { startHistoryRun } from './start-history-run.js';

/** The repair run of a gap: its id is the gap's, so starting it twice records and adds nothing. */
export const repairRunId = (gapId: number) => `g${gapId}`;

export interface StartedRepair {
  readonly gapId: number;
  readonly historyRunId: string;
  readonly calls: number;
  readonly coins: number;
}

/**
 * Starts a repair history run for every open gap (kind 'repair', behind every tick's calls): the
 * first `coins` coins of the tick after the gap, in the ticks' rank order, over [gap_from, gap_to].
 * Ranges an earlier backfill or repair already fetched are left out (planHistoryItems), so a gap
 * inside backfilled history costs no call. A gap whose coins is 0 (GAP_REPAIR_MAX_COINS=0) is
 * marked unrepairable instead.
 */
export async function startGapRepairs(runtime: Runtime): Promise<StartedRepair[]> {
  const { pool } = runtime;
  await pool.query(
    `update pipeline.coverage_gaps
        set status = 'unrepairable', repaired_at = now(), note = 'not repaired: GAP_REPAIR_MAX_COINS is 0'
      where status = 'open' and coins = 0`,
  );
  const { rows: gaps } = await pool.query<{ gap_id: string; from_ms: string; to_ms: string; coins: number }>(
    `select gap_id, extract(epoch from gap_from) * 1000 as from_ms, extract(epoch from gap_to) * 1000 as to_ms, coins
       from pipeline.coverage_gaps where status = 'open' order by gap_from limit 100`,
  );
  const started: StartedRepair[] = [];
  for (const gap of gaps) {
    const gapId = Number(gap.gap_id);
    const [fromMs, toMs] = [Number(gap.from_ms), Number(gap.to_ms)];
    const coinIds = await coinsAfter(runtime, toMs, gap.coins);
    const historyRunId = repairRunId(gapId);
    const run = await startHistoryRun(runtime, {
      historyRunId,
      kind: 'repair',
      coinIds,
      fromMs,
      toMs,
      minSpanMs: 0,
      requested: { gapId, gapFrom: new Date(fromMs).toISOString(), gapTo: new Date(toMs).toISOString() },
    });
    await pool.query(
      `update pipeline.coverage_gaps set status = 'repairing', history_run_id = $2 where gap_id = $1 and status = 'open'`,
      [gapId, historyRunId],
    );
    started.push({ gapId, historyRunId, calls: run.items, coins: run.coins });
  }
  return started;
}

/** The first `limit` coins planned by the tick that ended the gap (its batches are in rank order). */
async function coinsAfter(runtime: Runtime, gapToMs: number, limit: number): Promise<string[]> {
  const { rows } = await runtime.pool.query<{ coin_id: string }>(
    `select c.coin_id
       from (select run_id from pipeline.pipeline_runs
              where started_at = to_timestamp($1 / 1000.0) and batches_loaded > 0 order by run_id limit 1) r
       join pipeline.pipeline_batches b using (run_id)
       cross join lateral unnest(b.coin_ids) with ordinality as c(coin_id, n)
      order by b.batch_no, c.n
      limit $2`,
    [gapToMs, limit],
  );
  return rows.map((r) => r.coin_id);
}

/**
 * Gives every gap whose repair run finished its outcome: done → repaired; partial → repaired, with
 * the coins that failed in the note (e.g. a coin CoinGecko no longer knows); failed → unrepairable.
 * CoinGecko's history is 5-minutely at best, so a gap shorter than that may hold no point: it is
 * repaired all the same, with 0 points and a note saying why.
 */
export async function settleGapRepairs(runtime: Runtime): Promise<Array<{ gapId: number; status: string }>> {
  const { rows } = await runtime.pool.query<{ gap_id: string; status: string }>(
    `with outcome as (
       select g.gap_id, r.status as run_status, r.finished_at,
              coalesce(sum(i.rows_inserted), 0)::int as points,
              count(*) filter (where i.status = 'failed')::int as failed,
              count(i.item_no)::int as items,
              string_agg(distinct i.coin_id, ', ') filter (where i.status = 'failed') as failed_coins
         from pipeline.coverage_gaps g
         join pipeline.history_runs r using (history_run_id)
         left join pipeline.history_items i using (history_run_id)
        where g.status = 'repairing' and r.status <> 'running'
        group by g.gap_id, r.status, r.finished_at
     )
     update pipeline.coverage_gaps g
        set status = case when o.run_status = 'failed' then 'unrepairable' else 'repaired' end,
            repaired_at = coalesce(o.finished_at, now()),
            points_stored = o.points,
            note = case
              when o.run_status = 'failed' then 'every call of the repair failed: see its history run'
              when o.items = 0 then 'already covered by earlier history (a backfill or repair fetched this range)'
              when o.run_status = 'partial' then o.failed || ' of ' || o.items || ' calls failed (' || left(o.failed_coins, 500) || ')'
              when o.points = 0 then 'no new point: CoinGecko''s history is 5-minutely at best, and none fell inside this gap'
            end
       from outcome o
      where g.gap_id = o.gap_id
      returning g.gap_id, g.status`,
  );
  return rows.map((r) => ({ gapId: Number(r.gap_id), status: r.status }));
}
