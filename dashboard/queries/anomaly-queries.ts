import { createHash } from 'node:crypto';
import type pg from 'pg';
import type { CsvQuery } from '../api/csv-export.js';

/**
 * The anomaly feed: every hour fct_price_anomalies flagged (is_anomaly) across coins, newest first,
 * with the coin's name and market-cap rank from dim_coins. The window is measured back from the newest
 * hour the mart has scored (not the clock), like the coin chart's ranges: the feed changes only when a
 * transform run does, so the response cache can keep it, and a stalled pipeline still shows its last
 * day. Every filter is a bind parameter of one fixed statement (no SQL text built from input).
 *
 * Speed: the mart's (is_anomaly, bucket_start) index (dbt config of fct_price_anomalies) reads just
 * the flagged rows of the window, newest first; each joins dim_coins by its unique coin_id.
 */
export const ANOMALY_WINDOWS = { '24h': '24 hours', '7d': '7 days' } as const;
export type AnomalyWindow = keyof typeof ANOMALY_WINDOWS;
export const ANOMALY_DIRECTIONS = ['both', 'spike', 'drop'] as const;
export type AnomalyDirection = (typeof ANOMALY_DIRECTIONS)[number];

export interface AnomalyFilters {
  readonly window: AnomalyWindow;
  /** Market-cap rank band, inclusive; rankFrom 1 with no rankTo also keeps coins without a rank. */
  readonly rankFrom: number;
  readonly rankTo?: number | undefined;
  /** |robust z| at least this; none: every flagged hour. */
  readonly minZ?: number | undefined;
  readonly direction: AnomalyDirection;
}

/** One flagged hour of one coin. */
export interface FeedAnomaly {
  readonly coinId: string;
  readonly name: string | null;
  readonly symbol: string | null;
  readonly rank: number | null;
  /** Start of the hour, ISO 8601 UTC. */
  readonly time: string;
  readonly direction: 'spike' | 'drop';
  readonly zScore: number;
  /** Simple return of the hour (0.05 = +5%). */
  readonly return1h: number;
  readonly closePrice: number;
}

export interface AnomalyFeed {
  /** The newest hour scored (the window ends with it); null before any hour was. */
  readonly until: string | null;
  readonly total: number;
  readonly anomalies: FeedAnomaly[];
}

const CSV_COLUMNS = [
  'time',
  'coin_id',
  'symbol',
  'name',
  'rank',
  'direction',
  'z_score',
  'return_1h',
  'close_price',
] as const;

export class AnomalyQueries {
  constructor(
    private readonly pool: pg.Pool,
    private readonly schema: string,
  ) {
    if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) throw new Error(`AnomalyQueries: invalid schema name "${schema}"`);
  }

  /**
   * The filtered rows, from columns the mart's (is_anomaly, bucket_start, robust_z_score, coin_id)
   * index holds (an index-only scan; direction is the sign of z, as the model sets it) and the coin's
   * rank: $1 window, $2 rankFrom, $3 rankTo (null: no upper bound), $4 minZ, $5 direction ('both' or
   * one). The `newest` CTE reads one index entry.
   */
  private matched(): string {
    const anomalies = `"${this.schema}".fct_price_anomalies`;
    return `newest as (select max(bucket_start) as hour from ${anomalies}),
       matched as (
         select a.coin_id, a.bucket_start, a.robust_z_score
           from ${anomalies} a
           join "${this.schema}".dim_coins d on d.coin_id = a.coin_id
          where a.is_anomaly
            and a.bucket_start > (select hour from newest) - $1::interval
            and abs(a.robust_z_score) >= $4::float8
            and ($5::text = 'both' or ($5::text = 'spike') = (a.robust_z_score > 0))
            and (($2::int = 1 and $3::int is null) or d.market_cap_rank between $2::int and coalesce($3::int, 2147483647))
       )`;
  }

  /** The row each matched hour shows: its return and close from the mart, its coin's name and rank. */
  private details(from: string, columns: string): string {
    return `select ${columns}
         from ${from} m
         join "${this.schema}".fct_price_anomalies a on a.coin_id = m.coin_id and a.bucket_start = m.bucket_start
         join "${this.schema}".dim_coins d on d.coin_id = m.coin_id
        order by m.bucket_start desc, abs(m.robust_z_score) desc, m.coin_id`;
  }

  private values(filters: AnomalyFilters): unknown[] {
    return [
      ANOMALY_WINDOWS[filters.window],
      filters.rankFrom,
      filters.rankTo ?? null,
      filters.minZ ?? 0,
      filters.direction,
    ];
  }

  /**
   * One page of the feed, newest hour first, then the largest |z|, and how many rows match. The count
   * and the page's keys come from the index alone; only the page's rows are read from the table.
   */
  async page(filters: AnomalyFilters, page: number, pageSize: number): Promise<AnomalyFeed> {
    const text = `with ${this.matched()},
       counted as (select count(*)::int as total from matched),
       paged as (
         select * from matched order by bucket_start desc, abs(robust_z_score) desc, coin_id limit $6 offset $7
       ),
       shown as (${this.details(
         'paged',
         `m.coin_id as "coinId", d.coin_name as name, d.coin_symbol as symbol, d.market_cap_rank as rank,
                to_char(m.bucket_start at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') as time,
                a.anomaly_direction as direction, m.robust_z_score::float8 as "zScore",
                a.return_1h::float8 as "return1h", a.close_price::float8 as "closePrice"`,
       )})
       select (select total from counted) as total,
              (select to_char(hour at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') from newest) as until,
              coalesce((select json_agg(s order by s.time desc, abs(s."zScore") desc, s."coinId") from shown s), '[]') as anomalies`;
    const { rows } = await this.pool.query<AnomalyFeed>({
      name: `cdp_anomalies_${createHash('sha1').update(text).digest('hex').slice(0, 20)}`,
      text,
      values: [...this.values(filters), pageSize, (page - 1) * pageSize],
    });
    return rows[0]!;
  }

  /** Every row of the feed as CSV (csv-export.ts streams it), in the page's order. */
  csv(filters: AnomalyFilters): CsvQuery {
    return {
      text: `with ${this.matched()}
       ${this.details(
         'matched',
         `to_char(m.bucket_start at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') as time, m.coin_id,
                d.coin_symbol as symbol, d.coin_name as name, d.market_cap_rank as rank,
                a.anomaly_direction as direction, m.robust_z_score::float8 as z_score,
                a.return_1h::float8 as return_1h, a.close_price::float8 as close_price`,
       )}`,
      values: this.values(filters),
      columns: CSV_COLUMNS,
    };
  }
}
