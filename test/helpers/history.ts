import type pg from 'pg';
import { recordHistoryRun } from '../../core/history/history-ledger.js';
import type { HistoryPoint } from '../../core/history/history-points.js';
import { storeHistory } from '../../core/history/store-history.js';

let runs = 0;

/**
 * Stores one coin's history points the way the fetch worker does (core/history/store-history.ts: one
 * history run with one item, the points inserted skipping keys already stored, under the load
 * barrier), as if one market_chart/range call at `resolutionS` had returned them.
 */
export async function storeHistoryPoints(
  pool: pg.Pool,
  coinId: string,
  resolutionS: 300 | 3600 | 86400,
  points: readonly { at: string; price: number }[],
): Promise<number> {
  const historyRunId = `hist-test-${process.pid}-${++runs}`;
  const times = points.map((p) => Date.parse(p.at));
  await recordHistoryRun(pool, {
    historyRunId,
    kind: 'backfill',
    vsCurrency: 'usd',
    fromMs: Math.min(...times),
    toMs: Math.max(...times) + 1,
    coins: 1,
    requested: { test: true },
    items: [{ coinId, fromMs: Math.min(...times), toMs: Math.max(...times) + 1 }],
  });
  const parsed: HistoryPoint[] = points.map((p) => ({
    observedAtMs: Date.parse(p.at),
    price: p.price,
    marketCap: p.price * 1000,
    totalVolume: p.price * 10,
  }));
  const stored = await storeHistory(
    pool,
    { historyRunId, itemNo: 0, coinId, vsCurrency: 'usd' },
    { points: parsed, rejected: [], resolutionS },
    200,
  );
  return stored.rowsInserted;
}

/** Points every `stepMinutes` from `from` (inclusive) to `to` (exclusive), with a wavy price and CoinGecko's arbitrary milliseconds. */
export function pointsBetween(
  from: string,
  to: string,
  stepMinutes: number,
  base: number,
): { at: string; price: number }[] {
  const points: { at: string; price: number }[] = [];
  for (let t = Date.parse(from), i = 0; t < Date.parse(to); t += stepMinutes * 60_000, i++)
    points.push({ at: new Date(t + 137).toISOString(), price: base * (1 + 0.02 * Math.sin(i * 0.9)) });
  return points;
}
