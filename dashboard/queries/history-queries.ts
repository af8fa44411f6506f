import type pg from 'pg';
import { redactForLog } from '../../core/log/logger.js';

/** One history run (a backfill, the first-start backfill or a gap repair) and where it stands. */
export interface HistoryRunReport {
  readonly historyRunId: string;
  readonly kind: string;
  readonly status: string;
  readonly rangeFrom: Date;
  readonly rangeTo: Date;
  readonly coins: number;
  readonly calls: { readonly total: number; readonly done: number; readonly failed: number; readonly pending: number };
  readonly callsMade: number;
  readonly rowsStored: number;
  readonly pointsRejected: number;
  readonly createdAt: Date;
  readonly finishedAt: Date | null;
  /** Failed calls' reasons, at most three, as CoinGecko answered (e.g. a 404 for an unknown coin). */
  readonly failures: ReadonlyArray<{ readonly coinId: string; readonly error: string }>;
}

/**
 * The newest history runs with their progress, from pipeline.history_runs and history_items (the
 * items' primary key starts with the run id, so each run's counts are one index range).
 */
export async function historyRuns(pool: pg.Pool, limit: number): Promise<HistoryRunReport[]> {
  const { rows } = await pool.query<
    Omit<HistoryRunReport, 'calls' | 'failures'> & {
      total: number;
      done: number;
      failed: number;
      pending: number;
      failures: Array<{ coinId: string; error: string }> | null;
    }
  >(
    `select r.history_run_id as "historyRunId", r.kind, r.status, r.range_from as "rangeFrom", r.range_to as "rangeTo",
            r.coins, r.created_at as "createdAt", r.finished_at as "finishedAt",
            i.total, i.done, i.failed, i.pending, i.calls_made::int as "callsMade", i.rows_stored::int8::float8 as "rowsStored",
            i.points_rejected::int as "pointsRejected", f.failures
       from (select * from pipeline.history_runs order by created_at desc, history_run_id desc limit $1) r
       cross join lateral (
         select count(*)::int as total,
                count(*) filter (where status = 'done')::int as done,
                count(*) filter (where status = 'failed')::int as failed,
                count(*) filter (where status = 'pending')::int as pending,
                coalesce(sum(calls), 0) as calls_made,
                coalesce(sum(rows_inserted), 0) as rows_stored,
                coalesce(sum(points_rejected), 0) as points_rejected
           from pipeline.history_items where history_run_id = r.history_run_id) i
       cross join lateral (
         select json_agg(json_build_object('coinId', coin_id, 'error', error) order by item_no) as failures
           from (select coin_id, error, item_no from pipeline.history_items
                  where history_run_id = r.history_run_id and status = 'failed' order by item_no limit 3) x) f
      order by r.created_at desc, r.history_run_id desc`,
    [limit],
  );
  return rows.map(({ total, done, failed, pending, failures, ...run }) => ({
    ...run,
    calls: { total, done, failed, pending },
    failures: (failures ?? []).map((f) => ({ coinId: f.coinId, error: redactForLog(f.error ?? '') })),
  }));
}
