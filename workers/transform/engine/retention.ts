import type pg from 'pg';
import { rawPartitionDropsDeferred, rawPartitionsDropped } from '../transform-metrics.js';
import { forgetPartitions } from '../../../core/snapshots/partitions.js';
import { retentionCutoff } from '../../../core/snapshots/retention-window.js';

export interface RetentionOutcome {
  readonly dropped: readonly string[];
  /** Old partitions kept because some of their snapshots have no candle yet. */
  readonly kept: readonly string[];
  /** Old partitions whose drop gave up after the lock timeout (a load or a long read was using the table); the next run tries again. */
  readonly busy: readonly string[];
}

export interface RetentionOptions {
  readonly retentionDays: number;
  readonly martsSchema: string;
  readonly vsCurrency: string;
  /** How long one drop waits for the raw table's lock (TRANSFORM_RAW_RETENTION_LOCK_TIMEOUT). */
  readonly lockTimeoutMs: number;
  readonly now?: Date;
}

const NOTHING: RetentionOutcome = { dropped: [], kept: [], busy: [] };

/**
 * Drops daily raw partitions (raw.coin_market_snapshots_pYYYYMMDD) whose whole day is older than
 * `retentionDays`, but only once every priced snapshot in them has its hourly and daily candle in
 * the marts, which keep the history. Runs after a successful transform, inside its single-flight job.
 * A drop needs the raw table to itself for an instant: it waits at most `lockTimeoutMs` for that, so
 * loads never queue behind it for longer, and a partition it could not drop is retried next time.
 */
export async function dropAgedRawPartitions(pool: pg.Pool, options: RetentionOptions): Promise<RetentionOutcome> {
  const cutoff = retentionCutoff(options.retentionDays, options.now);
  if (cutoff === undefined) return NOTHING;
  const marts = await pool.query<{ present: boolean }>(
    `select to_regclass($1) is not null and to_regclass($2) is not null as present`,
    [`"${options.martsSchema}"."fct_coin_candles_hourly"`, `"${options.martsSchema}"."fct_coin_candles_daily"`],
  );
  if (!marts.rows[0]?.present) return NOTHING;
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
  const busy: string[] = [];
  for (const { name } of partitions.rows) {
    const digits = name.slice(-8);
    const day = `${digits.slice(0, 4)}-${digits.slice(4, 6)}-${digits.slice(6, 8)}`;
    // The partition holds [day, day + 1): it is aged out when day + 1 <= cutoff.
    if (Date.parse(`${day}T00:00:00Z`) + 86_400_000 > cutoff.getTime()) continue;
    // Through the parent, pruned to the day: the transformer role may read the parent, not each partition.
    // A candle built from history does not hold the hour's snapshots: only a snapshot candle (a day
    // with at least one) counts as the snapshot aggregated.
    const missing = await pool.query<{ missing: boolean }>(
      `select exists (
         select 1 from raw.coin_market_snapshots s
          where s.last_updated >= $2::date::timestamp at time zone 'UTC'
            and s.last_updated < ($2::date + 1)::timestamp at time zone 'UTC'
            and s.current_price is not null and s.vs_currency = $1
            and (not exists (select 1 from "${options.martsSchema}".fct_coin_candles_hourly h
                              where h.coin_id = s.coin_id and h.bucket_start = date_trunc('hour', s.last_updated, 'UTC')
                                and h.source = 'snapshots')
              or not exists (select 1 from "${options.martsSchema}".fct_coin_candles_daily d
                              where d.coin_id = s.coin_id and d.bucket_start = date_trunc('day', s.last_updated, 'UTC')
                                and d.source <> 'history'))
       ) as missing`,
      [options.vsCurrency, day],
    );
    if (missing.rows[0]?.missing) {
      kept.push(name);
      continue;
    }
    // Through the owner's SECURITY DEFINER function: the transformer role may not drop raw tables itself.
    const result = await pool.query<{ outcome: 'dropped' | 'absent' | 'busy' }>(
      'select raw.drop_snapshot_partition($1::date, $2::int) as outcome',
      [day, Math.round(options.lockTimeoutMs)],
    );
    const outcome = result.rows[0]?.outcome;
    if (outcome === 'busy') {
      busy.push(name);
      rawPartitionDropsDeferred.inc();
      continue;
    }
    if (outcome === 'dropped') {
      dropped.push(name);
      rawPartitionsDropped.inc();
    }
  }
  if (dropped.length > 0) forgetPartitions(pool);
  return { dropped, kept, busy };
}
