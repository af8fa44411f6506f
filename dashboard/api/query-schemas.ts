import { z } from 'zod';
import { DEFAULT_RUNS_LIMIT, MAX_RUNS_LIMIT } from '../queries/run-queries.js';
import { CANDLE_INTERVALS, CANDLE_RANGES, COIN_SORTS, type CoinSort } from '../queries/market-queries.js';
import { OPERATIONS_WINDOW_KEYS } from '../queries/operations-queries.js';
import { coinIdParam, integer, MAX_SEARCH_LENGTH, oneOf, searchText } from './params.js';

export const COIN_SORT_KEYS = Object.keys(COIN_SORTS) as CoinSort[];
export const MAX_PAGE_SIZE = 100;

const none = z.strictObject({});
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
  '/coins': z.strictObject({
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
  '/coins.csv': z.strictObject({
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
} as const satisfies Record<string, z.ZodObject>;

export type ApiPath = keyof typeof API_QUERIES;
/** What a route's handler gets: the parsed query, defaults filled in. */
export type ApiQuery<P extends ApiPath> = z.output<(typeof API_QUERIES)[P]>;

/** The path parameter of the routes that have one (`/coins/:id`, `/coins/:id/candles`). */
export const API_PATH_PARAMS = z.strictObject({ id: coinIdParam });
