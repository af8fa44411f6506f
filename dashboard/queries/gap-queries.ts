import type pg from 'pg';

export interface CoverageGap {
  readonly gapId: number;
  readonly from: Date;
  readonly to: Date;
  readonly seconds: number;
  /** Coins the repair fetches (GAP_REPAIR_MAX_COINS of those tracked). */
  readonly coins: number;
  readonly coinsTracked: number;
  readonly status: 'open' | 'repairing' | 'repaired' | 'unrepairable';
  readonly detectedAt: Date;
  readonly repairedAt: Date | null;
  readonly historyRunId: string | null;
  /** History points the repair stored (null until it finishes). */
  readonly pointsStored: number | null;
  /** Calls the repair made so far, retries included. */
  readonly calls: number;
  readonly note: string | null;
}

/** The newest coverage gaps (pipeline.coverage_gaps, gap_from's unique index), open or repaired, and how many are open. */
export async function coverageGaps(pool: pg.Pool, limit: number): Promise<{ gaps: CoverageGap[]; open: number }> {
  const [gaps, open] = await Promise.all([
    pool.query<CoverageGap>(
      `select g.gap_id::int as "gapId", g.gap_from as "from", g.gap_to as "to",
              extract(epoch from g.gap_to - g.gap_from)::float8 as seconds, g.coins, g.coins_tracked as "coinsTracked",
              g.status, g.detected_at as "detectedAt", g.repaired_at as "repairedAt", g.history_run_id as "historyRunId",
              g.points_stored as "pointsStored",
              coalesce((select sum(i.calls) from pipeline.history_items i where i.history_run_id = g.history_run_id), 0)::int as calls,
              g.note
         from pipeline.coverage_gaps g order by g.gap_from desc limit $1`,
      [limit],
    ),
    pool.query<{ n: number }>(
      `select count(*)::int as n from pipeline.coverage_gaps where status in ('open', 'repairing')`,
    ),
  ]);
  return { gaps: gaps.rows, open: open.rows[0]?.n ?? 0 };
}
