/**
 * The documented shape of one /coins/markets item (shared/reference/coingecko-api.md §3.3, with the
 * SDK's nullability) and the validation every record goes through before it may be loaded.
 * A record that fails is quarantined with the reason; it never fails its batch.
 */

export type FieldKind = 'string' | 'number' | 'rank' | 'iso-date' | 'roi' | 'sparkline';

interface FieldSpec {
  readonly kind: FieldKind;
  /** Required fields must be present and non-null; the rest may be null or missing (→ null). */
  readonly required?: boolean;
  /** Prices, caps, volumes and supplies cannot be negative. */
  readonly nonNegative?: boolean;
}

/** Every documented field, in CoinGecko's key order. Unknown fields are reported as schema drift. */
export const MARKET_FIELDS: Readonly<Record<string, FieldSpec>> = {
  id: { kind: 'string', required: true },
  symbol: { kind: 'string', required: true },
  name: { kind: 'string', required: true },
  image: { kind: 'string' },
  current_price: { kind: 'number', nonNegative: true },
  market_cap: { kind: 'number', nonNegative: true },
  market_cap_rank: { kind: 'rank' },
  fully_diluted_valuation: { kind: 'number', nonNegative: true },
  total_volume: { kind: 'number', nonNegative: true },
  high_24h: { kind: 'number', nonNegative: true },
  low_24h: { kind: 'number', nonNegative: true },
  price_change_24h: { kind: 'number' },
  price_change_percentage_24h: { kind: 'number' },
  market_cap_change_24h: { kind: 'number' },
  market_cap_change_percentage_24h: { kind: 'number' },
  circulating_supply: { kind: 'number', nonNegative: true },
  total_supply: { kind: 'number', nonNegative: true },
  max_supply: { kind: 'number', nonNegative: true },
  ath: { kind: 'number', nonNegative: true },
  ath_change_percentage: { kind: 'number' },
  ath_date: { kind: 'iso-date' },
  atl: { kind: 'number', nonNegative: true },
  atl_change_percentage: { kind: 'number' },
  atl_date: { kind: 'iso-date' },
  roi: { kind: 'roi' },
  last_updated: { kind: 'iso-date', required: true },
  sparkline_in_7d: { kind: 'sparkline' },
  price_change_percentage_1h_in_currency: { kind: 'number' },
  price_change_percentage_24h_in_currency: { kind: 'number' },
  price_change_percentage_7d_in_currency: { kind: 'number' },
  price_change_percentage_14d_in_currency: { kind: 'number' },
  price_change_percentage_30d_in_currency: { kind: 'number' },
  price_change_percentage_200d_in_currency: { kind: 'number' },
  price_change_percentage_1y_in_currency: { kind: 'number' },
  market_cap_rank_with_rehypothecated: { kind: 'rank' },
};

/** A validated record: every documented field present (null when CoinGecko sent null or nothing). */
export interface MarketRecord {
  readonly id: string;
  readonly symbol: string;
  readonly name: string;
  readonly lastUpdated: string;
  readonly values: Readonly<Record<string, unknown>>;
  /** Field names CoinGecko sent that the documented schema does not have. */
  readonly unknownFields: readonly string[];
  readonly source: Record<string, unknown>;
}

export type MarketRecordResult =
  | { readonly ok: true; readonly record: MarketRecord }
  | { readonly ok: false; readonly coinId: string | null; readonly reason: string; readonly source: unknown };

// ISO-8601 UTC timestamps as CoinGecko writes them (`2024-06-12T09:41:07.318Z`); offsets tolerated.
const ISO_DATE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:?\d{2})$/;
const MAX_ID_LENGTH = 200;

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'string')
    return `string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
  if (typeof value === 'object') return 'object';
  return `${typeof value} ${String(value)}`;
}

/** Checks one present (non-null) value of a field; undefined when it is fine. */
type Check = (value: unknown) => string | undefined;

function checkerFor(name: string, spec: FieldSpec): Check {
  switch (spec.kind) {
    case 'string':
      return (value) => {
        if (typeof value !== 'string') return `${name}: expected string, got ${describe(value)}`;
        if (spec.required && value.trim() === '') return `${name}: empty`;
        // PostgreSQL text cannot hold NUL; one such record must not fail its whole COPY.
        if (value.includes('\u0000')) return `${name}: contains a NUL character`;
        if (name === 'id' && value.length > MAX_ID_LENGTH) return `id: longer than ${MAX_ID_LENGTH} characters`;
        return undefined;
      };
    case 'number':
      return spec.nonNegative
        ? (value) => {
            if (typeof value !== 'number' || !Number.isFinite(value))
              return `${name}: expected number or null, got ${describe(value)}`;
            return value < 0 ? `${name}: negative (${value})` : undefined;
          }
        : (value) =>
            typeof value !== 'number' || !Number.isFinite(value)
              ? `${name}: expected number or null, got ${describe(value)}`
              : undefined;
    case 'rank':
      return (value) =>
        typeof value !== 'number' || !Number.isInteger(value) || value < 1
          ? `${name}: expected positive integer or null, got ${describe(value)}`
          : undefined;
    case 'iso-date':
      return (value) =>
        typeof value !== 'string' || !ISO_DATE.test(value) || Number.isNaN(Date.parse(value))
          ? `${name}: expected ISO-8601 timestamp, got ${describe(value)}`
          : undefined;
    case 'roi':
      return (value) => {
        const roi = value as Record<string, unknown>;
        if (typeof value !== 'object' || Array.isArray(value))
          return `roi: expected object or null, got ${describe(value)}`;
        if (typeof roi.times !== 'number' || typeof roi.percentage !== 'number' || typeof roi.currency !== 'string') {
          return 'roi: expected {times: number, currency: string, percentage: number}';
        }
        return undefined;
      };
    case 'sparkline':
      return (value) => {
        const prices = (value as { price?: unknown }).price;
        if (typeof value !== 'object' || !Array.isArray(prices)) return 'sparkline_in_7d: expected {price: number[]}';
        for (const p of prices)
          if (p !== null && typeof p !== 'number') return 'sparkline_in_7d: expected {price: number[]}';
        return undefined;
      };
  }
}

type FieldReader = (
  item: Record<string, unknown>,
  checks: readonly Check[],
) => { values: Record<string, unknown>; problems: string[] | undefined; present: number };

/**
 * Reads and checks every documented field of one item, compiled once from MARKET_FIELDS. Generated
 * code because the generic loop (`item[name]`, `values[name] = …` over 35 names) made every access
 * megamorphic and was ~12% of a load's CPU; here each field is a named property access and `values`
 * is one object literal, so all records share one shape. The names come from MARKET_FIELDS only.
 */
function compileReader(fields: readonly (readonly [string, FieldSpec])[]): FieldReader {
  const lines = fields.map(([name, spec], i) => {
    const key = JSON.stringify(name);
    const missing = spec.required ? `(problems ??= []).push(${JSON.stringify(`${name}: missing`)});` : '';
    return `const v${i} = item[${key}];
      if (v${i} !== undefined) present++;
      if (v${i} === undefined || v${i} === null) { ${missing} } else { const p = checks[${i}](v${i}); if (p !== undefined) (problems ??= []).push(p); }`;
  });
  const literal = fields.map(([name], i) => `${JSON.stringify(name)}: v${i} ?? null`).join(', ');
  return new Function(
    'item',
    'checks',
    `let problems; let present = 0;\n${lines.join('\n')}\nreturn { values: { ${literal} }, problems, present };`,
  ) as FieldReader;
}

const FIELD_LIST = Object.entries(MARKET_FIELDS);
const CHECKS = FIELD_LIST.map(([name, spec]) => checkerFor(name, spec));
const readFields = compileReader(FIELD_LIST);
const DOCUMENTED = new Set(Object.keys(MARKET_FIELDS));

/** Validates one item; collects every problem so the quarantine reason is complete. */
export function validateMarketRecord(source: unknown): MarketRecordResult {
  if (source === null || typeof source !== 'object' || Array.isArray(source)) {
    return { ok: false, coinId: null, reason: `record: expected object, got ${describe(source)}`, source };
  }
  const item = source as Record<string, unknown>;
  const { values, problems, present } = readFields(item, CHECKS);
  if (problems !== undefined) {
    const coinId = typeof item.id === 'string' && item.id.length <= MAX_ID_LENGTH ? item.id : null;
    return { ok: false, coinId, reason: problems.join('; '), source };
  }
  // Every key is a documented one when there are exactly as many keys as documented fields present (null counts).
  const keys = Object.keys(item);
  const unknownFields = keys.length === present ? [] : keys.filter((k) => !DOCUMENTED.has(k));
  return {
    ok: true,
    record: {
      id: item.id as string,
      symbol: item.symbol as string,
      name: item.name as string,
      lastUpdated: item.last_updated as string,
      values,
      unknownFields,
      source: item,
    },
  };
}
