import { createHash } from 'node:crypto';
import type pg from 'pg';
import { likePattern } from '../api/params.js';
import { screenerSql, screenerValues, type CoinFilters } from './coin-filters.js';

/**
 * Reads of the dbt marts (schema `<TRANSFORM_SCHEMA>_marts`), never raw: the marts hold the lasting
 * history and are rebuilt once per tick. Every value is a bind parameter; only the schema name (a
 * validated config value) and whitelisted sort expressions are part of the SQL text. Amounts are cast
 * to float8 so JSON carries numbers.
 */
/** A tracked coin whose data stopped arriving. */
export interface StaleCoin {
  readonly id: string;
  readonly name: string;
  readonly symbol: string;
  readonly rank: number | null;
  readonly loadedAt: Date;
  readonly secondsSinceLoaded: number;
}

export class MarketQueries {
  constructor(
    private readonly pool: pg.Pool,
    private readonly schema: string,
  ) {
    if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) throw new Error(`MarketQueries: invalid schema name "${schema}"`);
  }

  private table(name: string): string {
    return `"${this.schema}".${name}`;
  }

  private readonly names = new Map<string, string>();

  /**
   * A named prepared statement: each pooled connection parses and plans it once, then only binds and
   * executes. Planning was about half of these queries' time (and time on 2 shared cores is what a
   * cache miss queues for). The name follows the text, which holds the schema and sort expression.
   */
  private query<R extends pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<pg.QueryResult<R>> {
    let name = this.names.get(text);
    if (name === undefined) {
      name = `cdp_market_${createHash('sha1').update(text).digest('hex').slice(0, 20)}`;
      this.names.set(text, name);
    }
    return this.pool.query<R>({ name, text, values });
  }

  /** Coins whose newest snapshot is older than the staleness threshold (dim_coin_freshness), stalest first. */
  async staleCoins(limit: number): Promise<{ coins: StaleCoin[]; total: number }> {
    const freshness = this.table('dim_coin_freshness');
    const [rows, total] = await Promise.all([
      this.query<StaleCoin>(
        `select coin_id as id, coin_name as name, coin_symbol as symbol, market_cap_rank as rank,
                loaded_at as "loadedAt", seconds_since_loaded::float8 as "secondsSinceLoaded"
           from ${freshness} where is_stale order by loaded_at, coin_id limit $1`,
        [limit],
      ),
      this.query<{ n: number }>(`select count(*)::int as n from ${freshness} where is_stale`),
    ]);
    return { coins: rows.rows, total: total.rows[0]?.n ?? 0 };
  }

  /** The newest hour of the whole market, the 24 h before for comparison, the last 7 days of totals and the day's top movers. */
  async overview(): Promise<MarketOverview | undefined> {
    const overview = this.table('fct_market_overview_hourly');
    const [latest, history, movers] = await Promise.all([
      this.query<OverviewRow>(`
        select bucket_start, coin_count::int, total_market_cap::float8, total_volume_24h::float8,
               bitcoin_dominance_pct::float8, ethereum_dominance_pct::float8,
               top_gainer_coin_id, top_gainer_change_pct::float8, top_loser_coin_id, top_loser_change_pct::float8
          from ${overview} order by bucket_start desc limit 1`),
      this.query<{ time: number; total_market_cap: number; total_volume_24h: number }>(`
        select extract(epoch from bucket_start)::int8::float8 as time, total_market_cap::float8, total_volume_24h::float8
          from ${overview}
         where bucket_start > (select max(bucket_start) from ${overview}) - interval '7 days'
         order by bucket_start`),
      // Gainers only rose and losers only fell (a flat coin is neither), so no coin is in both lists,
      // however few coins are tracked or however the day went.
      this.query<Mover & { side: 'gainer' | 'loser' }>(
        `
        with ranked as (
          select coin_id, coin_name, coin_symbol, price::float8, price_change_pct_24h::float8,
                 case when price_change_pct_24h > 0 then 'gainer' else 'loser' end as side,
                 row_number() over (partition by price_change_pct_24h > 0 order by abs(price_change_pct_24h) desc, coin_id) as place
            from ${this.table('dim_coins')}
           where price_change_pct_24h <> 0 and market_cap_rank <= $1
        )
        select coin_id as id, coin_name as name, coin_symbol as symbol, price, price_change_pct_24h as "changePct24h", side
          from ranked where place <= $2
         order by side, place`,
        [MOVERS_MAX_RANK, MOVERS],
      ),
    ]);
    const row = latest.rows[0];
    if (!row) return undefined;
    // The close exactly 24 h before the newest hour, or no change: never the oldest hour there is (one
    // hour of history read 0.00%) nor the first after a gap (a shorter window labelled 24h).
    const dayAgo = history.rows.find((h) => h.time === row.bucket_start.getTime() / 1000 - 86_400);
    const strip = ({ side: _side, ...mover }: Mover & { side: string }): Mover => mover;
    return {
      asOf: row.bucket_start,
      coinCount: row.coin_count,
      totalMarketCap: row.total_market_cap,
      totalVolume24h: row.total_volume_24h,
      marketCapChangePct24h:
        dayAgo && dayAgo.total_market_cap
          ? (100 * (row.total_market_cap - dayAgo.total_market_cap)) / dayAgo.total_market_cap
          : null,
      bitcoinDominancePct: row.bitcoin_dominance_pct,
      ethereumDominancePct: row.ethereum_dominance_pct,
      hourTopGainer: row.top_gainer_coin_id
        ? { coinId: row.top_gainer_coin_id, changePct: row.top_gainer_change_pct }
        : null,
      hourTopLoser: row.top_loser_coin_id
        ? { coinId: row.top_loser_coin_id, changePct: row.top_loser_change_pct }
        : null,
      gainers24h: movers.rows.filter((m) => m.side === 'gainer').map(strip),
      losers24h: movers.rows.filter((m) => m.side === 'loser').map(strip),
      history: history.rows.map((h) => ({
        time: h.time,
        totalMarketCap: h.total_market_cap,
        totalVolume24h: h.total_volume_24h,
      })),
    };
  }

  /**
   * One page of dim_coins, sorted and filtered in SQL, each coin with its hourly closes of the last 7
   * days: one statement (the sparklines join the page laterally, through the (coin_id, bucket_start)
   * index), so a cache miss holds one pooled connection for one round trip. Closes come as JSON:
   * Node's JSON.parse reads them in about half the CPU pg's float8[] parser needs.
   */
  async coins(params: CoinListParams): Promise<{ coins: CoinListItem[]; total: number }> {
    const column = COIN_SORTS[params.sort];
    const direction = params.order === 'asc' ? 'asc' : 'desc';
    const candles = this.table('fct_coin_candles_hourly');
    const { rows } = await this.query<CoinRow & { total: number; closes: number[] | null }>(
      // A bounded top-N sort for the page and a bare count for the total: window functions over every
      // coin (count(*) over (), row_number() over (order by …)) cost 4x as much at 15,000 coins
      // (docs/benchmarks.md). The outer order repeats the page's: the sort columns are the page's own.
      `with page as (
         select ${COIN_COLUMNS}
           from ${this.table('dim_coins')}
          where ($1::text is null or coin_name ilike $1 or coin_symbol ilike $1 or coin_id ilike $1)
            and ${screenerSql(4)}
          order by ${column} ${direction} nulls last, coin_id
          limit $2 offset $3
       )
       select page.*, spark.closes,
              (select count(*) from ${this.table('dim_coins')}
                where ($1::text is null or coin_name ilike $1 or coin_symbol ilike $1 or coin_id ilike $1)
                  and ${screenerSql(4)})::int as total
         from page
         left join lateral (
           select json_agg(close_price::float8 order by bucket_start) as closes
             from ${candles}
            where coin_id = page.coin_id and bucket_start > (select max(bucket_start) from ${candles}) - interval '7 days'
         ) spark on true
        order by ${column} ${direction} nulls last, coin_id`,
      [
        params.search === undefined ? null : likePattern(params.search),
        params.pageSize,
        (params.page - 1) * params.pageSize,
        ...screenerValues(params.filters),
      ],
    );
    const total = rows[0]?.total ?? (params.page > 1 ? await this.count(params.search, params.filters) : 0);
    return { coins: rows.map((r) => ({ ...coinFromRow(r), sparkline7d: r.closes ?? [] })), total };
  }

  private async count(search: string | undefined, filters: CoinFilters): Promise<number> {
    const { rows } = await this.query<{ n: number }>(
      `select count(*)::int as n from ${this.table('dim_coins')}
        where ($1::text is null or coin_name ilike $1 or coin_symbol ilike $1 or coin_id ilike $1) and ${screenerSql(2)}`,
      [search === undefined ? null : likePattern(search), ...screenerValues(filters)],
    );
    return rows[0]?.n ?? 0;
  }

  /** The coin's latest state and its newest returns and volatility, in one statement; undefined for a coin the marts do not know. */
  async coin(coinId: string): Promise<CoinDetail | undefined> {
    const { rows } = await this.query<
      CoinRow & {
        high_24h: number | null;
        low_24h: number | null;
        circulating_supply: number | null;
        observed_at: Date;
        volatility_24h: number | null;
        volatility_7d: number | null;
        volatility_7d_annualized: number | null;
        anomaly_count: number;
      }
    >(
      `select ${COIN_COLUMNS}, high_24h::float8, low_24h::float8, circulating_supply::float8, observed_at,
              r.volatility_24h, r.volatility_7d, r.volatility_7d_annualized,
              (select count(*)::int from ${this.table('fct_price_anomalies')} a where a.coin_id = $1 and a.is_anomaly) as anomaly_count
         from ${this.table('dim_coins')} d
         left join lateral (
           select volatility_24h::float8, volatility_7d::float8, volatility_7d_annualized::float8
             from ${this.table('fct_coin_returns_hourly')} where coin_id = $1 order by bucket_start desc limit 1
         ) r on true
        where d.coin_id = $1`,
      [coinId],
    );
    const row = rows[0];
    if (!row) return undefined;
    return {
      ...coinFromRow(row),
      high24h: row.high_24h,
      low24h: row.low_24h,
      circulatingSupply: row.circulating_supply,
      observedAt: row.observed_at,
      volatility24h: row.volatility_24h,
      volatility7d: row.volatility_7d,
      volatility7dAnnualized: row.volatility_7d_annualized,
      anomalyCount: row.anomaly_count,
    };
  }

  /**
   * Candles of one interval within `range` of the coin's newest candle (so a coin whose data stopped
   * still shows its last period), the hourly volatility over the same span, and its flagged anomalies;
   * undefined for a coin dim_coins does not know.
   */
  async candles(coinId: string, interval: CandleInterval, range: CandleRange): Promise<CoinCandles | undefined> {
    const table = this.table(interval === 'hourly' ? 'fct_coin_candles_hourly' : 'fct_coin_candles_daily');
    const span = RANGE_INTERVALS[range];
    // One statement, each series aggregated to JSON in Postgres (one row, parsed by JSON.parse), so a
    // cache miss holds one pooled connection for one round trip instead of three.
    const { rows } = await this.query<{
      known: boolean;
      candles: Candle[];
      volatility: Array<{ time: number; value: number }>;
      anomalies: Anomaly[];
    }>(
      `with since as (select max(bucket_start) - $2::interval as t from ${table} where coin_id = $1)
       select
         exists (select from ${this.table('dim_coins')} where coin_id = $1) as known,
         (select coalesce(json_agg(c order by c.time), '[]') from (
            select extract(epoch from bucket_start)::int8::float8 as time, open_price::float8 as open, high_price::float8 as high,
                   low_price::float8 as low, close_price::float8 as close, volume_24h::float8 as volume,
                   source, point_count::int as "pointCount"
              from ${table}
             where coin_id = $1 and ($2::interval is null or bucket_start > (select t from since))
             order by bucket_start desc limit $3) c) as candles,
         (select coalesce(json_agg(v order by v.time), '[]') from (
            select extract(epoch from bucket_start)::int8::float8 as time, volatility_24h::float8 as value
              from ${this.table('fct_coin_returns_hourly')}
             where coin_id = $1 and volatility_24h is not null and ($2::interval is null or bucket_start > (select t from since))
             order by bucket_start desc limit $3) v) as volatility,
         (select coalesce(json_agg(a order by a.time), '[]') from (
            select extract(epoch from bucket_start)::int8::float8 as time, anomaly_direction as direction,
                   robust_z_score::float8 as "zScore", return_1h::float8 as "return1h"
              from ${this.table('fct_price_anomalies')}
             where coin_id = $1 and is_anomaly and ($2::interval is null or bucket_start > (select t from since))) a) as anomalies`,
      [coinId, span, MAX_POINTS],
    );
    const row = rows[0]!;
    // Unknown coins are told apart here, so the candles endpoint needs no separate coin() lookup.
    if (!row.known) return undefined;
    return { interval, range, candles: row.candles, volatility24h: row.volatility, anomalies: row.anomalies };
  }
}

export const COIN_SORTS = {
  rank: 'market_cap_rank',
  name: 'lower(coin_name)',
  price: 'price',
  change_1h: 'price_change_pct_1h',
  change_24h: 'price_change_pct_24h',
  change_7d: 'price_change_pct_7d',
  market_cap: 'market_cap',
  volume: 'volume_24h',
} as const;
export type CoinSort = keyof typeof COIN_SORTS;
export const CANDLE_INTERVALS = ['hourly', 'daily'] as const;
export type CandleInterval = (typeof CANDLE_INTERVALS)[number];
export const RANGE_INTERVALS = { '24h': '24 hours', '7d': '7 days', '30d': '30 days', all: null } as const;
export type CandleRange = keyof typeof RANGE_INTERVALS;
export const CANDLE_RANGES = Object.keys(RANGE_INTERVALS) as CandleRange[];
/** Points per series at most (`range=all` of hourly candles returns the newest this many). */
export const MAX_POINTS = 5000;
const MOVERS = 5;
/** Movers come from the top of the market, as in fct_market_overview_hourly (movers_max_rank). */
const MOVERS_MAX_RANK = 100;

const COIN_COLUMNS = `coin_id, coin_name, coin_symbol, vs_currency, market_cap_rank, price::float8, price_change_pct_1h::float8,
  price_change_pct_24h::float8, price_change_pct_7d::float8, market_cap::float8, volume_24h::float8`;

interface CoinRow {
  coin_id: string;
  coin_name: string | null;
  coin_symbol: string | null;
  vs_currency: string;
  market_cap_rank: number | null;
  price: number | null;
  price_change_pct_1h: number | null;
  price_change_pct_24h: number | null;
  price_change_pct_7d: number | null;
  market_cap: number | null;
  volume_24h: number | null;
}

interface OverviewRow {
  bucket_start: Date;
  coin_count: number;
  total_market_cap: number;
  total_volume_24h: number;
  bitcoin_dominance_pct: number | null;
  ethereum_dominance_pct: number | null;
  top_gainer_coin_id: string | null;
  top_gainer_change_pct: number | null;
  top_loser_coin_id: string | null;
  top_loser_change_pct: number | null;
}

function coinFromRow(r: CoinRow): CoinSummary {
  return {
    id: r.coin_id,
    name: r.coin_name,
    symbol: r.coin_symbol,
    vsCurrency: r.vs_currency,
    rank: r.market_cap_rank,
    price: r.price,
    changePct1h: r.price_change_pct_1h,
    changePct24h: r.price_change_pct_24h,
    changePct7d: r.price_change_pct_7d,
    marketCap: r.market_cap,
    volume24h: r.volume_24h,
  };
}

export interface CoinListParams {
  readonly sort: CoinSort;
  readonly order: 'asc' | 'desc';
  readonly search: string | undefined;
  readonly page: number;
  readonly pageSize: number;
  readonly filters: CoinFilters;
}

/** A coin's latest state (dim_coins). Percentages are in percent; amounts in vsCurrency. */
export interface CoinSummary {
  readonly id: string;
  readonly name: string | null;
  readonly symbol: string | null;
  readonly vsCurrency: string;
  readonly rank: number | null;
  readonly price: number | null;
  readonly changePct1h: number | null;
  readonly changePct24h: number | null;
  readonly changePct7d: number | null;
  readonly marketCap: number | null;
  readonly volume24h: number | null;
}

export interface CoinListItem extends CoinSummary {
  /** Hourly closes of the market's last 7 days, oldest first. */
  readonly sparkline7d: number[];
}

export interface CoinDetail extends CoinSummary {
  readonly high24h: number | null;
  readonly low24h: number | null;
  readonly circulatingSupply: number | null;
  readonly observedAt: Date;
  /** Standard deviations of hourly log returns (not percent). */
  readonly volatility24h: number | null;
  readonly volatility7d: number | null;
  readonly volatility7dAnnualized: number | null;
  readonly anomalyCount: number;
}

export interface Mover {
  readonly id: string;
  readonly name: string | null;
  readonly symbol: string | null;
  readonly price: number | null;
  readonly changePct24h: number;
}

export interface MarketOverview {
  readonly asOf: Date;
  readonly coinCount: number;
  readonly totalMarketCap: number;
  readonly totalVolume24h: number;
  readonly marketCapChangePct24h: number | null;
  readonly bitcoinDominancePct: number | null;
  readonly ethereumDominancePct: number | null;
  readonly hourTopGainer: { coinId: string; changePct: number | null } | null;
  readonly hourTopLoser: { coinId: string; changePct: number | null } | null;
  readonly gainers24h: Mover[];
  readonly losers24h: Mover[];
  /** Hourly totals of the last 7 days; time in Unix seconds. */
  readonly history: Array<{ time: number; totalMarketCap: number; totalVolume24h: number }>;
}

/** Time in Unix seconds (UTC), the start of the candle's period. */
export interface Candle {
  readonly time: number;
  readonly open: number;
  readonly high: number;
  readonly low: number;
  readonly close: number;
  readonly volume: number | null;
  /** What built it: live snapshots, history points (a backfill or repair), or, daily only, both. */
  readonly source: 'snapshots' | 'history' | 'mixed';
  /** Snapshots or history points aggregated into it. */
  readonly pointCount: number;
}

export interface Anomaly {
  readonly time: number;
  readonly direction: 'spike' | 'drop';
  readonly zScore: number;
  readonly return1h: number;
}

export interface CoinCandles {
  readonly interval: CandleInterval;
  readonly range: CandleRange;
  readonly candles: Candle[];
  readonly volatility24h: Array<{ time: number; value: number }>;
  readonly anomalies: Anomaly[];
}
