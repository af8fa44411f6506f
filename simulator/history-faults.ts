/**
 * Bad points in `/coins/{id}/market_chart/range` bodies, for the coins named in
 * `badHistoryCoinIds`: the same three faults in every such body, at fixed positions, so a test can
 * predict exactly which points are bad and which are good.
 */

/** `[ms, value]` entries of one of the three series. */
export type Series = [number, number | null][];

/**
 * How many points a body needs before `corruptHistory` changes it; shorter bodies are left alone.
 * The corrupted body has one entry more than the clean one (the duplicate).
 */
export const MIN_CORRUPTED_POINTS = 5;

/**
 * A corrupted copy of the prices series of a body with at least MIN_CORRUPTED_POINTS points:
 * - the price of the point at index 1 is null;
 * - the point at index 2 is sent twice, the second time with another price (a duplicated timestamp);
 * - the points at index 3 and 4 are swapped (the one at index 3 then comes after a later one: out of
 *   order).
 * A client that keeps the first of duplicated timestamps and refuses out-of-order ones keeps every
 * point but those at index 1 and 3. Market caps and volumes stay as they were.
 */
export function corruptHistory(prices: Series): Series {
  if (prices.length < MIN_CORRUPTED_POINTS) return prices;
  const out: Series = prices.map(([t, v]) => [t, v]);
  out[1] = [out[1]![0], null];
  [out[3], out[4]] = [out[4]!, out[3]!];
  const [t2, v2] = out[2]!;
  out.splice(3, 0, [t2, v2 === null ? null : v2 * 2]);
  return out;
}
