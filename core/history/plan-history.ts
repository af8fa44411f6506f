import type { HistoryItemPlan } from './history-ledger.js';

export const HOUR_MS = 3_600_000;
export const DAY_MS = 24 * HOUR_MS;
/**
 * The longest range one call asks for. CoinGecko answers up to 90 days with hourly points and longer
 * ranges with daily ones, so a year is fetched as five calls of hourly points rather than one of daily.
 */
export const MAX_CALL_SPAN_MS = 90 * DAY_MS;

/**
 * The calls a history run makes: for each coin, the parts of [fromMs, toMs] no earlier run has
 * fetched (`fetched`: done items by coin), cut into calls of at most MAX_CALL_SPAN_MS, newest first
 * (the recent past is what the dashboard shows first). Parts shorter than `minSpanMs` are left out:
 * a backfill re-run an hour later must not spend one call per coin on the hour since.
 */
export function planHistoryItems(
  coinIds: readonly string[],
  fromMs: number,
  toMs: number,
  fetched: ReadonlyMap<string, ReadonlyArray<readonly [number, number]>>,
  minSpanMs: number,
): HistoryItemPlan[] {
  const items: HistoryItemPlan[] = [];
  for (const coinId of coinIds) {
    for (const [partFrom, partTo] of uncovered(fromMs, toMs, fetched.get(coinId) ?? [])) {
      // Whole seconds, as the call sends them (UNIX seconds): a call's range must not grow when it is
      // rounded for the request, or a 90-day call (`--days 90`, fromMs = now - 90 days with the
      // clock's milliseconds) becomes 90 days and a second, which CoinGecko answers with daily points.
      // Both ends move later by under a second, so the calls still meet end to end.
      const from = Math.ceil(partFrom / 1000) * 1000;
      const to = Math.ceil(partTo / 1000) * 1000;
      if (to - from < Math.max(1, minSpanMs)) continue;
      for (let end = to; end > from; end -= MAX_CALL_SPAN_MS) {
        items.push({ coinId, fromMs: Math.max(from, end - MAX_CALL_SPAN_MS), toMs: end });
      }
    }
  }
  // Newest ranges of every coin first, then older ones: a long backfill fills the recent past first.
  return items
    .map((item, order) => ({ item, order }))
    .sort((a, b) => b.item.toMs - a.item.toMs || a.order - b.order)
    .map(({ item }) => item);
}

/** The parts of [from, to] that none of `covered` contains, oldest first. */
export function uncovered(
  from: number,
  to: number,
  covered: ReadonlyArray<readonly [number, number]>,
): Array<[number, number]> {
  const parts: Array<[number, number]> = [];
  let cursor = from;
  for (const [start, end] of [...covered].sort((a, b) => a[0] - b[0])) {
    if (end <= cursor) continue;
    if (start >= to) break;
    if (start > cursor) parts.push([cursor, Math.min(start, to)]);
    cursor = Math.max(cursor, end);
    if (cursor >= to) break;
  }
  if (cursor < to) parts.push([cursor, to]);
  return parts;
}
