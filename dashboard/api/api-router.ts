import type { Queue } from 'bullmq';
import express from 'express';
import type { NextFunction, Request, Response } from 'express';
import type pg from 'pg';
import { ROUTE_LABEL } from '../metrics/dashboard-metrics.js';
import { recentRuns } from '../queries/run-queries.js';
import { transformEvents, type TransformEventsOptions } from '../live/transform-events.js';
import { csvFilename, sendCsv } from './csv-export.js';
import { CsvQueries } from '../queries/csv-queries.js';
import { historyRuns } from '../queries/history-queries.js';
import { MarketQueries } from '../queries/market-queries.js';
import type { CoinFilters } from '../queries/coin-filters.js';
import { AnomalyQueries } from '../queries/anomaly-queries.js';
import { openApiDocument } from './openapi.js';
import { coinId, coinIdError, ParamError, parseQuery } from './params.js';
import { API_QUERIES, type ApiPath, type ApiQuery } from './query-schemas.js';
import { coverageGaps } from '../queries/gap-queries.js';
import { operations } from '../queries/operations-queries.js';
import {
  callBudget,
  freshness,
  quarantine,
  queueDepths,
  staleObservations,
  transformRuns,
} from '../queries/pipeline-queries.js';

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

export type { ApiPath } from './query-schemas.js';

/** Every endpoint and the names of the query parameters it takes, in order: the keys of its API_QUERIES schema. */
export const API_PARAMS: Readonly<Record<ApiPath, readonly string[]>> = (() => {
  const names = {} as Record<ApiPath, readonly string[]>;
  for (const path of Object.keys(API_QUERIES) as ApiPath[]) names[path] = Object.keys(API_QUERIES[path].shape);
  return names;
})();

/**
 * /api/v1: everything the pages show, as JSON. Parameters are validated before any query (a bad one
 * is a 400 naming it); reads touch the marts and pipeline tables only.
 */
export function createApiRouter(deps: ApiDeps): express.Router {
  const market = new MarketQueries(deps.pool, deps.martsSchema);
  const csv = new CsvQueries(deps.martsSchema);
  const anomalies = new AnomalyQueries(deps.pool, deps.martsSchema);
  const router = express.Router();
  router.use((_req, res, next) => {
    res.set('Cache-Control', 'no-store');
    next();
  });
  /**
   * A route: once it matched, labels the request metric with the full pattern (/api/v1/coins/:id)
   * and parses the query with the route's schema (a bad or unknown parameter is a 400 before any
   * query); the handler gets the values.
   */
  const get = <P extends ApiPath>(
    path: P,
    handler: (req: Request, res: Response, query: ApiQuery<P>, next: NextFunction) => unknown,
  ) =>
    router.get(path, (req, res, next) => {
      res.locals[ROUTE_LABEL] = `${req.baseUrl}${String(req.route?.path ?? '')}`;
      return handler(req, res, parseQuery(API_QUERIES[path], req.query), next);
    });

  get('/runs', async (_req, res, query) => {
    res.json({ runs: await recentRuns(deps.pool, query.limit) });
  });

  get(
    '/market/overview',
    marts(async (_req, res) => {
      const overview = await market.overview();
      if (!overview) return notBuilt(res);
      res.json({ overview });
    }),
  );

  get(
    '/coins',
    marts(async (_req, res, query) => {
      const params = {
        sort: query.sort,
        order: query.order,
        search: query.q,
        page: query.page,
        pageSize: query.pageSize,
        filters: screenerFilters(query),
      };
      const { coins, total } = await market.coins(params);
      res.json({
        ...params,
        search: params.search ?? null,
        // Every filter echoed, an absent bound as null.
        filters: Object.fromEntries(Object.entries(params.filters).map(([name, value]) => [name, value ?? null])),
        total,
        pages: Math.max(1, Math.ceil(total / params.pageSize)),
        coins,
      });
    }),
  );

  get(
    '/coins/:id',
    marts(async (req, res) => {
      const id = coinId(String(req.params.id));
      const coin = await market.coin(id);
      if (!coin) return unknownCoin(res, id);
      res.json({ coin });
    }),
  );

  get(
    '/coins/:id/candles',
    marts(async (req, res, query) => {
      const id = coinId(String(req.params.id));
      const candles = await market.candles(id, query.interval, query.range); // undefined for an unknown coin: one statement
      if (!candles) return unknownCoin(res, id);
      res.json(candles);
    }),
  );

  get(
    '/coins.csv',
    marts(async (_req, res, query) => {
      const select = csv.coins({
        sort: query.sort,
        order: query.order,
        search: query.q,
        filters: screenerFilters(query),
      });
      await sendCsv(deps.pool, res, select, csvFilename('coins', query.sort, query.order));
    }),
  );

  get(
    '/coins/:id/candles.csv',
    marts(async (req, res, query) => {
      const id = coinId(String(req.params.id));
      const known = await deps.pool.query<{ known: boolean }>(csv.knows(id));
      if (!known.rows[0]?.known) return unknownCoin(res, id);
      await sendCsv(
        deps.pool,
        res,
        csv.candles(id, query.interval, query.range),
        csvFilename(id, query.interval, query.range),
      );
    }),
  );

  get(
    '/anomalies',
    marts(async (_req, res, { page, pageSize, ...filters }) => {
      const feed = await anomalies.page(filters, page, pageSize);
      res.json({
        ...filters,
        rankTo: filters.rankTo ?? null,
        minZ: filters.minZ ?? null,
        page,
        pageSize,
        pages: Math.max(1, Math.ceil(feed.total / pageSize)),
        ...feed,
      });
    }),
  );

  get(
    '/anomalies.csv',
    marts(async (_req, res, filters) => {
      const name = csvFilename(
        'anomalies',
        filters.window,
        filters.direction,
        `rank${filters.rankFrom}-${filters.rankTo ?? 'all'}`,
        `z${filters.minZ ?? 'any'}`,
      );
      await sendCsv(deps.pool, res, anomalies.csv(filters), name);
    }),
  );

  get('/pipeline/freshness', async (_req, res) => {
    res.json({ freshness: await freshness(deps.pool, deps.staleAfterSeconds) });
  });

  get('/pipeline/transform-runs', async (_req, res, query) => {
    res.json({ transformRuns: await transformRuns(deps.pool, query.limit) });
  });

  get('/pipeline/quarantine', async (_req, res, query) => {
    res.json(await quarantine(deps.pool, query.limit));
  });

  get('/pipeline/stale-observations', async (_req, res, query) => {
    res.json(await staleObservations(deps.pool, query.limit));
  });

  get(
    '/pipeline/stale-coins',
    marts(async (_req, res, query) => {
      res.json(await market.staleCoins(query.limit));
    }),
  );

  get('/pipeline/history', async (_req, res, query) => {
    res.json({ historyRuns: await historyRuns(deps.pool, query.limit) });
  });

  get('/pipeline/call-budget', async (_req, res) => {
    res.json({ callBudget: await callBudget(deps.pool) });
  });
  get('/pipeline/queues', async (_req, res) => {
    res.json({ queues: await queueDepths(deps.queues, deps.timeoutMs) });
  });

  get('/pipeline/gaps', async (_req, res, query) => {
    res.json(await coverageGaps(deps.pool, query.limit));
  });

  get('/pipeline/operations', async (_req, res, query) => {
    res.json({ operations: await operations(deps.pool, query.window) });
  });

  // Built once: it depends on the schemas only.
  const document = openApiDocument();
  get('/openapi.json', (_req, res) => {
    res.json(document);
  });

  const events = transformEvents(deps.pool, deps.events);
  get('/events', (req, res) => events(req, res));

  router.use(paramErrors);
  return router;
}

/** The screener's part of a /coins or /coins.csv query (queries/coin-filters.ts). */
function screenerFilters(query: ApiQuery<'/coins'> | ApiQuery<'/coins.csv'>): CoinFilters {
  const { marketCapMin, marketCapMax, changeWindow, changeMin, changeMax, volumeMin } = query;
  return { marketCapMin, marketCapMax, changeWindow, changeMin, changeMax, volumeMin };
}

/** Marts missing entirely (no transform has run yet on this database) answer 503, not 500. */
function marts<Q>(handler: (req: Request, res: Response, query: Q) => Promise<void>) {
  return async (req: Request, res: Response, query: Q, next: NextFunction): Promise<void> => {
    try {
      await handler(req, res, query);
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
  const badPath =
    error instanceof URIError && (error as { status?: unknown }).status === 400
      ? coinIdError('not valid percent-encoded UTF-8')
      : undefined;
  const paramError = error instanceof ParamError ? error : badPath;
  if (paramError) {
    res.status(400).json({ error: paramError.message, parameter: paramError.param });
    return;
  }
  next(error);
}
