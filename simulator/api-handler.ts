/**
 * Turns one `/api/v3` request into a response, in the order a real request meets CoinGecko:
 * edge (URL length, outage), method, key check, rate limit, injected faults, then the endpoint.
 */
import type { IncomingMessage } from 'node:http';
import { checkApiKey, presentedKey } from './auth.js';
import { throttleResponse } from './faults.js';
import { cloudflarePage, errorMessage, json, truncate, uriTooLong, type ApiResponse } from './responses.js';
import { matchRoute } from './routes/index.js';
import type { SimulatorState } from './state.js';

export const API_PREFIX = '/api/v3';

/** A response to write, or a request to leave hanging. */
export type ApiOutcome = { kind: 'respond'; response: ApiResponse; delayMs: number } | { kind: 'hang'; hangMs: number };

/** Status logged for requests that never got an answer. */
export const NO_RESPONSE_STATUS = 0;

export function handleApiRequest(state: SimulatorState, req: IncomingMessage, url: URL): ApiOutcome {
  const now = state.clock();
  const settings = state.settings;
  const path = url.pathname.slice(API_PREFIX.length) || '/';
  const route = matchRoute(path);
  const endpoint = route?.endpoint ?? 'unknown';
  const note: { ids?: number } = {};
  let rateLimited = false;

  const finish = (response: ApiResponse): ApiOutcome => {
    state.log.record({ t: now, path, status: response.status, ...note }, endpoint, rateLimited);
    const delayMs = settings.latencyMs + state.faults.jitter(settings.latencyJitterMs);
    return { kind: 'respond', response, delayMs };
  };

  const requestLine = `${req.method ?? 'GET'} ${req.url ?? ''} HTTP/${req.httpVersion}`;
  if (Buffer.byteLength(requestLine) > settings.maxUrlBytes) return finish(uriTooLong());
  if (settings.outage) return finish(cloudflarePage(503));
  if (req.method !== 'GET') return finish({ ...errorMessage(405, 'Method Not Allowed'), headers: { allow: 'GET' } });

  const keyRejection = checkApiKey(settings, req.headers, url.searchParams, now);
  if (keyRejection) return finish(keyRejection);

  let rateHeaders: Record<string, string> = {};
  if (settings.rateLimit > 0) {
    const client =
      presentedKey(req.headers, url.searchParams, settings.plan === 'pro' ? 'pro' : 'demo') ??
      req.socket.remoteAddress ??
      'unknown';
    const decision = state.limiter.take(client, settings.rateLimit, settings.rateWindowMs, now);
    rateHeaders = decision.headers;
    if (!decision.allowed) {
      rateLimited = true;
      const response = throttleResponse(settings.throttleStyle);
      const retry: Record<string, string> = settings.retryAfter
        ? { 'retry-after': String(decision.retryAfterSec) }
        : {};
      return finish({ ...response, headers: { ...response.headers, ...rateHeaders, ...retry } });
    }
  }

  const fault = state.faults.decide(path, settings);
  if (fault?.kind === 'timeout') {
    state.log.record({ t: now, path, status: NO_RESPONSE_STATUS }, endpoint, false);
    return { kind: 'hang', hangMs: settings.hangMs };
  }
  if (fault?.kind === 'replace') return finish(withHeaders(fault.response, rateHeaders));

  let response = route
    ? route.handler({ sim: state.sim, settings, now, query: url.searchParams, params: route.params, note })
    : json(404, { error: 'Not Found' });
  if (fault?.kind === 'truncate') response = truncate(response);
  return finish(withHeaders(response, rateHeaders));
}

function withHeaders(response: ApiResponse, headers: Record<string, string>): ApiResponse {
  return { ...response, headers: { ...headers, ...response.headers } };
}
