import type pg from 'pg';
import { rawPartitionsDropped } from '../transform-metrics.js';
import { forgetPartitions } from '../../../core/snapshots/partitions.js';

export interface RetentionOutcome {
  readonly dropped: readonly string[];
  /** Old partitions kept because some of their snapshots have no candle yet. */
  readonly kept: readonly string[];
}

/**
 * Drops daily raw partitions (raw.coin_market_snapshots_pYYYYMMDD) whose whole day is older than
 * `retentionDays`, but only once every priced snapshot in them has its hourly and daily candle in
 * the marts, which keep the history. Runs after a successful transform, inside its single-flight job.
 */
export async function dropAgedRawPartitions(
  pool: pg.Pool,
  options: { retentionDays: number; martsSchema: string; vsCurrency: string; now?: Date },
): Promise<RetentionOutcome> {
  if (options.retentionDays <= 0) return { dropped: [], kept: [] };
  const marts = await pool.query<{ present: boolean }>(
    `select to_regclass($1) is not null and to_regclass($2) is not null as present`,
    [`"${options.martsSchema}"."fct_coin_candles_hourly"`, `"${options.martsSchema}"."fct_coin_candles_daily"`],
  );
  if (!marts.rows[0]?.present) return { dropped: [], kept: [] };
  const now = options.now ?? new Date();
  const cutoff = new Date(
    Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()) - options.retentionDays * 86_400_000,
  );
  const partitions = await pool.query<{ name: string }>(
    `select c.relname as name
       from pg_inherits i
       join pg_class c on c.oid = i.inhrelid
       join pg_class p on p.oid = i.inhparent
       join pg_namespace n on n.oid = p.relnamespace
      where n.nspname = 'raw' and p.relname = 'coin_market_snapshots' and c.relname ~ '^coin_market_snapshots_p[0-9]{8}$'
      order by c.relname`,
  );
  const dropped: string[] = [];
  const kept: string[] = [];
  for (const { name } of partitions.rows) {
    const digits = name.slice(-8);
    const day = new Date(`${digits.slice(0, 4)}-${digits.slice(4, 6)}-${digits.slice(6, 8)}T00:00:00Z`);
    // The partition holds [day, day + 1): it is aged out when day + 1 <= cutoff.
    if (day.getTime() + 86_400_000 > cutoff.getTime()) continue;
    // A candle built from history does not hold the hour's snapshots: only a snapshot candle (a day
    // with at least one) counts as the snapshot aggregated.
    const missing = await pool.query<{ missing: boolean }>(
      `select exists (
         select 1 from raw."${name}" s
          where s.current_price is not null and s.vs_currency = $1
            and (not exists (select 1 from "${options.martsSchema}".fct_coin_candles_hourly h
                              where h.coin_id = s.coin_id and h.bucket_start = date_trunc('hour', s.last_updated, 'UTC')
                                and h.source = 'snapshots')
              or not exists (select 1 from "${options.martsSchema}".fct_coin_candles_daily d
                              where d.coin_id = s.coin_id and d.bucket_start = date_trunc('day', s.last_updated, 'UTC')
                                and d.source <> 'history'))
       ) as missing`,
      [options.vsCurrency],
    );
    if (missing.rows[0]?.missing) {
      kept.push(name);
      continue;
    }
    // Through the owner's SECURITY DEFINER function: the transformer role may not drop raw tables itself.
    await pool.query('select raw.drop_snapshot_partition($1::date)', [
      `${digits.slice(0, 4)}-${digits.slice(4, 6)}-${digits.slice(6, 8)}`,
    ]);
    dropped.push(name);
    rawPartitionsDropped.inc();
  }
  if (dropped.length > 0) forgetPartitions(pool);
  return { dropped, kept };
}
