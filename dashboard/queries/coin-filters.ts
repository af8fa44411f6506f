/**
 * The screener's filters over dim_coins (market-cap band, % change over a window, minimum volume),
 * shared by the coin list (market-queries.ts) and its CSV (csv-queries.ts) so both select the same
 * coins. The SQL text is fixed: every bound is a bind parameter, null meaning "no bound", and the
 * change window is chosen by a `case` on a parameter, so one statement (prepared once per connection)
 * serves every combination and no input ever reaches the text.
 *
 * No index backs these: dim_coins holds one row per tracked coin (15,000 at most), the list counts
 * every match anyway (`count(*) over ()`), and a sequential scan of it with the filters applied costs
 * about what the unfiltered scan does (see dashboard/README.md, "Screener").
 */

export const CHANGE_WINDOWS = ['1h', '24h', '7d'] as const;
export type ChangeWindow = (typeof CHANGE_WINDOWS)[number];
/** Upper bound of a market-cap or volume filter: far above any coin, low enough to stay exact in a float8. */
export const MAX_AMOUNT_USD = 1_000_000_000_000_000;
/** Upper bound of a % change filter (a coin can rise by thousands of percent in a day; not by this much). */
export const MAX_CHANGE_PCT = 1_000_000;

/** Bounds are inclusive; undefined is no bound. A coin without the value filtered on is left out. */
export interface CoinFilters {
  readonly marketCapMin?: number | undefined;
  readonly marketCapMax?: number | undefined;
  readonly changeWindow: ChangeWindow;
  readonly changeMin?: number | undefined;
  readonly changeMax?: number | undefined;
  readonly volumeMin?: number | undefined;
}

/** How many bind parameters screenerSql uses. */
export const SCREENER_PARAMS = 6;

/** The filters as one boolean SQL expression over dim_coins' columns, its parameters numbered from `$first`. */
export function screenerSql(first: number): string {
  const [capMin, capMax, window, changeMin, changeMax, volumeMin] = Array.from(
    { length: SCREENER_PARAMS },
    (_, i) => `$${first + i}`,
  );
  const change = `case ${window}::text when '1h' then price_change_pct_1h when '7d' then price_change_pct_7d else price_change_pct_24h end`;
  return `(${capMin}::float8 is null or market_cap >= ${capMin}::float8)
      and (${capMax}::float8 is null or market_cap <= ${capMax}::float8)
      and (${changeMin}::float8 is null or ${change} >= ${changeMin}::float8)
      and (${changeMax}::float8 is null or ${change} <= ${changeMax}::float8)
      and (${volumeMin}::float8 is null or volume_24h >= ${volumeMin}::float8)`;
}

/** screenerSql's parameters, in its order. */
export function screenerValues(filters: CoinFilters): unknown[] {
  return [
    filters.marketCapMin ?? null,
    filters.marketCapMax ?? null,
    filters.changeWindow,
    filters.changeMin ?? null,
    filters.changeMax ?? null,
    filters.volumeMin ?? null,
  ];
}
