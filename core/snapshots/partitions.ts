import type pg from 'pg';

/**
 * Daily partitions of raw.coin_market_snapshots. The scheduler creates them ahead of time; a load
 * creates any it lacks (a stale coin's last_updated can be days old) before its transaction starts,
 * because partition DDL locks the parent table.
 */
// Days known to have a partition, per pool (a process may talk to several databases, e.g. in benchmarks).
const knownByPool = new WeakMap<pg.Pool, Set<string>>();
const knownDays = (pool: pg.Pool) => {
  let days = knownByPool.get(pool);
  if (!days) knownByPool.set(pool, (days = new Set()));
  return days;
};

// A plain UTC timestamp's day is its first ten characters (called per record); offsets, 24:00 or leap
// seconds go through date arithmetic.
const UTC_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d(?:\.\d+)?Z$/;
const dayOf = (iso: string) => (UTC_TIMESTAMP.test(iso) ? iso.slice(0, 10) : new Date(iso).toISOString().slice(0, 10));

export async function ensurePartitions(pool: pg.Pool, fromDay: string, toDay: string): Promise<number> {
  const result = await pool.query<{ created: number }>(
    'select raw.ensure_snapshot_partitions($1::date, $2::date) as created',
    [fromDay, toDay],
  );
  const known = knownDays(pool);
  for (
    let d = new Date(`${fromDay}T00:00:00Z`);
    d <= new Date(`${toDay}T00:00:00Z`);
    d.setUTCDate(d.getUTCDate() + 1)
  ) {
    known.add(d.toISOString().slice(0, 10));
  }
  return result.rows[0]?.created ?? 0;
}

/** Ensures a partition exists for every day among the given timestamps. */
export async function ensurePartitionsFor(pool: pg.Pool, timestamps: readonly string[]): Promise<void> {
  const known = knownDays(pool);
  const missing = [...new Set(timestamps.map(dayOf))].filter((day) => !known.has(day)).sort();
  for (const day of missing) await ensurePartitions(pool, day, day);
}

/** Creates today's and the next `daysAhead` partitions. */
export async function ensurePartitionsAhead(pool: pg.Pool, daysAhead: number, now = new Date()): Promise<number> {
  const today = now.toISOString().slice(0, 10);
  const last = new Date(now.getTime() + daysAhead * 86_400_000).toISOString().slice(0, 10);
  return ensurePartitions(pool, today, last);
}

/** Drops the cache, e.g. after retention removed partitions. */
export function forgetPartitions(pool: pg.Pool): void {
  knownByPool.delete(pool);
}
