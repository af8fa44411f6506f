import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import express from 'express';
import { APP_CSS, ASSETS, CHART_LIBRARY_PATH, FAVICON_PATH, FAVICON_SVG } from './views/layout.js';

/**
 * The pages' static files, all from this install (no CDN): the stylesheet, the client modules that
 * tsc compiled from dashboard/client/ next to this file, and the chart library's standalone build
 * straight from node_modules.
 */
export function createAssetsRouter(): express.Router {
  const router = express.Router();
  const cache = (res: express.Response) => res.set('Cache-Control', 'public, max-age=300');

  router.get('/app.css', (_req, res) => {
    cache(res).type('css').send(APP_CSS);
  });
  router.get(FAVICON_PATH.slice(ASSETS.length), (_req, res) => {
    cache(res).type('image/svg+xml').send(FAVICON_SVG);
  });
  router.get(CHART_LIBRARY_PATH.slice(ASSETS.length), (_req, res, next) => {
    cache(res).sendFile(chartLibraryFile(), (error) => error && next(error));
  });
  router.use(
    '/js',
    express.static(clientDir(), {
      index: false,
      fallthrough: true,
      maxAge: 300_000,
      extensions: false,
      setHeaders: workerPolicy,
    }),
  );
  return router;
}

/**
 * A worker runs under the policy of its own script's response, not the page's: the default one
 * (default-src 'none') would refuse the live worker its event stream. It may connect to this origin.
 */
function workerPolicy(res: express.Response, file: string): void {
  if (path.basename(file) === 'live-worker.js')
    res.set(
      'Content-Security-Policy',
      "default-src 'none'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
    );
}

export function chartLibraryFile(): string {
  const require = createRequire(import.meta.url);
  return path.join(
    path.dirname(require.resolve('lightweight-charts/package.json')),
    'dist',
    'lightweight-charts.standalone.production.js',
  );
}

/**
 * dist/dashboard/client/ when running the build; under ts-jest this file runs from the sources,
 * where only .ts exists, so the build's copy is used (tests run `npm run build` first).
 */
export function clientDir(): string {
  const here = fileURLToPath(new URL('./client/', import.meta.url));
  if (existsSync(path.join(here, 'dom.js'))) return here;
  return fileURLToPath(new URL('../dist/dashboard/client/', import.meta.url));
}
