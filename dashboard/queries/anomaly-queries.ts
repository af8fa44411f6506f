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
  /** |robust z| at least this. */
  readonly minZ: number;
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
   * The filtered rows (shared by the page and the CSV): $1 window, $2 rankFrom, $3 rankTo (null: no
   * upper bound), $4 minZ, $5 direction ('both' or one). The `newest` CTE reads one index entry.
   */
  private selected(columns: string, tail: string): string {
    const anomalies = `"${this.schema}".fct_price_anomalies`;
    return `with newest as (select max(bucket_start) as hour from ${anomalies})
       select ${columns}
         from ${anomalies} a
         join "${this.schema}".dim_coins d on d.coin_id = a.coin_id
        where a.is_anomaly
          and a.bucket_start > (select hour from newest) - $1::interval
          and abs(a.robust_z_score) >= $4::float8
          and ($5::text = 'both' or a.anomaly_direction = $5::text)
          and (($2::int = 1 and $3::int is null) or d.market_cap_rank between $2::int and coalesce($3::int, 2147483647))
        ${tail}`;
  }

  private values(filters: AnomalyFilters): unknown[] {
    return [ANOMALY_WINDOWS[filters.window], filters.rankFrom, filters.rankTo ?? null, filters.minZ, filters.direction];
  }

  /** One page of the feed, newest hour first, then the largest |z|, and how many rows match. */
  async page(filters: AnomalyFilters, page: number, pageSize: number): Promise<AnomalyFeed> {
    const text = this.selected(
      `a.coin_id as "coinId", d.coin_name as name, d.coin_symbol as symbol, d.market_cap_rank as rank,
              to_char(a.bucket_start at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') as time,
              a.anomaly_direction as direction, a.robust_z_score::float8 as "zScore",
              a.return_1h::float8 as "return1h", a.close_price::float8 as "closePrice",
              count(*) over ()::int as total,
              to_char((select hour from newest) at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') as until`,
      `order by a.bucket_start desc, abs(a.robust_z_score) desc, a.coin_id
        limit $6 offset $7`,
    );
    const { rows } = await this.pool.query<FeedAnomaly & { total: number; until: string | null }>({
      name: `cdp_anomalies_${createHash('sha1').update(text).digest('hex').slice(0, 20)}`,
      text,
      values: [...this.values(filters), pageSize, (page - 1) * pageSize],
    });
    // A page past the end has no row to carry the total and the newest hour: count them apart.
    if (rows.length === 0 && page > 1) return this.count(filters);
    if (rows.length === 0) return { ...(await this.count(filters)), anomalies: [] };
    return {
      until: rows[0]!.until,
      total: rows[0]!.total,
      anomalies: rows.map(({ total: _t, until: _u, ...anomaly }) => anomaly),
    };
  }

  private async count(filters: AnomalyFilters): Promise<AnomalyFeed> {
    const { rows } = await this.pool.query<{ total: number; until: string | null }>(
      this.selected(
        `count(*)::int as total,
                (select to_char(hour at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') from newest) as until`,
        '',
      ),
      this.values(filters),
    );
    return { until: rows[0]?.until ?? null, total: rows[0]?.total ?? 0, anomalies: [] };
  }

  /** Every row of the feed as CSV (csv-export.ts streams it), in the page's order. */
  csv(filters: AnomalyFilters): CsvQuery {
    return {
      text: this.selected(
        `to_char(a.bucket_start at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') as time, a.coin_id,
                d.coin_symbol as symbol, d.coin_name as name, d.market_cap_rank as rank,
                a.anomaly_direction as direction, a.robust_z_score::float8 as z_score,
                a.return_1h::float8 as return_1h, a.close_price::float8 as close_price`,
        'order by a.bucket_start desc, abs(a.robust_z_score) desc, a.coin_id',
      ),
      values: this.values(filters),
      columns: CSV_COLUMNS,
    };
  }
}
