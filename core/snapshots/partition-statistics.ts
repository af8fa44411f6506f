import type pg from 'pg';

/**
 * Fresh planner statistics for the partitions loads are writing to. Autovacuum analyzes a partition
 * once its changes pass 50 rows + 10% of its size, but only at its next visit (autovacuum_naptime, and
 * only if a worker is free), and never the partitioned parent: a day's new partition can be planned
 * for minutes with no statistics at all, as if it held a few pages. The transform's maintenance step
 * calls this after each run; it is cheap when nothing is due (one catalog query) and ANALYZE samples
 * at most 300 × default_statistics_target rows however large the partition.
 */

/** A partition is analyzed again once it has at least this many times the pages it had when last analyzed… */
const GROWTH_FACTOR = 2;
/** …or once an hour while it grows (its histograms' upper end moves with every tick). */
const MAX_AGE_MS = 3_600_000;

export interface PartitionStatisticsOutcome {
  /** Partitions analyzed now, by day (YYYY-MM-DD). */
  readonly analyzed: readonly string[];
}

/**
 * Analyzes today's and yesterday's (UTC) partitions when they have rows and their statistics are
 * missing (never analyzed), outgrown (GROWTH_FACTOR) or older than an hour while rows kept arriving.
 * ANALYZE takes a SHARE UPDATE EXCLUSIVE lock on the partition only, which loads do not wait for.
 */
export async function refreshPartitionStatistics(
  pool: pg.Pool,
  now: Date = new Date(),
): Promise<PartitionStatisticsOutcome> {
  const today = now.toISOString().slice(0, 10);
  const yesterday = new Date(now.getTime() - 86_400_000).toISOString().slice(0, 10);
  // relpages/reltuples are what the last ANALYZE (or VACUUM) saw; pg_relation_size is now. Both are
  // exact and immediate, unlike the cumulative statistics' change counters, which lag.
  const due = await pool.query<{ day: string }>(
    `select to_char(d.day, 'YYYY-MM-DD') as day
       from unnest($1::date[]) as d(day)
       join pg_class c on c.oid = to_regclass('raw.coin_market_snapshots_p' || to_char(d.day, 'YYYYMMDD'))
       left join pg_stat_user_tables s on s.relid = c.oid
       cross join lateral (select pg_relation_size(c.oid) / current_setting('block_size')::int as pages) p
      where p.pages > 0
        and (c.reltuples < 0 or c.relpages = 0
             or p.pages >= c.relpages * $2::float8
             or (p.pages > c.relpages
                 and coalesce(greatest(s.last_analyze, s.last_autoanalyze), '-infinity') < $3::timestamptz))
      order by d.day`,
    [[yesterday, today], GROWTH_FACTOR, new Date(now.getTime() - MAX_AGE_MS).toISOString()],
  );
  const analyzed: string[] = [];
  for (const { day } of due.rows) {
    await pool.query('select raw.analyze_snapshot_partition($1::date)', [day]);
    analyzed.push(day);
  }
  return { analyzed };
}
