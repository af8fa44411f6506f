import express from 'express';
import type { Redis } from 'ioredis';
import type pg from 'pg';
import type { AppConfig } from '../core/config/index.js';
import { errorMessage } from '../core/errors.js';
import { rootLogger, type Logger } from '../core/log/logger.js';
import { createApiRouter } from './api/api-router.js';
import { responseCache, type ResponseCache, type ResponseCacheOptions } from './api/response-cache.js';
import { createAssetsRouter } from './http/assets.js';
import { BOARD_PATH, boardRoutes } from './http/board.js';
import { createHealthRouter } from './http/health.js';
import { registryQueues, type QueueSource } from './http/registry-queues.js';
import { errorResponses, notFound } from './http/responses.js';
import { securityHeaders } from './http/security.js';
import type { TransformEventsOptions } from './live/transform-events.js';
import { TransformWatch } from './live/transform-watch.js';
import { createDashboardMetrics, metricsRoute, observeRequests } from './metrics/dashboard-metrics.js';
import { MarketQueries } from './queries/market-queries.js';
import type { PageFrame } from './views/layout.js';
import { createPageRouter, errorPageSender } from './views/page-router.js';

export { BOARD_PATH } from './http/board.js';

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
  readonly queues: QueueSource;
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
  const { config, pool } = deps;
  const queues = registryQueues(deps.queues, config);
  const staleAfterSeconds = config.freshness.staleAfterSeconds;
  const martsSchema = `${config.transform.schema}_marts`;
  const metrics = createDashboardMetrics(
    queues.map((q) => q.queue),
    {
      timeoutMs,
      onError: (queue, error) => logger.warn('could not read queue job counts', { queue, reason: errorMessage(error) }),
      freshness: {
        pool,
        staleAfterSeconds,
        onError: (error) => logger.warn('could not read freshness gauges', { reason: errorMessage(error) }),
      },
    },
  );
  const frame: PageFrame = { boardReadOnly: config.dashboard.credentials === undefined, staleAfterSeconds };
  const errorPage = errorPageSender(frame);
  // One view of the newest transform run for the live updates and the response cache (see TransformWatch).
  const watch = new TransformWatch(pool, (deps.cache || undefined)?.maxAgeMs ?? 1000);
  const cache = deps.cache === false ? undefined : apiCache(deps.cache, watch, logger);
  if (cache) deps.onCache?.(cache);

  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use(securityHeaders());
  app.use(observeRequests(metrics.requestDuration));
  app.use(express.json({ limit: '100kb' }));
  app.use(createHealthRouter({ pool, redis: deps.redis, pendingMigrations: deps.checkMigrations, timeoutMs, logger }));
  app.get('/metrics', metricsRoute(metrics));
  app.use(
    '/api/v1',
    ...(cache ? [cache.middleware] : []),
    createApiRouter({
      pool,
      martsSchema,
      staleAfterSeconds,
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
  app.use(createPageRouter({ market: new MarketQueries(pool, martsSchema), frame, logger }));
  app.use(
    BOARD_PATH,
    ...boardRoutes({
      queues,
      credentials: config.dashboard.credentials,
      onError: (error) => logger.error('queue board request failed', { reason: errorMessage(error) }),
    }),
  );
  app.use(...notFound(errorPage));
  app.use(errorResponses(logger, errorPage));
  return app;
}

function apiCache(options: Exclude<AppDeps['cache'], false>, watch: TransformWatch, logger: Logger): ResponseCache {
  return responseCache({
    maxBytes: options?.maxBytes,
    maxEntries: options?.maxEntries,
    watch,
    onError: (error) =>
      logger.warn('could not read the newest transform run for the response cache', { reason: errorMessage(error) }),
  });
}
