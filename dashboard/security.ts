import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';

/** For JSON and text responses: nothing may load, nothing may frame. Pages set their own policy. */
export const DEFAULT_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/**
 * Bull Board's UI runs its own bundled scripts and inline styles, which a strict policy would break;
 * this one restricts only what the board never needs (framing, plugins, foreign base and form targets).
 */
export const BOARD_CSP = "frame-ancestors 'none'; object-src 'none'; base-uri 'self'; form-action 'self'";

/** Headers on every response. */
export function securityHeaders(): RequestHandler {
  return (_req, res, next) => {
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('X-Frame-Options', 'DENY');
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
    res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
    res.setHeader('Content-Security-Policy', DEFAULT_CSP);
    next();
  };
}

const digest = (value: string | Buffer) => createHash('sha256').update(value).digest();

/**
 * HTTP Basic authentication. User and password are compared as SHA-256 digests with
 * crypto.timingSafeEqual (equal lengths whatever was sent), both always, so timing reveals neither.
 */
export function basicAuth(credentials: { readonly user: string; readonly password: string }, realm = 'cdp'): RequestHandler {
  const expectedUser = digest(credentials.user);
  const expectedPassword = digest(credentials.password);
  return (req, res, next) => {
    const given = parseBasic(req.headers.authorization);
    const userOk = timingSafeEqual(digest(given?.user ?? ''), expectedUser);
    const passwordOk = timingSafeEqual(digest(given?.password ?? ''), expectedPassword);
    if (given && userOk && passwordOk) {
      next();
      return;
    }
    res
      .status(401)
      .set('WWW-Authenticate', `Basic realm="${realm}"`)
      .set('Cache-Control', 'no-store')
      .json({ error: 'authentication required' });
  };
}

function parseBasic(header: string | undefined): { user: string; password: string } | undefined {
  const match = /^Basic +([A-Za-z0-9+/]+=*) *$/i.exec(header ?? '');
  if (!match) return undefined;
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? undefined : { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Guards Bull Board's state-changing API (PUT/PATCH/POST/DELETE). Read-only: refused outright, in front
 * of the adapters' own readOnlyMode. Otherwise only same-origin requests pass: browsers resend Basic
 * credentials on cross-site requests, so without this a foreign page could post to the board (CSRF).
 */
export function boardWriteGuard(readOnly: boolean): RequestHandler {
  return (req, res, next) => {
    if (SAFE_METHODS.has(req.method)) {
      next();
      return;
    }
    if (readOnly) {
      res.status(405).set('Allow', 'GET, HEAD').json({ error: 'the queue board is read-only: set DASHBOARD_USER and DASHBOARD_PASSWORD to enable actions' });
      return;
    }
    if (!isSameOrigin(req.headers.origin, req.headers['sec-fetch-site'], req.headers.host)) {
      res.status(403).json({ error: 'cross-origin requests may not change queues' });
      return;
    }
    next();
  };
}

function isSameOrigin(origin: string | undefined, fetchSite: string | string[] | undefined, host: string | undefined): boolean {
  if (fetchSite !== undefined && fetchSite !== 'same-origin' && fetchSite !== 'none') return false;
  if (origin === undefined) return true; // not sent by a browser (curl, scripts) or a same-origin navigation
  try {
    return host !== undefined && new URL(origin).host === host;
  } catch {
    return false;
  }
}
