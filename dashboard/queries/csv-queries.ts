import type { CsvQuery } from '../api/csv-export.js';
import { COIN_SORTS, RANGE_INTERVALS, type CandleInterval, type CandleRange, type CoinSort } from './market-queries.js';
import { likePattern } from '../api/params.js';
import { screenerSql, screenerValues, type CoinFilters } from './coin-filters.js';

const COIN_COLUMNS = [
  'rank',
  'id',
  'symbol',
  'name',
  'vs_currency',
  'price',
  'change_pct_1h',
  'change_pct_24h',
  'change_pct_7d',
  'market_cap',
  'volume_24h',
] as const;
const CANDLE_COLUMNS = ['time', 'open', 'high', 'low', 'close', 'volume_24h'] as const;

/**
 * The queries behind the CSV downloads (csv-export.ts streams them): the marts, order and filters of
 * the JSON endpoints, every row instead of a page, columns named for a spreadsheet. Only fixed-list
 * choices (sort column, table) go into the text; values are bind parameters.
 */
export class CsvQueries {
  constructor(private readonly schema: string) {}

  private table(name: string): string {
    return `"${this.schema}".${name}`;
  }

  /** Every coin of the table, sorted, searched and screened as /coins is. */
  coins(params: { sort: CoinSort; order: 'asc' | 'desc'; search: string | undefined; filters: CoinFilters }): CsvQuery {
    const column = COIN_SORTS[params.sort];
    const direction = params.order === 'asc' ? 'asc' : 'desc';
    return {
      text: `select market_cap_rank as rank, coin_id as id, coin_symbol as symbol, coin_name as name, vs_currency,
                    price::float8 as price, price_change_pct_1h::float8 as change_pct_1h,
                    price_change_pct_24h::float8 as change_pct_24h, price_change_pct_7d::float8 as change_pct_7d,
                    market_cap::float8 as market_cap, volume_24h::float8 as volume_24h
               from ${this.table('dim_coins')}
              where ($1::text is null or coin_name ilike $1 or coin_symbol ilike $1 or coin_id ilike $1)
                and ${screenerSql(2)}
              order by ${column} ${direction} nulls last, coin_id`,
      values: [params.search === undefined ? null : likePattern(params.search), ...screenerValues(params.filters)],
      columns: COIN_COLUMNS,
    };
  }

  /** A coin's candles over a range (every one: a CSV has no point cap), oldest first, times in UTC. */
  candles(coinId: string, interval: CandleInterval, range: CandleRange): CsvQuery {
    const table = this.table(interval === 'hourly' ? 'fct_coin_candles_hourly' : 'fct_coin_candles_daily');
    return {
      text: `select to_char(bucket_start at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') as time,
                    open_price::float8 as open, high_price::float8 as high, low_price::float8 as low,
                    close_price::float8 as close, volume_24h::float8 as volume_24h
               from ${table}
              where coin_id = $1
                and ($2::interval is null
                     or bucket_start > (select max(bucket_start) from ${table} where coin_id = $1) - $2::interval)
              order by bucket_start`,
      values: [coinId, RANGE_INTERVALS[range]],
      columns: CANDLE_COLUMNS,
    };
  }

  /** Whether the marts know a coin (its candles CSV is a 404 otherwise, as the JSON is). */
  knows(coinId: string): { text: string; values: string[] } {
    return {
      text: `select exists (select from ${this.table('dim_coins')} where coin_id = $1) as known`,
      values: [coinId],
    };
  }
}
