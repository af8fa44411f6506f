import type pg from 'pg';
import type { RunStatus, TransformStatus } from '../../core/db/entities/pipeline-run.js';
import { redactForLog } from '../../core/log/logger.js';

/** One row of pipeline.pipeline_runs as the API returns it (camelCase; timestamps as ISO strings in JSON). */
export interface RunSummary {
  readonly runId: string;
  readonly trigger: string;
  readonly status: RunStatus;
  readonly scheduledAt: Date | null;
  readonly startedAt: Date;
  readonly finishedAt: Date | null;
  /** finishedAt - startedAt; null while the run is still going. */
  readonly durationMs: number | null;
  readonly coinsPlanned: number;
  readonly batchesPlanned: number;
  readonly batchesFetched: number;
  readonly batchesLoaded: number;
  readonly batchesFailed: number;
  /** Batches a newer tick superseded before they were fetched (status 'superseded' when none failed). */
  readonly batchesSuperseded: number;
  readonly rowsLoaded: number;
  readonly rowsDuplicate: number;
  readonly recordsRejected: number;
  readonly transformJobId: string | null;
  readonly transformStatus: TransformStatus;
  readonly transformFinishedAt: Date | null;
  readonly error: string | null;
}

export const DEFAULT_RUNS_LIMIT = 50;
export const MAX_RUNS_LIMIT = 500;
export const LIMIT_ERROR = `limit must be an integer from 1 to ${MAX_RUNS_LIMIT}`;

/** `?limit=`: absent means the default; anything but a whole number in range (or a repeated parameter) is refused. */
export function parseLimit(raw: unknown): number | undefined {
  if (raw === undefined) return DEFAULT_RUNS_LIMIT;
  if (typeof raw !== 'string' || !/^[0-9]{1,4}$/.test(raw)) return undefined;
  const limit = Number(raw);
  return limit >= 1 && limit <= MAX_RUNS_LIMIT ? limit : undefined;
}

// Newest first; the run id breaks ties so the order is stable. Uses pipeline_runs_started_idx.
const RECENT_RUNS_SQL = `
  select run_id, trigger, status, scheduled_at, started_at, finished_at,
         coins_planned, batches_planned, batches_fetched, batches_loaded, batches_failed, batches_superseded,
         rows_loaded::text as rows_loaded, rows_duplicate::text as rows_duplicate, records_rejected,
         transform_job_id, transform_status, transform_finished_at, error
    from pipeline.pipeline_runs
   order by started_at desc, run_id desc
   limit $1`;

interface RunRow {
  run_id: string;
  trigger: string;
  status: RunStatus;
  scheduled_at: Date | null;
  started_at: Date;
  finished_at: Date | null;
  coins_planned: number;
  batches_planned: number;
  batches_fetched: number;
  batches_loaded: number;
  batches_failed: number;
  batches_superseded: number;
  rows_loaded: string;
  rows_duplicate: string;
  records_rejected: number;
  transform_job_id: string | null;
  transform_status: TransformStatus;
  transform_finished_at: Date | null;
  error: string | null;
}

export async function recentRuns(pool: pg.Pool, limit: number): Promise<RunSummary[]> {
  const { rows } = await pool.query<RunRow>(RECENT_RUNS_SQL, [limit]);
  return rows.map((row) => ({
    runId: row.run_id,
    trigger: row.trigger,
    status: row.status,
    scheduledAt: row.scheduled_at,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    durationMs: row.finished_at ? row.finished_at.getTime() - row.started_at.getTime() : null,
    coinsPlanned: row.coins_planned,
    batchesPlanned: row.batches_planned,
    batchesFetched: row.batches_fetched,
    batchesLoaded: row.batches_loaded,
    batchesFailed: row.batches_failed,
    batchesSuperseded: row.batches_superseded,
    rowsLoaded: Number(row.rows_loaded),
    rowsDuplicate: Number(row.rows_duplicate),
    recordsRejected: row.records_rejected,
    transformJobId: row.transform_job_id,
    transformStatus: row.transform_status,
    transformFinishedAt: row.transform_finished_at,
    // Error texts come from failed jobs; the process's configured secrets are masked like in logs.
    error: row.error === null ? null : redactForLog(row.error),
  }));
}
