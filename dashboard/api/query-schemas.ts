import { z } from 'zod';
import { DEFAULT_RUNS_LIMIT, MAX_RUNS_LIMIT } from '../queries/run-queries.js';
import { CANDLE_INTERVALS, CANDLE_RANGES, COIN_SORTS, type CoinSort } from '../queries/market-queries.js';
import { CHANGE_WINDOWS, MAX_AMOUNT_USD, MAX_CHANGE_PCT } from '../queries/coin-filters.js';
import { OPERATIONS_WINDOW_KEYS } from '../queries/operations-queries.js';
import { coinIdParam, decimal, integer, MAX_SEARCH_LENGTH, oneOf, searchText } from './params.js';
import { ANOMALY_DIRECTIONS, ANOMALY_WINDOWS, type AnomalyWindow } from '../queries/anomaly-queries.js';
import { optionalInteger } from './params.js';

export const COIN_SORT_KEYS = Object.keys(COIN_SORTS) as CoinSort[];
export const MAX_PAGE_SIZE = 100;

const none = z.strictObject({});

/**
 * The screener's filters, taken by /coins and /coins.csv alike (queries/coin-filters.ts applies them).
 * Bounds are inclusive; a coin without the value filtered on is left out.
 */
const SCREENER = {
  marketCapMin: decimal(0, MAX_AMOUNT_USD, 'USD, inclusive'),
  marketCapMax: decimal(0, MAX_AMOUNT_USD, 'USD, inclusive'),
  changeWindow: oneOf(CHANGE_WINDOWS, '24h'),
  changeMin: decimal(-100, MAX_CHANGE_PCT, 'percent over changeWindow, inclusive'),
  changeMax: decimal(-100, MAX_CHANGE_PCT, 'percent over changeWindow, inclusive'),
  volumeMin: decimal(0, MAX_AMOUNT_USD, '24h volume in USD, inclusive'),
};

/**
 * A minimum above its maximum is a 400 naming the maximum, rather than an empty table that reads as
 * a market without such coins.
 */
function minNotAboveMax(ctx: z.core.ParsePayload<Record<string, unknown>>): void {
  for (const [min, max] of [
    ['marketCapMin', 'marketCapMax'],
    ['changeMin', 'changeMax'],
  ] as const)
    if ((ctx.value[min] as number | undefined)! > (ctx.value[max] as number | undefined)!)
      ctx.issues.push({ code: 'custom', input: ctx.value, path: [max], message: `at least ${min}` });
}
/** A coin-table query (/coins, /coins.csv): its own parameters, then the screener's. */
const screened = <T extends z.ZodRawShape>(shape: T) => z.strictObject({ ...shape, ...SCREENER }).check(minNotAboveMax);
/** The anomaly feed's filters (queries/anomaly-queries.ts), shared by its page and its CSV. */
const anomalyFilters = {
  window: oneOf(Object.keys(ANOMALY_WINDOWS) as AnomalyWindow[], '24h'),
  rankFrom: integer(1, 100_000, 1),
  rankTo: optionalInteger(1, 100_000),
  minZ: decimal(0, 1000, '|robust z|, inclusive'),
  direction: oneOf(ANOMALY_DIRECTIONS, 'both'),
};
const limit = (max: number, fallback: number) => z.strictObject({ limit: integer(1, max, fallback) });

/**
 * Every /api/v1 endpoint and the query it takes: one strict zod object per route, the single place
 * parameters are declared. The router is built from this (dashboard/api/api-router.ts), parses each
 * request's query with its entry (any parameter not listed is a 400) and derives API_PARAMS, which
 * the API fuzz test covers exactly, so a new endpoint cannot go untested.
 *
 * Each parameter carries its description (what it allows), its default and, through codecs, both
 * sides of its JSON Schema, so an OpenAPI document can be generated from these with
 * z.toJSONSchema(schema, { io: 'input' }) for the query as sent, or io: 'output' for typed values.
 */
export const API_QUERIES = {
  '/runs': limit(MAX_RUNS_LIMIT, DEFAULT_RUNS_LIMIT),
  '/market/overview': none,
  '/coins': screened({
    sort: oneOf(COIN_SORT_KEYS, 'rank'),
    order: oneOf(['asc', 'desc'], 'asc'),
    q: searchText(MAX_SEARCH_LENGTH),
    page: integer(1, 100_000, 1),
    pageSize: integer(1, MAX_PAGE_SIZE, 25),
  }),
  '/coins/:id': none,
  '/coins/:id/candles': z.strictObject({
    interval: oneOf(CANDLE_INTERVALS, 'hourly'),
    range: oneOf(CANDLE_RANGES, '7d'),
  }),
  '/coins.csv': screened({
    sort: oneOf(COIN_SORT_KEYS, 'rank'),
    order: oneOf(['asc', 'desc'], 'asc'),
    q: searchText(MAX_SEARCH_LENGTH),
  }),
  '/coins/:id/candles.csv': z.strictObject({
    interval: oneOf(CANDLE_INTERVALS, 'hourly'),
    range: oneOf(CANDLE_RANGES, '7d'),
  }),
  '/pipeline/freshness': none,
  '/pipeline/transform-runs': limit(50, 5),
  '/pipeline/quarantine': limit(500, 50),
  '/pipeline/stale-coins': limit(500, 50),
  '/pipeline/stale-observations': limit(500, 50),
  '/pipeline/queues': none,
  '/pipeline/history': limit(100, 10),
  '/pipeline/call-budget': none,
  '/pipeline/gaps': limit(200, 20),
  '/pipeline/operations': z.strictObject({ window: oneOf(OPERATIONS_WINDOW_KEYS, '6h') }),
  '/events': none,
  '/openapi.json': none,
  '/anomalies': z.strictObject({ ...anomalyFilters, page: integer(1, 100_000, 1), pageSize: integer(1, 200, 50) }),
  '/anomalies.csv': z.strictObject(anomalyFilters),
} as const satisfies Record<string, z.ZodObject>;

export type ApiPath = keyof typeof API_QUERIES;
/** What a route's handler gets: the parsed query, defaults filled in. */
export type ApiQuery<P extends ApiPath> = z.output<(typeof API_QUERIES)[P]>;

/** The path parameter of the routes that have one (`/coins/:id`, `/coins/:id/candles`). */
export const API_PATH_PARAMS = z.strictObject({ id: coinIdParam });
