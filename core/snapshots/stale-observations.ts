import type pg from 'pg';
import type { SnapshotContext } from './snapshot-row.js';

/**
 * Observations older than the raw retention window (core/snapshots/retention-window.ts). CoinGecko
 * keeps listing inactive coins whose last_updated is months or years old. Loaded like any other, such
 * a row created its day's partition, the transform's retention dropped it again, and the next tick
 * loaded it again: DDL every tick and the same observation stored over and over. It means "CoinGecko
 * still lists this coin but has no price for it since then", and that is what is kept: its key,
 * recorded once in pipeline.stale_observations, never in raw.coin_market_snapshots.
 */

/** Indices of the rows whose last_updated is before `cutoff` (none when retention is off). */
export function staleRows(lastUpdated: readonly string[], cutoff: Date | undefined): number[] {
  if (cutoff === undefined) return [];
  const before = cutoff.getTime();
  const stale: number[] = [];
  for (let i = 0; i < lastUpdated.length; i++) if (Date.parse(lastUpdated[i]!) < before) stale.push(i);
  return stale;
}

/**
 * Records the batch's stale rows inside its load transaction, each (coin, currency, last_updated) once
 * however many ticks see it again; returns how many were new.
 */
export async function recordStaleObservations(
  client: pg.PoolClient,
  context: SnapshotContext,
  batch: { readonly coinIds: readonly string[]; readonly lastUpdated: readonly string[] },
  stale: readonly number[],
): Promise<number> {
  if (stale.length === 0) return 0;
  const result = await client.query(
    `insert into pipeline.stale_observations (coin_id, vs_currency, last_updated, run_id, batch_no)
     select t.coin_id, $3, t.last_updated, $4, $5
       from unnest($1::text[], $2::timestamptz[]) as t(coin_id, last_updated)
     on conflict do nothing`,
    [
      stale.map((i) => batch.coinIds[i]),
      stale.map((i) => batch.lastUpdated[i]),
      context.vsCurrency,
      context.runId,
      context.batchNo,
    ],
  );
  return result.rowCount ?? 0;
}
