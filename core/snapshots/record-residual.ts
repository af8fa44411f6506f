import { MARKET_FIELDS } from '../coingecko/market-record.js';

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
/** Documented keys without a column (image, sparkline_in_7d, the longer windows, …): always in `extra` when sent. */
const DOCUMENTED_UNTYPED = Object.keys(MARKET_FIELDS).filter((key) => !REPLAYED.has(key));

/**
 * The only timestamp form replay writes back (CoinGecko's), with every part in the range Postgres
 * keeps as written (no hour 24, no leap second, which it would roll over); anything else is kept
 * verbatim in `extra`. A day the month lacks (02-30) is refused by Postgres at COPY, as before.
 */
const CANONICAL_ISO = /^\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])T(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d\.\d{3}Z$/;

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

/**
 * The residual of one validated record: `source` as parsed from CoinGecko's JSON, `unknownFields`
 * its undocumented keys (validation found them). On the fetch workers' hot path, so the text is
 * written key by key rather than through an intermediate object, and only the few keys that can
 * be in it are looked at.
 */
export function recordResidual(
  source: Readonly<Record<string, unknown>>,
  unknownFields: readonly string[] = unknownKeys(source),
): RecordResidual {
  let extra = '';
  const add = (key: string, value: unknown) => {
    extra += `${extra === '' ? '{' : ','}${JSON.stringify(key)}:${JSON.stringify(value)}`;
  };
  let untyped = 0;
  for (let bit = 0; bit < REPLAYED_KEYS.length; bit++) {
    const key = REPLAYED_KEYS[bit]!;
    const value = source[key];
    if (value === undefined) untyped |= 1 << bit;
    else if (
      value !== null &&
      (DATE_KEYS.has(key) ? !CANONICAL_ISO.test(value as string) : key === 'roi' && !plainRoi(value as object))
    ) {
      add(key, value);
      untyped |= 1 << bit;
    }
  }
  for (const key of DOCUMENTED_UNTYPED) {
    const value = source[key];
    if (value !== undefined) add(key, value);
  }
  for (const key of unknownFields) add(key, source[key]);
  return { extra: extra === '' ? '{}' : `${extra}}`, untyped: untyped === 0 ? null : untyped };
}

const DOCUMENTED = new Set(Object.keys(MARKET_FIELDS));
const unknownKeys = (source: Readonly<Record<string, unknown>>) =>
  Object.keys(source).filter((key) => !DOCUMENTED.has(key));
