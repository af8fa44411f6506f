import express from 'express';
import type { Response } from 'express';
import { errorMessage } from '../../core/errors.js';
import type { Logger } from '../../core/log/logger.js';
import { coinId, ParamError } from '../api/params.js';
import { noStore } from '../http/responses.js';
import type { MarketQueries } from '../queries/market-queries.js';
import { FAVICON_SVG, PAGE_CSP, type PageFrame } from './layout.js';
import { renderCoinPage, renderErrorPage, renderMarketPage, renderPipelinePage } from './pages.js';
import { renderAnomaliesPage } from './anomalies-page.js';

/** An HTML page under the pages' strict policy (layout.ts PAGE_CSP); never cached, as it shows live state. */
export function sendPage(res: Response, status: number, html: string): void {
  noStore(res).status(status).set('Content-Security-Policy', PAGE_CSP).type('html').send(html);
}

/** The error page for this status and message, in the frame every page has. */
export function errorPageSender(frame: PageFrame): (res: Response, status: number, what: string) => void {
  return (res, status, what) => sendPage(res, status, renderErrorPage(status, what, frame));
}

/**
 * The pages: market (/), pipeline (/pipeline) and one per coin (/coins/:id), plus /favicon.ico.
 * The pages are shells their client modules fill from /api/v1; only the coin page reads the marts
 * first, so that an unknown coin is a 404 page rather than an empty chart.
 */
export function createPageRouter(deps: {
  readonly market: MarketQueries;
  readonly frame: PageFrame;
  readonly logger: Logger;
}): express.Router {
  const { market, frame, logger } = deps;
  const router = express.Router();
  const errorPage = errorPageSender(frame);

  // Browsers ask for it on their own; the pages link the same icon under /assets.
  router.get('/favicon.ico', (_req, res) => {
    res.set('Cache-Control', 'public, max-age=300').type('image/svg+xml').send(FAVICON_SVG);
  });
  router.get('/', (_req, res) => {
    sendPage(res, 200, renderMarketPage(frame));
  });
  router.get('/anomalies', (_req, res) => {
    sendPage(res, 200, renderAnomaliesPage(frame));
  });
  router.get('/pipeline', (_req, res) => {
    sendPage(res, 200, renderPipelinePage(frame));
  });
  router.get('/coins/:id', async (req, res) => {
    let id: string;
    try {
      id = coinId(String(req.params.id));
    } catch (error) {
      if (!(error instanceof ParamError)) throw error;
      errorPage(res, 400, error.message);
      return;
    }
    const coin = await market.coin(id).catch((error: unknown) => {
      logger.warn('could not read a coin for its page', { reason: errorMessage(error) });
      return null;
    });
    if (coin === null)
      errorPage(res, 503, 'Market data is unavailable: the database did not answer or no transform has run yet.');
    else if (coin === undefined) errorPage(res, 404, `No coin "${id}" in the market data.`);
    else sendPage(res, 200, renderCoinPage(coin, frame));
  });
  return router;
}
