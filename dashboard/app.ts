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
import { LIMIT_ERROR, parseLimit, recentRuns, type RunSummary } from './runs.js';
import { basicAuth, BOARD_CSP, boardWriteGuard, securityHeaders } from './security.js';
import { HOME_PAGE_CSP, HOME_RUNS, renderHomePage } from './views/home-page.js';

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
  readonly logger?: Logger;
}

/** The dashboard: health probes, /metrics, Bull Board, the runs API and a landing page. Does not listen. */
export function createApp(deps: AppDeps): express.Express {
  const logger = deps.logger ?? rootLogger;
  const timeoutMs = deps.timeoutMs ?? 2000;
  const queues = registryQueues(deps.queues, deps.config);
  const credentials = deps.config.dashboard.credentials;
  const metrics = createDashboardMetrics(
    queues.map((q) => q.queue),
    {
      timeoutMs,
      pool: deps.pool,
      onError: (queue, error) => logger.warn('could not read queue job counts', { queue, reason: errorMessage(error) }),
      onFreshnessError: (error) => logger.warn('could not read freshness gauges', { reason: errorMessage(error) }),
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
    const readiness = await checkReadiness({ pool: deps.pool, redis: deps.redis, pendingMigrations: deps.checkMigrations, timeoutMs });
    for (const [check, error] of Object.entries(readiness.errors)) logger.warn('readiness check failed', { check, reason: errorMessage(error) });
    noStore(res)
      .status(readiness.ready ? 200 : 503)
      .json({ status: readiness.ready ? 'ready' : 'unavailable', checks: readiness.checks });
  });

  app.get('/metrics', async (_req, res) => {
    const text = await metrics.metrics();
    noStore(res).type(metrics.contentType).send(text);
  });

  app.get('/api/v1/runs', async (req, res) => {
    const limit = parseLimit(req.query.limit);
    if (limit === undefined) {
      noStore(res).status(400).json({ error: LIMIT_ERROR });
      return;
    }
    noStore(res).json({ runs: await recentRuns(deps.pool, limit) });
  });

  app.get('/', async (_req, res) => {
    let runs: RunSummary[] | undefined;
    try {
      runs = await recentRuns(deps.pool, HOME_RUNS);
    } catch (error) {
      logger.warn('could not read runs for the home page', { reason: errorMessage(error) });
    }
    noStore(res)
      .status(runs ? 200 : 503)
      .set('Content-Security-Policy', HOME_PAGE_CSP)
      .type('html')
      .send(renderHomePage({ runs, boardReadOnly: credentials === undefined }));
  });

  app.use(
    BOARD_PATH,
    (req, res, next) => {
      res.locals[ROUTE_LABEL] = BOARD_PATH + (req.path.startsWith('/api/') ? '/api' : req.path.startsWith('/static/') ? '/static' : '');
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
  app.use((_req, res) => {
    noStore(res).status(404).type('text').send('Not found');
  });
  app.use(jsonErrors(logger));
  return app;
}

function noStore(res: Response): Response {
  return res.set('Cache-Control', 'no-store');
}

/** Client errors (bad JSON, body too large) keep their own short message; anything else is a bare 500. */
function jsonErrors(logger: Logger): ErrorRequestHandler {
  return (error: unknown, req: Request, res: Response, next) => {
    if (res.headersSent) {
      next(error);
      return;
    }
    const err = error as { status?: unknown; statusCode?: unknown; expose?: unknown };
    const status = typeof err.status === 'number' ? err.status : typeof err.statusCode === 'number' ? err.statusCode : 500;
    const clientError = status >= 400 && status < 500;
    if (!clientError) logger.error('request failed', { method: req.method, path: req.path, reason: errorMessage(error) });
    noStore(res)
      .status(clientError ? status : 500)
      .json({ error: clientError && err.expose === true ? errorMessage(error) : clientError ? 'bad request' : 'internal error' });
  };
}

/** Resolves and checks one queue per registry entry, in registry order. */
function registryQueues(source: AppDeps['queues'], config: AppConfig): Array<{ key: QueueKey; queue: Queue }> {
  const given = typeof source === 'function' ? undefined : source;
  if (given) {
    const unknown = given.filter((q) => !QUEUE_KEYS.some((key) => QUEUES[key].name === q.name));
    if (unknown.length > 0) throw new Error(`createApp: queues not in the registry: ${unknown.map((q) => q.name).join(', ')}`);
  }
  return QUEUE_KEYS.map((key) => {
    const name = QUEUES[key].name;
    const queue = typeof source === 'function' ? source(key) : given!.find((q) => q.name === name);
    if (!queue || queue.name !== name) throw new Error(`createApp: no queue for registry entry "${key}" (name "${name}")`);
    if (queue.opts.prefix !== config.redis.prefix) {
      throw new Error(`createApp: queue "${name}" uses prefix "${queue.opts.prefix ?? 'bull'}", the pipeline uses "${config.redis.prefix}"`);
    }
    if (queue.opts.streams?.events.maxLen !== EVENTS_MAX_LEN) {
      throw new Error(`createApp: queue "${name}" must trim its events stream to EVENTS_MAX_LEN (${EVENTS_MAX_LEN}) like every pipeline process`);
    }
    return { key, queue };
  });
}
