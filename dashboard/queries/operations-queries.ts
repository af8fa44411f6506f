import type pg from 'pg';

/**
 * The operations view of the Pipeline page (issue 17): per-tick trends from the run ledger
 * (pipeline.pipeline_runs: durations, rows, rejects, the queue backlog recorded at planning) and the
 * dbt runs (pipeline.transform_runs), bucketed here so that a week of 1-minute ticks is a few hundred
 * points per series, not 10,080.
 */

/** Each window the view offers and the bucket width it is cut into: at most 360 buckets. */
export const OPERATIONS_WINDOWS = {
  '1h': { seconds: 3_600, bucketSeconds: 60 },
  '6h': { seconds: 21_600, bucketSeconds: 60 },
  '24h': { seconds: 86_400, bucketSeconds: 300 },
  '7d': { seconds: 604_800, bucketSeconds: 1_800 },
} as const;
export type OperationsWindow = keyof typeof OPERATIONS_WINDOWS;
export const OPERATIONS_WINDOW_KEYS = Object.keys(OPERATIONS_WINDOWS) as OperationsWindow[];

/**
 * One bucket: the ticks planned in it (by pipeline_runs.started_at, the planning time) and the dbt
 * runs started in it. A value over ticks is null when no tick in the bucket has it (none finished,
 * none transformed, queue depth not recorded); counts and sums are 0 for an empty bucket.
 */
export interface OperationsBucket {
  readonly start: Date;
  readonly ticks: number;
  /** Planned → every batch settled (finished_at − started_at), over the ticks that finished. */
  readonly loadedSecondsAvg: number | null;
  readonly loadedSecondsMax: number | null;
  /** Planned → its transform finished (succeeded, or coalesced into another run), over those ticks. */
  readonly transformedSecondsAvg: number | null;
  readonly transformedSecondsMax: number | null;
  readonly rowsLoaded: number;
  /** rowsLoaded / ticks. */
  readonly rowsPerTick: number | null;
  /** Records quarantined (pipeline_runs.records_rejected, counted with each quarantine insert). */
  readonly rejected: number;
  readonly rejectedPerTick: number | null;
  /** The most fetch / load jobs a tick of the bucket found waiting when it was planned. */
  readonly fetchJobsWaitingMax: number | null;
  readonly loadJobsWaitingMax: number | null;
  readonly transformRuns: number;
  /** dbt run time (transform_runs.duration_ms) of the runs that finished. */
  readonly transformSecondsAvg: number | null;
  readonly transformSecondsMax: number | null;
}

export interface OperationsReport {
  readonly window: OperationsWindow;
  readonly bucketSeconds: number;
  /** Start of the first bucket and end of the window (now). */
  readonly from: Date;
  readonly to: Date;
  /** Every bucket of the window, oldest first, empty ones included (charts show them as gaps). */
  readonly buckets: OperationsBucket[];
}

/*
 * Buckets are aligned on the epoch (date_bin), so a bucket's contents do not change as the window
 * slides; the newest bucket is the one holding now(). The window's start is a stable expression (not
 * a joined row), so both ledger reads are range scans of their started_at index. Values are
 * aggregated as float8 (extract() returns numeric, slower to average and sent to node as a string).
 */
const FIRST_START = `(date_bin($1::interval, now(), timestamptz 'epoch') - $1::interval * ($2::int - 1))`;
const OPERATIONS_SQL = `
with buckets as (
  select generate_series(${FIRST_START}, now(), $1::interval) as bucket_start
),
ticks as (
  select date_bin($1::interval, r.started_at, timestamptz 'epoch') as bucket_start,
         count(*)::int as ticks,
         avg(extract(epoch from r.finished_at - r.started_at)::float8) as loaded_avg,
         max(extract(epoch from r.finished_at - r.started_at)::float8) as loaded_max,
         avg(extract(epoch from r.transform_finished_at - r.started_at)::float8)
           filter (where r.transform_status in ('succeeded', 'coalesced')) as transformed_avg,
         max(extract(epoch from r.transform_finished_at - r.started_at)::float8)
           filter (where r.transform_status in ('succeeded', 'coalesced')) as transformed_max,
         sum(r.rows_loaded::float8) as rows_loaded,
         sum(r.records_rejected::float8) as rejected,
         max(r.fetch_jobs_waiting) as fetch_waiting,
         max(r.load_jobs_waiting) as load_waiting
    from pipeline.pipeline_runs r
   where r.started_at >= ${FIRST_START} and r.started_at <= now()
   group by 1
),
transforms as (
  select date_bin($1::interval, t.started_at, timestamptz 'epoch') as bucket_start,
         count(*)::int as runs,
         avg(t.duration_ms::float8) / 1000 as seconds_avg,
         max(t.duration_ms)::float8 / 1000 as seconds_max
    from pipeline.transform_runs t
   where t.started_at >= ${FIRST_START} and t.started_at <= now()
   group by 1
)
select k.bucket_start as "start",
       coalesce(ti.ticks, 0) as ticks,
       ti.loaded_avg as "loadedSecondsAvg", ti.loaded_max as "loadedSecondsMax",
       ti.transformed_avg as "transformedSecondsAvg", ti.transformed_max as "transformedSecondsMax",
       coalesce(ti.rows_loaded, 0) as "rowsLoaded", ti.rows_loaded / ti.ticks as "rowsPerTick",
       coalesce(ti.rejected, 0) as rejected, ti.rejected / ti.ticks as "rejectedPerTick",
       ti.fetch_waiting as "fetchJobsWaitingMax", ti.load_waiting as "loadJobsWaitingMax",
       coalesce(tr.runs, 0) as "transformRuns",
       tr.seconds_avg as "transformSecondsAvg", tr.seconds_max as "transformSecondsMax",
       now() as until
  from buckets k
  left join ticks ti using (bucket_start)
  left join transforms tr using (bucket_start)
 order by k.bucket_start`;

/** The statement and its parameters for `window` (exported for the EXPLAIN in its test). */
export function operationsQuery(window: OperationsWindow): { text: string; values: unknown[] } {
  const { seconds, bucketSeconds } = OPERATIONS_WINDOWS[window];
  return { text: OPERATIONS_SQL, values: [`${bucketSeconds} seconds`, seconds / bucketSeconds] };
}

/** The operations trends over `window`, one entry per bucket. */
export async function operations(pool: pg.Pool, window: OperationsWindow): Promise<OperationsReport> {
  const { rows } = await pool.query<OperationsBucket & { until: Date }>(operationsQuery(window));
  const buckets = rows.map(({ until: _until, ...bucket }) => bucket);
  return {
    window,
    bucketSeconds: OPERATIONS_WINDOWS[window].bucketSeconds,
    from: buckets[0]!.start,
    to: rows[0]!.until,
    buckets,
  };
}
