import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import helmet from 'helmet';

/**
 * For JSON and text responses: nothing may load, nothing may frame. Pages and the board set their own
 * policy. Helmet writes it as `default-src 'none';frame-ancestors 'none';base-uri 'none';form-action 'none'`.
 */
export const DEFAULT_CSP_DIRECTIVES = {
  defaultSrc: ["'none'"],
  frameAncestors: ["'none'"],
  baseUri: ["'none'"],
  formAction: ["'none'"],
} as const satisfies Record<string, readonly string[]>;

/**
 * Bull Board's UI runs its own bundled scripts and inline styles, which a strict policy would break;
 * this one restricts only what the board never needs (framing, plugins, foreign base and form targets).
 */
export const BOARD_CSP = "frame-ancestors 'none'; object-src 'none'; base-uri 'self'; form-action 'self'";

/**
 * Headers on every response, by helmet: X-Content-Type-Options nosniff, X-Frame-Options DENY,
 * Referrer-Policy no-referrer, Cross-Origin-Opener-Policy and Cross-Origin-Resource-Policy
 * same-origin, and the Content-Security-Policy above (only these directives: none of helmet's
 * default ones). Helmet's other defaults are off, so the dashboard sends what it always sent:
 * Strict-Transport-Security belongs to whoever terminates TLS in front of it (the dashboard itself
 * speaks plain HTTP, and a year-long HSTS pin is that deployment's decision), and
 * Origin-Agent-Cluster, X-DNS-Prefetch-Control, X-Download-Options,
 * X-Permitted-Cross-Domain-Policies and X-XSS-Protection address browsers and plugins the pages do
 * not target. X-Powered-By is removed (app.ts also turns it off).
 */
export function securityHeaders(): RequestHandler {
  return helmet({
    contentSecurityPolicy: { useDefaults: false, directives: DEFAULT_CSP_DIRECTIVES },
    crossOriginEmbedderPolicy: false,
    crossOriginOpenerPolicy: { policy: 'same-origin' },
    crossOriginResourcePolicy: { policy: 'same-origin' },
    originAgentCluster: false,
    referrerPolicy: { policy: 'no-referrer' },
    strictTransportSecurity: false,
    xContentTypeOptions: true,
    xDnsPrefetchControl: false,
    xDownloadOptions: false,
    xFrameOptions: { action: 'deny' },
    xPermittedCrossDomainPolicies: false,
    xPoweredBy: true,
    xXssProtection: false,
  });
}

const digest = (value: string | Buffer) => createHash('sha256').update(value).digest();

/** DASHBOARD_USER and DASHBOARD_PASSWORD (config.dashboard.credentials). */
export interface Credentials {
  readonly user: string;
  readonly password: string;
}

/**
 * HTTP Basic authentication. User and password are compared as SHA-256 digests with
 * crypto.timingSafeEqual (equal lengths whatever was sent), both always, so timing reveals neither.
 */
export function basicAuth(credentials: Credentials, realm = 'cdp'): RequestHandler {
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
      res
        .status(405)
        .set('Allow', 'GET, HEAD')
        .json({ error: 'the queue board is read-only: set DASHBOARD_USER and DASHBOARD_PASSWORD to enable actions' });
      return;
    }
    if (!isSameOrigin(req.headers.origin, req.headers['sec-fetch-site'], req.headers.host)) {
      res.status(403).json({ error: 'cross-origin requests may not change queues' });
      return;
    }
    next();
  };
}

function isSameOrigin(
  origin: string | undefined,
  fetchSite: string | string[] | undefined,
  host: string | undefined,
): boolean {
  if (fetchSite !== undefined && fetchSite !== 'same-origin' && fetchSite !== 'none') return false;
  if (origin === undefined) return true; // not sent by a browser (curl, scripts) or a same-origin navigation
  try {
    return host !== undefined && new URL(origin).host === host;
  } catch {
    return false;
  }
}
