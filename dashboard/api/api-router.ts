import type { Queue } from 'bullmq';
import express from 'express';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type pg from 'pg';
import { ROUTE_LABEL } from '../metrics.js';
import { DEFAULT_RUNS_LIMIT, MAX_RUNS_LIMIT, recentRuns } from '../runs.js';
import { transformEvents, type TransformEventsOptions } from '../live/transform-events.js';
import { CANDLE_INTERVALS, CANDLE_RANGES, COIN_SORTS, MarketQueries, type CoinSort } from './market-queries.js';
import { coinId, coinIdError, integer, oneOf, onlyParams, ParamError, searchText } from './params.js';
import { freshness, quarantine, queueDepths, transformRuns } from './pipeline-queries.js';

export interface ApiDeps {
  readonly pool: pg.Pool;
  /** `<TRANSFORM_SCHEMA>_marts`. */
  readonly martsSchema: string;
  /** STALE_AFTER (config.freshness): the freshness the pipeline page reports is judged by it. */
  readonly staleAfterSeconds: number;
  readonly queues: ReadonlyArray<{ readonly key: string; readonly queue: Queue }>;
  readonly timeoutMs: number;
  readonly events?: TransformEventsOptions;
}

export const COIN_SORT_KEYS = Object.keys(COIN_SORTS) as CoinSort[];
export const MAX_PAGE_SIZE = 100;

/**
 * Every endpoint and the query parameters it takes (any other is a 400). The router is built from
 * this list, and the API fuzz test covers exactly these, so a new endpoint cannot go untested.
 */
export const API_PARAMS = {
  '/runs': ['limit'],
  '/market/overview': [],
  '/coins': ['sort', 'order', 'q', 'page', 'pageSize'],
  '/coins/:id': [],
  '/coins/:id/candles': ['interval', 'range'],
  '/pipeline/freshness': [],
  '/pipeline/transform-runs': ['limit'],
  '/pipeline/quarantine': ['limit'],
  '/pipeline/stale-coins': ['limit'],
  '/pipeline/queues': [],
  '/events': [],
} as const satisfies Record<string, readonly string[]>;
export type ApiPath = keyof typeof API_PARAMS;

/**
 * /api/v1: everything the pages show, as JSON. Parameters are validated before any query (a bad one
 * is a 400 naming it); reads touch the marts and pipeline tables only.
 */
export function createApiRouter(deps: ApiDeps): express.Router {
  const market = new MarketQueries(deps.pool, deps.martsSchema);
  const router = express.Router();
  router.use((_req, res, next) => {
    res.set('Cache-Control', 'no-store');
    next();
  });
  // Runs once a route matched: labels the request metric with the full pattern (/api/v1/coins/:id).
  const takes = (path: ApiPath): RequestHandler => (req, res, next) => {
    res.locals[ROUTE_LABEL] = `${req.baseUrl}${String(req.route?.path ?? '')}`;
    onlyParams(req.query, API_PARAMS[path]);
    next();
  };
  const get = (path: ApiPath, handler: RequestHandler) => router.get(path, takes(path), handler);

  get('/runs', async (req, res) => {
    res.json({ runs: await recentRuns(deps.pool, integer(req.query, 'limit', 1, MAX_RUNS_LIMIT, DEFAULT_RUNS_LIMIT)) });
  });

  get('/market/overview', marts(async (_req, res) => {
    const overview = await market.overview();
    if (!overview) return notBuilt(res);
    res.json({ overview });
  }));

  get('/coins', marts(async (req, res) => {
    const params = {
      sort: oneOf(req.query, 'sort', COIN_SORT_KEYS, 'rank'),
      order: oneOf(req.query, 'order', ['asc', 'desc'] as const, 'asc'),
      search: searchText(req.query, 'q'),
      page: integer(req.query, 'page', 1, 100_000, 1),
      pageSize: integer(req.query, 'pageSize', 1, MAX_PAGE_SIZE, 25),
    };
    const { coins, total } = await market.coins(params);
    res.json({ ...params, search: params.search ?? null, total, pages: Math.max(1, Math.ceil(total / params.pageSize)), coins });
  }));

  get('/coins/:id', marts(async (req, res) => {
    const id = coinId(String(req.params.id));
    const coin = await market.coin(id);
    if (!coin) return unknownCoin(res, id);
    res.json({ coin });
  }));

  get('/coins/:id/candles', marts(async (req, res) => {
    const id = coinId(String(req.params.id));
    const interval = oneOf(req.query, 'interval', CANDLE_INTERVALS, 'hourly');
    const range = oneOf(req.query, 'range', CANDLE_RANGES, '7d');
    const candles = await market.candles(id, interval, range); // undefined for an unknown coin: one statement
    if (!candles) return unknownCoin(res, id);
    res.json(candles);
  }));

  get('/pipeline/freshness', async (_req, res) => {
    res.json({ freshness: await freshness(deps.pool, deps.staleAfterSeconds) });
  });

  get('/pipeline/transform-runs', async (req, res) => {
    res.json({ transformRuns: await transformRuns(deps.pool, integer(req.query, 'limit', 1, 50, 5)) });
  });

  get('/pipeline/quarantine', async (req, res) => {
    res.json(await quarantine(deps.pool, integer(req.query, 'limit', 1, 500, 50)));
  });

  get('/pipeline/stale-coins', marts(async (req, res) => {
    res.json(await market.staleCoins(integer(req.query, 'limit', 1, 500, 50)));
  }));

  get('/pipeline/queues', async (_req, res) => {
    res.json({ queues: await queueDepths(deps.queues, deps.timeoutMs) });
  });

  get('/events', transformEvents(deps.pool, deps.events));

  router.use(paramErrors);
  return router;
}

/** Marts missing entirely (no transform has run yet on this database) answer 503, not 500. */
function marts(handler: (req: Request, res: Response) => Promise<void>): RequestHandler {
  return async (req, res, next) => {
    try {
      await handler(req, res);
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (code === '42P01' || code === '3F000') return notBuilt(res);
      next(error);
    }
  };
}

function notBuilt(res: Response): void {
  res.status(503).json({ error: 'market data is not built yet: no transform has run' });
}

function unknownCoin(res: Response, id: string): void {
  res.status(404).json({ error: `unknown coin: ${id}` });
}

function paramErrors(error: unknown, _req: Request, res: Response, next: NextFunction): void {
  // The router could not percent-decode a path parameter (`/coins/%E0%A4`, a lone surrogate
  // `%ED%A0%80`): refused like any other bad coin id. `:id` is the only path parameter of the API.
  const badPath = error instanceof URIError && (error as { status?: unknown }).status === 400 ? coinIdError('not valid percent-encoded UTF-8') : undefined;
  const paramError = error instanceof ParamError ? error : badPath;
  if (paramError) {
    res.status(400).json({ error: paramError.message, parameter: paramError.param });
    return;
  }
  next(error);
}
