import type { ErrorRequestHandler, Request, RequestHandler, Response } from 'express';
import { errorMessage } from '../../core/errors.js';
import type { Logger } from '../../core/log/logger.js';

/** Sends an HTML error page with this status and message (views/page-router.ts sendErrorPage). */
export type ErrorPageSender = (res: Response, status: number, what: string) => void;

/** Dashboard answers describe live state: no cache between the browser and this process keeps them. */
export function noStore(res: Response): Response {
  return res.set('Cache-Control', 'no-store');
}

/**
 * A browser navigating (Accept prefers text/html over JSON) outside /api gets an HTML page; API
 * clients, scripts (Accept: *\/*, or none) and anything under /api keep JSON.
 */
export function wantsPage(req: Request): boolean {
  return !req.path.startsWith('/api/') && req.path !== '/api' && req.accepts(['json', 'html']) === 'html';
}

/** The last handlers: unknown paths are a 404, as a page for a browser and JSON for anything else. */
export function notFound(sendPage: ErrorPageSender): RequestHandler[] {
  return [
    (req, res, next) => {
      if (req.path === '/api' || req.path.startsWith('/api/')) noStore(res).status(404).json({ error: 'not found' });
      else next();
    },
    (req, res) => {
      if (wantsPage(req)) sendPage(res, 404, `Nothing at ${req.path}.`);
      else noStore(res).status(404).json({ error: 'not found' });
    },
  ];
}

/**
 * Client errors (bad JSON, body too large, a path that is not valid percent-encoding) keep their own
 * short message; anything else is a bare 500. Browsers get it as a page (wantsPage), others as JSON.
 */
export function errorResponses(logger: Logger, sendPage: ErrorPageSender): ErrorRequestHandler {
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
