import type pg from 'pg';

export interface GapRules {
  /** A stretch longer than this with no tick that loaded is a gap (GAP_THRESHOLD). */
  readonly thresholdMs: number;
  /** How far back to look (GAP_REPAIR_LOOKBACK, bounded by the raw retention). */
  readonly lookbackMs: number;
  /** Coins a repair fetches (GAP_REPAIR_MAX_COINS). */
  readonly maxCoins: number;
}

export interface DetectedGap {
  readonly gapId: number;
  readonly fromMs: number;
  readonly toMs: number;
  readonly coins: number;
}

/**
 * Finds the gaps in the pipeline's coverage within the look-back window and records each new one in
 * pipeline.coverage_gaps (status 'open'); returns the ones recorded by this call.
 *
 * Coverage is read pipeline-wide from the run ledger (pipeline_runs_started_idx): a tick covers its
 * start time when at least one of its batches loaded. A gap is the stretch between two consecutive
 * covering ticks further apart than the threshold. That reads one row per tick (1,440 a day at the
 * default interval) whatever the number of coins, where per-coin observed_at would scan millions of
 * snapshots at 15,000 coins. What it cannot see: a tick that loaded some batches but not others (a
 * per-coin hole); the stale-coins gauge and list report those. A gap is recorded only once no tick
 * started inside it is still running (a late tick may yet load and split it), and its start
 * identifies it, so a second pass or a second scheduler records nothing again.
 */
export async function detectGaps(pool: pg.Pool, rules: GapRules, now = Date.now()): Promise<DetectedGap[]> {
  const { rows } = await pool.query<{ gap_id: string; from_ms: string; to_ms: string; coins: number }>(
    `with covered as (
       select run_id, started_at from pipeline.pipeline_runs
        where started_at > to_timestamp($1 / 1000.0) and batches_loaded > 0
     ), edges as (
       select lag(started_at) over (order by started_at) as gap_from, started_at as gap_to, run_id as next_run
         from covered
     ), gaps as (
       select e.* from edges e
        where e.gap_from is not null and e.gap_to - e.gap_from > make_interval(secs => $2 / 1000.0)
          and not exists (select 1 from pipeline.pipeline_runs r
                           where r.finished_at is null and r.started_at > e.gap_from and r.started_at < e.gap_to)
     )
     insert into pipeline.coverage_gaps (gap_from, gap_to, coins, coins_tracked)
     select g.gap_from, g.gap_to, least(t.tracked, $3), t.tracked
       from gaps g
       cross join lateral (select coalesce(sum(cardinality(b.coin_ids)), 0)::int as tracked
                             from pipeline.pipeline_batches b where b.run_id = g.next_run) t
     on conflict (gap_from) do nothing
     returning gap_id, extract(epoch from gap_from) * 1000 as from_ms, extract(epoch from gap_to) * 1000 as to_ms, coins`,
    [now - rules.lookbackMs, rules.thresholdMs, rules.maxCoins],
  );
  return rows.map((r) => ({
    gapId: Number(r.gap_id),
    fromMs: Number(r.from_ms),
    toMs: Number(r.to_ms),
    coins: r.coins,
  }));
}
