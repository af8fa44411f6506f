/**
 * The screener's values in the browser, without the DOM (so a unit test can load it): what the URL
 * and the form fields may hold, and the market-cap presets. The URL carries the API's parameters
 * as the API takes them (plain numbers, USD and percent), so a link and its CSV agree; the form also
 * reads amounts written like 250M or 1.5B.
 */

export const CHANGE_WINDOWS = ['1h', '24h', '7d'] as const;
export type ChangeWindow = (typeof CHANGE_WINDOWS)[number];

/** Bounds as the API takes them (queries/coin-filters.ts); undefined is no bound. */
export interface Screener {
  marketCapMin?: number | undefined;
  marketCapMax?: number | undefined;
  changeWindow: ChangeWindow;
  changeMin?: number | undefined;
  changeMax?: number | undefined;
  volumeMin?: number | undefined;
}
export type Bound = 'marketCapMin' | 'marketCapMax' | 'changeMin' | 'changeMax' | 'volumeMin';
/** The URL's and the API's order, so equal filters give equal URLs (the response cache keys on the URL). */
export const BOUNDS: readonly Bound[] = ['marketCapMin', 'marketCapMax', 'changeMin', 'changeMax', 'volumeMin'];

const MAX_AMOUNT_USD = 1e15;
const MAX_CHANGE_PCT = 1e6;
/** What the API accepts for each bound (dashboard/api/query-schemas.ts). */
export const RANGES: Readonly<Record<Bound, readonly [number, number]>> = {
  marketCapMin: [0, MAX_AMOUNT_USD],
  marketCapMax: [0, MAX_AMOUNT_USD],
  changeMin: [-100, MAX_CHANGE_PCT],
  changeMax: [-100, MAX_CHANGE_PCT],
  volumeMin: [0, MAX_AMOUNT_USD],
};

/** A URL value of `bound` as the API would take it, or undefined if it would refuse it. */
export function urlNumber(bound: Bound, text: string): number | undefined {
  if (!/^-?[0-9]+(\.[0-9]+)?$/.test(text)) return undefined;
  const value = Number(text);
  const [min, max] = RANGES[bound];
  return value >= min && value <= max ? value : undefined;
}

const UNITS: Readonly<Record<string, number>> = { '': 1, k: 1e3, m: 1e6, b: 1e9, t: 1e12 };

/**
 * What a user typed in a form field: blank is no bound (null), else the number (amounts may end in
 * K, M, B or T; changes in %), or undefined when it is not one the API would take.
 */
export function fieldNumber(bound: Bound, text: string): number | null | undefined {
  const trimmed = text.trim().replace(/,/g, '');
  if (trimmed === '') return null;
  const percent = bound === 'changeMin' || bound === 'changeMax';
  const match = percent ? /^(-?\d+(?:\.\d+)?)\s*%?$/.exec(trimmed) : /^\$?(\d+(?:\.\d+)?)\s*([kmbt]?)$/i.exec(trimmed);
  if (!match) return undefined;
  // Rounded to cents: 1.1B is 1100000000, not 1100000000.0000002.
  const value = Math.round(Number(match[1]) * UNITS[(match[2] ?? '').toLowerCase()]! * 100) / 100;
  const [min, max] = RANGES[bound];
  return value >= min && value <= max ? value : undefined;
}

/** An amount as the form shows it: 1B, 250M, 1.5T, or the plain number when no unit fits it exactly. */
export function fieldText(bound: Bound, value: number | undefined): string {
  if (value === undefined) return '';
  if (bound === 'changeMin' || bound === 'changeMax') return String(value);
  for (const [unit, size] of [
    ['T', 1e12],
    ['B', 1e9],
    ['M', 1e6],
    ['K', 1e3],
  ] as const) {
    if (value < size) continue;
    // The largest unit the amount reaches, or none: 1234567 stays 1234567, not 1234.567K.
    const scaled = Number((value / size).toFixed(3));
    return Math.round(scaled * size) === value ? `${scaled}${unit}` : String(value);
  }
  return String(value);
}

/** Market-cap bands a user picks from; their bounds fill the min and max fields. */
export const CAP_BANDS: ReadonlyArray<{ key: string; label: string; min?: number; max?: number }> = [
  { key: 'large', label: 'Large: $10B and over', min: 1e10 },
  { key: 'mid', label: 'Mid: $1B to $10B', min: 1e9, max: 1e10 },
  { key: 'small', label: 'Small: $100M to $1B', min: 1e8, max: 1e9 },
  { key: 'micro', label: 'Micro: under $100M', max: 1e8 },
];

/** The band whose bounds these are: '' for none, 'custom' for bounds no band has. */
export function capBand(filters: Screener): string {
  if (filters.marketCapMin === undefined && filters.marketCapMax === undefined) return '';
  return CAP_BANDS.find((b) => b.min === filters.marketCapMin && b.max === filters.marketCapMax)?.key ?? 'custom';
}

/** How many bounds are set (the window alone filters nothing). */
export function activeBounds(filters: Screener): number {
  return BOUNDS.filter((b) => filters[b] !== undefined).length;
}

/** The filters as query parameters, in one order; the window when it is not the default. */
export function screenerParams(filters: Screener): Array<[string, string]> {
  const params: Array<[string, string]> = [];
  for (const bound of BOUNDS) {
    if (bound === 'changeMin' && filters.changeWindow !== '24h') params.push(['changeWindow', filters.changeWindow]);
    const value = filters[bound];
    if (value !== undefined) params.push([bound, String(value)]);
  }
  return params;
}
