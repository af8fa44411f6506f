import type { Queue } from 'bullmq';
import express from 'express';
import type { ErrorRequestHandler, Request, Response } from 'express';
import type { Redis } from 'ioredis';
import type pg from 'pg';
import type { AppConfig } from '../core/config/index.js';
import { errorMessage } from '../core/errors.js';
import { rootLogger, type Logger } from '../core/log/logger.js';
import { EVENTS_MAX_LEN } from '../core/queues/job-options.js';
import { QUEUE_KEYS, QUEUES, type QueueKey } from '../core/queues/registry.js';
import { createBoardRouter } from './board.js';
import { checkReadiness } from './health.js';
import { createDashboardMetrics, observeRequests, ROUTE_LABEL } from './metrics.js';
import { createApiRouter } from './api/api-router.js';
import { MarketQueries } from './api/market-queries.js';
import { coinId, ParamError } from './api/params.js';
import { createAssetsRouter } from './assets.js';
import type { TransformEventsOptions } from './live/transform-events.js';
import { TransformWatch } from './live/transform-watch.js';
import { responseCache, type ResponseCache, type ResponseCacheOptions } from './api/response-cache.js';
import { basicAuth, BOARD_CSP, boardWriteGuard, securityHeaders } from './security.js';
import { FAVICON_SVG, PAGE_CSP, type PageFrame } from './views/layout.js';
import { renderCoinPage, renderMarketPage, renderErrorPage, renderPipelinePage } from './views/pages.js';

export const BOARD_PATH = '/queues';

export interface AppDeps {
  readonly config: AppConfig;
  /** Serves the runs API and page, and the readiness `select 1`. */
  readonly pool: pg.Pool;
  /** For the readiness PING: a fail-fast client (core/queues/redis.ts), so an outage answers at once. */
  readonly redis: Redis;
  /**
   * The registry's queues (e.g. `(key) => runtime.queue(key)`), or an array holding exactly one queue
   * per registry entry. Each must use config.redis.prefix and EVENTS_MAX_LEN, as every pipeline
   * process does: Bull Board's Queue instances write the queue's meta like any other.
   */
  readonly queues: readonly Queue[] | ((key: QueueKey) => Queue);
  /** Resolves true while a migration is pending: `() => pendingMigrations(dataSource)`. */
  readonly checkMigrations: () => Promise<boolean>;
  /** Per readiness check and per queue count on /metrics; default 2 s. */
  readonly timeoutMs?: number;
  /** Live updates (/api/v1/events): poll interval and limits; defaults suit production. */
  readonly events?: TransformEventsOptions;
  /**
   * Market API responses kept until the next transform run (api/response-cache.ts); false turns it off.
   * maxAgeMs: how old this process's view of the newest run may get before a request checks it (1 s).
   */
  readonly cache?: (Pick<ResponseCacheOptions, 'maxBytes' | 'maxEntries'> & { readonly maxAgeMs?: number }) | false;
  /** Receives the cache, for its hit and miss counts. */
  readonly onCache?: (cache: ResponseCache) => void;
  readonly logger?: Logger;
}

/**
 * The dashboard: market, coin and pipeline pages, the /api/v1 JSON API they read (with live updates
 * over server-sent events), Bull Board, /metrics and health probes. Does not listen. Keeps no state
 * between requests that matters, so any number of replicas can serve.
 */
export function createApp(deps: AppDeps): express.Express {
  const logger = deps.logger ?? rootLogger;
  const timeoutMs = deps.timeoutMs ?? 2000;
  const queues = registryQueues(deps.queues, deps.config);
  const credentials = deps.config.dashboard.credentials;
  const metrics = createDashboardMetrics(
    queues.map((q) => q.queue),
    {
      timeoutMs,
      onError: (queue, error) => logger.warn('could not read queue job counts', { queue, reason: errorMessage(error) }),
      freshness: {
        pool: deps.pool,
        staleAfterSeconds: deps.config.freshness.staleAfterSeconds,
        onError: (error) => logger.warn('could not read freshness gauges', { reason: errorMessage(error) }),
      },
    },
  );

  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use(securityHeaders());
  app.use(observeRequests(metrics.requestDuration));
  app.use(express.json({ limit: '100kb' }));

  app.get('/healthz', (_req, res) => {
    noStore(res).json({ status: 'ok' });
  });

  app.get('/readyz', async (_req, res) => {
    const readiness = await checkReadiness({
      pool: deps.pool,
      redis: deps.redis,
      pendingMigrations: deps.checkMigrations,
      timeoutMs,
    });
    for (const [check, error] of Object.entries(readiness.errors))
      logger.warn('readiness check failed', { check, reason: errorMessage(error) });
    noStore(res)
      .status(readiness.ready ? 200 : 503)
      .json({ status: readiness.ready ? 'ready' : 'unavailable', checks: readiness.checks });
  });

  app.get('/metrics', async (_req, res) => {
    const text = await metrics.metrics();
    noStore(res).type(metrics.contentType).send(text);
  });

  const martsSchema = `${deps.config.transform.schema}_marts`;
  const market = new MarketQueries(deps.pool, martsSchema);
  const frame: PageFrame = {
    boardReadOnly: credentials === undefined,
    staleAfterSeconds: deps.config.freshness.staleAfterSeconds,
  };
  const page = (res: Response, status: number, html: string) =>
    noStore(res).status(status).set('Content-Security-Policy', PAGE_CSP).type('html').send(html);

  // One view of the newest transform run for the live updates and the response cache (see TransformWatch).
  const cacheOptions = deps.cache === false ? undefined : deps.cache;
  const watch = new TransformWatch(deps.pool, cacheOptions?.maxAgeMs ?? 1000);
  const cache =
    deps.cache === false
      ? undefined
      : responseCache({
          maxBytes: cacheOptions?.maxBytes,
          maxEntries: cacheOptions?.maxEntries,
          watch,
          onError: (error) =>
            logger.warn('could not read the newest transform run for the response cache', {
              reason: errorMessage(error),
            }),
        });
  if (cache) deps.onCache?.(cache);
  app.use(
    '/api/v1',
    ...(cache ? [cache.middleware] : []),
    createApiRouter({
      pool: deps.pool,
      martsSchema,
      staleAfterSeconds: deps.config.freshness.staleAfterSeconds,
      queues,
      timeoutMs,
      events: {
        onError: (error) =>
          logger.warn('could not poll transform runs for live updates', { reason: errorMessage(error) }),
        ...deps.events,
        watch,
      },
    }),
  );
  app.use('/assets', createAssetsRouter());
  // Browsers ask for it on their own; the pages link the same icon under /assets.
  app.get('/favicon.ico', (_req, res) => {
    res.set('Cache-Control', 'public, max-age=300').type('image/svg+xml').send(FAVICON_SVG);
  });

  app.get('/', (_req, res) => {
    page(res, 200, renderMarketPage(frame));
  });
  app.get('/pipeline', (_req, res) => {
    page(res, 200, renderPipelinePage(frame));
  });
  app.get('/coins/:id', async (req, res) => {
    let id: string;
    try {
      id = coinId(String(req.params.id));
    } catch (error) {
      if (!(error instanceof ParamError)) throw error;
      page(res, 400, renderErrorPage(400, error.message, frame));
      return;
    }
    const coin = await market.coin(id).catch((error: unknown) => {
      logger.warn('could not read a coin for its page', { reason: errorMessage(error) });
      return null;
    });
    if (coin === null)
      page(
        res,
        503,
        renderErrorPage(
          503,
          'Market data is unavailable: the database did not answer or no transform has run yet.',
          frame,
        ),
      );
    else if (coin === undefined) page(res, 404, renderErrorPage(404, `No coin "${id}" in the market data.`, frame));
    else page(res, 200, renderCoinPage(coin, frame));
  });

  app.use(
    BOARD_PATH,
    (req, res, next) => {
      res.locals[ROUTE_LABEL] =
        BOARD_PATH + (req.path.startsWith('/api/') ? '/api' : req.path.startsWith('/static/') ? '/static' : '');
      res.setHeader('Content-Security-Policy', BOARD_CSP);
      next();
    },
    ...(credentials ? [basicAuth(credentials)] : []),
    boardWriteGuard(credentials === undefined),
    createBoardRouter({
      queues,
      basePath: BOARD_PATH,
      readOnly: credentials === undefined,
      onError: (error) => logger.error('queue board request failed', { reason: errorMessage(error) }),
    }),
  );

  app.use('/api', (_req, res) => {
    noStore(res).status(404).json({ error: 'not found' });
  });
  app.use((req, res) => {
    if (wantsPage(req)) page(res, 404, renderErrorPage(404, `Nothing at ${req.path}.`, frame));
    else noStore(res).status(404).json({ error: 'not found' });
  });
  app.use(errorResponses(logger, (res, status, what) => page(res, status, renderErrorPage(status, what, frame))));
  return app;
}

/**
 * A browser navigating (Accept prefers text/html over JSON) outside /api gets an HTML page; API
 * clients, scripts (Accept: *\/*, or none) and anything under /api keep JSON.
 */
function wantsPage(req: Request): boolean {
  return !req.path.startsWith('/api/') && req.path !== '/api' && req.accepts(['json', 'html']) === 'html';
}

function noStore(res: Response): Response {
  return res.set('Cache-Control', 'no-store');
}

/**
 * Client errors (bad JSON, body too large, a path that is not valid percent-encoding) keep their own
 * short message; anything else is a bare 500. Browsers get it as a page (wantsPage), others as JSON.
 */
function errorResponses(
  logger: Logger,
  sendPage: (res: Response, status: number, what: string) => void,
): ErrorRequestHandler {
  return (error: unknown, req: Request, res: Response, next) => {
    if (res.headersSent) {
      next(error);
      return;
    }
    const err = error as { status?: unknown; statusCode?: unknown; expose?: unknown };
    const status =
      typeof err.status === 'number' ? err.status : typeof err.statusCode === 'number' ? err.statusCode : 500;
    const clientError = status >= 400 && status < 500;
    if (!clientError)
      logger.error('request failed', { method: req.method, path: req.path, reason: errorMessage(error) });
    const message =
      clientError && err.expose === true ? errorMessage(error) : clientError ? 'bad request' : 'internal error';
    if (wantsPage(req)) sendPage(res, clientError ? status : 500, message);
    else
      noStore(res)
        .status(clientError ? status : 500)
        .json({ error: message });
  };
}

/** Resolves and checks one queue per registry entry, in registry order. */
function registryQueues(source: AppDeps['queues'], config: AppConfig): Array<{ key: QueueKey; queue: Queue }> {
  const given = typeof source === 'function' ? undefined : source;
  if (given) {
    const unknown = given.filter((q) => !QUEUE_KEYS.some((key) => QUEUES[key].name === q.name));
    if (unknown.length > 0)
      throw new Error(`createApp: queues not in the registry: ${unknown.map((q) => q.name).join(', ')}`);
  }
  return QUEUE_KEYS.map((key) => {
    const name = QUEUES[key].name;
    const queue = typeof source === 'function' ? source(key) : given!.find((q) => q.name === name);
    if (!queue || queue.name !== name)
      throw new Error(`createApp: no queue for registry entry "${key}" (name "${name}")`);
    if (queue.opts.prefix !== config.redis.prefix) {
      throw new Error(
        `createApp: queue "${name}" uses prefix "${queue.opts.prefix ?? 'bull'}", the pipeline uses "${config.redis.prefix}"`,
      );
    }
    if (queue.opts.streams?.events.maxLen !== EVENTS_MAX_LEN) {
      throw new Error(
        `createApp: queue "${name}" must trim its events stream to EVENTS_MAX_LEN (${EVENTS_MAX_LEN}) like every pipeline process`,
      );
    }
    return { key, queue };
  });
}
