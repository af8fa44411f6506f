import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import express from 'express';
import { ASSETS, CHART_LIBRARY_PATH, FAVICON_PATH, FAVICON_SVG } from '../views/layout.js';

/**
 * The pages' static files, all from this install (no CDN): the stylesheet (dashboard/static/), the
 * client modules that tsc compiled from dashboard/client/, and the chart library's standalone build
 * straight from node_modules.
 */
export function createAssetsRouter(): express.Router {
  const router = express.Router();
  const cache = (res: express.Response) => res.set('Cache-Control', 'public, max-age=300');

  router.get('/app.css', (_req, res, next) => {
    cache(res)
      .type('css')
      .sendFile(path.join(builtDir('static', 'app.css'), 'app.css'), (error) => error && next(error));
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

/** The compiled client modules: under ts-jest, the build's copy (tests run `npm run build` first). */
export function clientDir(): string {
  return builtDir('client', 'dom.js');
}

/**
 * dashboard/<dir>/ as the build lays it out (tsc compiles client/, the build script copies static/),
 * found from this file whether it runs from dist/ or, under ts-jest, from the sources.
 */
function builtDir(dir: 'client' | 'static', probe: string): string {
  const here = fileURLToPath(new URL(`../${dir}/`, import.meta.url));
  if (existsSync(path.join(here, probe))) return here;
  return fileURLToPath(new URL(`../../dist/dashboard/${dir}/`, import.meta.url));
}
