/**
 * What a raw snapshot row stores of the record besides its typed columns, so that the record can be
 * replayed (raw.replay_record(), migration 1765500000000) without keeping the whole JSON a second
 * time: ~800 bytes a row of which the typed columns already hold all but the image URL.
 *
 * - `extra` (record_extra, JSON object text): every key the typed columns do not reproduce: the
 *   undocumented ones (schema drift), the documented ones without a column (image, sparkline_in_7d,
 *   the longer price-change windows, …), and any typed key whose column would not give back the same
 *   JSON value (a timestamp not written as `YYYY-MM-DDTHH:MM:SS.mmmZ`, a roi object with other keys).
 * - `untyped` (record_untyped): a bit per REPLAYED_KEYS position for the keys replay must not write
 *   from their column: those the record lacked (a null column cannot tell a missing key from a null
 *   one) and those `extra` holds. Null when there are none. Replay then only appends `extra`'s text
 *   to the typed keys' object, never parsing it: Postgres can store a string holding \u0000 in json
 *   but not take one apart.
 *
 * Replay gives a JSON value equal to the record as CoinGecko sent it, numbers compared as the
 * IEEE doubles every JSON parser here reads them as (the typed columns hold those doubles); key order
 * may differ (typed keys first, in REPLAYED_KEYS order, then `extra`'s).
 */

/**
 * The record keys the typed columns reproduce, in the order replay writes them. A key's position is
 * its bit in record_untyped, so stored rows depend on this order: append only, and change
 * raw.replay_record() with it.
 */
export const REPLAYED_KEYS = [
  'id',
  'symbol',
  'name',
  'current_price',
  'market_cap',
  'market_cap_rank',
  'fully_diluted_valuation',
  'total_volume',
  'high_24h',
  'low_24h',
  'price_change_24h',
  'price_change_percentage_24h',
  'market_cap_change_24h',
  'market_cap_change_percentage_24h',
  'circulating_supply',
  'total_supply',
  'max_supply',
  'ath',
  'ath_change_percentage',
  'ath_date',
  'atl',
  'atl_change_percentage',
  'atl_date',
  'roi',
  'last_updated',
  'price_change_percentage_1h_in_currency',
  'price_change_percentage_24h_in_currency',
  'price_change_percentage_7d_in_currency',
] as const;

const REPLAYED = new Set<string>(REPLAYED_KEYS);
const DATE_KEYS = new Set<string>(['ath_date', 'atl_date', 'last_updated']);

/** The only timestamp form replay writes back (CoinGecko's); anything else is kept verbatim in `extra`. */
const CANONICAL_ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const replaysAsIs = (iso: string) => CANONICAL_ISO.test(iso) && new Date(iso).toISOString() === iso;

/** A roi the three roi columns give back: exactly times, currency, percentage (validation checked their types). */
function plainRoi(roi: object): boolean {
  let keys = 0;
  for (const key in roi) {
    if (key !== 'times' && key !== 'currency' && key !== 'percentage') return false;
    keys++;
  }
  return keys === 3;
}

export interface RecordResidual {
  /** JSON object text of the keys the typed columns do not reproduce ('{}' when none). */
  readonly extra: string;
  /** Bits (REPLAYED_KEYS positions) of keys not written from their column; null when there are none. */
  readonly untyped: number | null;
}

/** The residual of one validated record (`source` as parsed from CoinGecko's JSON). */
export function recordResidual(source: Readonly<Record<string, unknown>>): RecordResidual {
  // No prototype: keys are CoinGecko's, and "__proto__" must stay a key like any other.
  let extra: Record<string, unknown> | undefined;
  let untyped = 0;
  for (let bit = 0; bit < REPLAYED_KEYS.length; bit++) {
    const key = REPLAYED_KEYS[bit]!;
    const value = source[key];
    if (value === undefined) untyped |= 1 << bit;
    else if (
      value !== null &&
      (DATE_KEYS.has(key) ? !replaysAsIs(value as string) : key === 'roi' && !plainRoi(value as object))
    ) {
      (extra ??= Object.create(null) as Record<string, unknown>)[key] = value;
      untyped |= 1 << bit;
    }
  }
  for (const key in source) {
    if (!REPLAYED.has(key)) (extra ??= Object.create(null) as Record<string, unknown>)[key] = source[key];
  }
  return { extra: extra === undefined ? '{}' : JSON.stringify(extra), untyped: untyped === 0 ? null : untyped };
}
