import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { Queue } from 'bullmq';
import type { Express, RequestHandler, Router } from 'express';
import type { QueueKey } from '../../core/queues/registry.js';
import { QUEUES } from '../../core/queues/registry.js';
import { ROUTE_LABEL } from '../metrics/dashboard-metrics.js';
import { basicAuth, BOARD_CSP, boardWriteGuard, type Credentials } from './security.js';

export const BOARD_PATH = '/queues';

export interface BoardOptions {
  /** Registry queues, in registry order. */
  readonly queues: ReadonlyArray<{ readonly key: QueueKey; readonly queue: Queue }>;
  /** Mount path; the UI embeds it, so it must equal the `app.use()` path. */
  readonly basePath: string;
  /** Read-only: every adapter refuses actions and the title says so. */
  readonly readOnly: boolean;
  /** Failures inside the board's API (logged by the caller; the client gets no message or stack). */
  readonly onError: (error: Error) => void;
}

/** Bull Board over the registry's queues: one BullMQAdapter per queue, described by the registry. */
export function createBoardRouter(options: BoardOptions): Router {
  const serverAdapter = new ExpressAdapter();
  serverAdapter.setBasePath(options.basePath);
  createBullBoard({
    queues: options.queues.map(
      ({ key, queue }) =>
        new BullMQAdapter(queue, { readOnlyMode: options.readOnly, description: QUEUES[key].description }),
    ),
    serverAdapter,
    options: {
      uiConfig: {
        boardTitle: options.readOnly ? 'CDP queues (read-only)' : 'CDP queues',
        // Anonymous visitors see jobs, not the Redis server's memory, version and clients.
        hideRedisDetails: options.readOnly,
        // Off: it costs a CLIENT LIST per queue on every UI poll.
        showWorkers: false,
      },
    },
  });
  // Replaces the board's default handler, which returns the error message (and, under
  // NODE_ENV=development, the stack) to the client.
  serverAdapter.setErrorHandler((error) => {
    options.onError(error);
    const status = (error as { statusCode?: unknown }).statusCode;
    return {
      status: status === 400 || status === 404 || status === 409 ? status : 500,
      body: { error: { key: 'ERRORS.INTERNAL_SERVER_ERROR' }, message: 'internal error' },
    };
  });
  // getRouter() returns the board's own express app, which announces itself unless told not to.
  const board = serverAdapter.getRouter() as Express;
  board.disable('x-powered-by');
  withoutThirdPartyFonts(board);
  return board;
}

/** The stylesheet link @bull-board/ui's index.ejs puts in every page's head. */
const GOOGLE_FONTS_LINK = /<link\b[^>]*\bhref="https:\/\/fonts\.googleapis\.com\/[^"]*"[^>]*>\s*/g;

/**
 * The board's page asks fonts.googleapis.com for its web fonts: an admin page telling a third party
 * who opens it, and a stylesheet that never loads offline. Its own CSS names system fallbacks, so the
 * link is removed from the rendered page: the board's ejs engine (set by setViewsPath) is wrapped.
 */
function withoutThirdPartyFonts(board: Express): void {
  type Render = (file: string, options: object, callback: (error: Error | null, html?: string) => void) => void;
  const engines = (board as unknown as { engines: Record<string, Render | undefined> }).engines;
  const render = engines['.ejs'];
  if (!render)
    throw new Error('createBoardRouter: Bull Board registered no ejs engine (did @bull-board/express change?)');
  board.engine('ejs', (file, options, callback) => {
    render(file, options, (error, html) => callback(error, html?.replace(GOOGLE_FONTS_LINK, '')));
  });
}

/**
 * Everything mounted at BOARD_PATH: its request metric label (the board's own paths are many and
 * unbounded), its own CSP (its UI needs inline styles the pages' policy refuses), basic auth when
 * credentials are set, read-only without them, and the board.
 */
export function boardRoutes(
  options: Omit<BoardOptions, 'basePath' | 'readOnly'> & {
    readonly credentials: Credentials | undefined;
  },
): RequestHandler[] {
  const readOnly = options.credentials === undefined;
  return [
    (req, res, next) => {
      res.locals[ROUTE_LABEL] =
        BOARD_PATH + (req.path.startsWith('/api/') ? '/api' : req.path.startsWith('/static/') ? '/static' : '');
      res.setHeader('Content-Security-Policy', BOARD_CSP);
      next();
    },
    ...(options.credentials ? [basicAuth(options.credentials)] : []),
    boardWriteGuard(readOnly),
    createBoardRouter({ ...options, basePath: BOARD_PATH, readOnly }),
  ];
}
