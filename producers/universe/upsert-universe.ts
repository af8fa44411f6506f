import type pg from 'pg';
import { inTransaction } from '../../core/db/pool.js';

/** One /coins/list item (platforms not requested). */
export interface ListedCoin {
  readonly id: string;
  readonly symbol: string;
  readonly name: string;
}

/**
 * Writes the coin list and ranks into raw.coins in one transaction. Coins missing from the list are
 * deactivated, not deleted (their history stays joinable). A coin seen twice in the ranking (it moved
 * between pages while they were fetched) keeps its best rank.
 */
export async function upsertUniverse(
  pool: pg.Pool,
  listed: readonly ListedCoin[],
  ranked: readonly { id: string; rank: number | null }[],
  rankingComplete: boolean,
  /**
   * A coin missing from a complete ranking keeps its rank until it is this old: ranks move while
   * the pages are fetched, so a coin can slip between two pages and appear on neither.
   */
  keepMissingRankMs = 0,
): Promise<{ coins: number; ranked: number; deactivated: number }> {
  const valid = listed.filter(
    (c) => typeof c?.id === 'string' && c.id !== '' && typeof c.symbol === 'string' && typeof c.name === 'string',
  );
  const bestRank = new Map<string, number>();
  for (const { id, rank } of ranked) {
    if (rank === null) continue;
    const current = bestRank.get(id);
    if (current === undefined || rank < current) bestRank.set(id, rank);
  }
  return inTransaction(pool, async (client) => {
    await client.query(
      `insert into raw.coins (coin_id, symbol, name, is_active, last_seen_at, updated_at)
       select id, symbol, name, true, now(), now() from unnest($1::text[], $2::text[], $3::text[]) as t(id, symbol, name)
       on conflict (coin_id) do update
         set symbol = excluded.symbol, name = excluded.name, is_active = true, last_seen_at = now(), updated_at = now()`,
      [valid.map((c) => c.id), valid.map((c) => c.symbol), valid.map((c) => c.name)],
    );
    const deactivated = await client.query(
      `update raw.coins set is_active = false, market_cap_rank = null, updated_at = now()
        where is_active and not (coin_id = any($1::text[]))`,
      [valid.map((c) => c.id)],
    );
    if (bestRank.size > 0) {
      // A complete ranking is a snapshot: coins that dropped out of the ranked range lose their old
      // rank (once it is older than keepMissingRankMs). After a partial one (a page failed), the
      // coins of the missing pages keep theirs.
      if (rankingComplete) {
        await client.query(
          `update raw.coins set market_cap_rank = null
            where market_cap_rank is not null and not (coin_id = any($1::text[]))
              and (rank_observed_at is null or rank_observed_at <= now() - make_interval(secs => $2::float8 / 1000))`,
          [[...bestRank.keys()], keepMissingRankMs],
        );
      }
      await client.query(
        `update raw.coins c set market_cap_rank = t.rank, rank_observed_at = now()
           from unnest($1::text[], $2::int[]) as t(id, rank) where c.coin_id = t.id`,
        [[...bestRank.keys()], [...bestRank.values()]],
      );
    }
    return { coins: valid.length, ranked: bestRank.size, deactivated: deactivated.rowCount ?? 0 };
  });
}
