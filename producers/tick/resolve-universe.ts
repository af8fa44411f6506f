import type pg from 'pg';
import type { AppConfig } from '../../core/config/index.js';

/**
 * The coins a tick fetches: the tick's own ids (backfill/manual), the configured COIN_IDS, or the
 * top N active coins by the market-cap rank the last universe refresh observed.
 */
export async function resolveUniverse(
  pool: pg.Pool,
  config: AppConfig,
  explicit: readonly string[] | undefined,
): Promise<string[]> {
  const ids = explicit ?? config.universe.coinIds;
  if (ids) return [...ids];
  return topRankedCoins(pool, config.universe.topN);
}

/** The top n active coins by the market-cap rank the last universe refresh observed. */
export async function topRankedCoins(pool: pg.Pool, n: number): Promise<string[]> {
  const result = await pool.query<{ coin_id: string }>(
    `select coin_id from raw.coins
      where is_active and market_cap_rank is not null
      order by market_cap_rank, coin_id
      limit $1`,
    [n],
  );
  return result.rows.map((r) => r.coin_id);
}
