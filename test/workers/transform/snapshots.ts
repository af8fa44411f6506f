import type pg from 'pg';

/** A raw snapshot as the tests write it straight into raw.coin_market_snapshots (bypassing load validation). */
export interface RawSnapshot {
  coinId: string;
  at: string;
  price: number;
  marketCap?: number;
  volume?: number;
  rank?: number;
  high24h?: number;
  low24h?: number;
  runId?: string;
}

export async function insertSnapshots(pool: pg.Pool, rows: readonly RawSnapshot[]): Promise<void> {
  const days = [...new Set(rows.map((r) => r.at.slice(0, 10)))];
  for (const day of days) await pool.query('select raw.ensure_snapshot_partitions($1::date, $1::date)', [day]);
  for (const r of rows) {
    await pool.query(
      `insert into raw.coin_market_snapshots
         (coin_id, vs_currency, last_updated, run_id, batch_no, symbol, name, current_price, market_cap, market_cap_rank, total_volume,
          high_24h, low_24h, price_change_percentage_1h_in_currency, price_change_percentage_24h_in_currency, price_change_percentage_7d_in_currency, record)
       values ($1, 'usd', $2, $3, 0, $4, $5, $6, $7, $8, $9, $10, $11, 0.5, -1.5, 3.25, '{}')`,
      [
        r.coinId,
        r.at,
        r.runId ?? 'mtest',
        r.coinId.slice(0, 3),
        r.coinId,
        r.price,
        r.marketCap ?? r.price * 1000,
        r.rank ?? 1,
        r.volume ?? r.price * 10,
        r.high24h ?? r.price * 1.1,
        r.low24h ?? r.price * 0.9,
      ],
    );
  }
}

/**
 * Candles computed independently of dbt, straight from raw rows: what a full refresh must produce.
 * Rounded so float summation order cannot make equal results differ.
 */
export async function expectedCandles(pool: pg.Pool, grain: 'hour' | 'day'): Promise<Record<string, unknown>[]> {
  const result = await pool.query(
    `select coin_id, date_trunc($1, last_updated, 'UTC') as bucket_start,
            (array_agg(current_price order by last_updated))[1] as open_price,
            max(current_price) as high_price, min(current_price) as low_price,
            (array_agg(current_price order by last_updated desc))[1] as close_price,
            round(avg(current_price)::numeric, 6)::float8 as avg_price,
            (array_agg(market_cap order by last_updated desc))[1] as market_cap,
            count(*)::int as snapshot_count
       from raw.coin_market_snapshots where current_price is not null
      group by 1, 2 order by 1, 2`,
    [grain],
  );
  return result.rows;
}

export async function martCandles(
  pool: pg.Pool,
  schema: string,
  grain: 'hourly' | 'daily',
): Promise<Record<string, unknown>[]> {
  const result = await pool.query(
    `select coin_id, bucket_start, open_price, high_price, low_price, close_price, round(avg_price::numeric, 6)::float8 as avg_price,
            market_cap, snapshot_count::int
       from "${schema}".fct_coin_candles_${grain} order by 1, 2`,
  );
  return result.rows;
}
