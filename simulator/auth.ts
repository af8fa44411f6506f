/**
 * API-key checks of the demo and pro personalities (reference §1.2). With no key configured
 * nothing is checked, and the `public` plan ignores keys altogether.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { FaultSettings } from './options.js';
import { demoKeyOnProHost, keyMissing, proKeyOnDemoHost, type ApiResponse } from './responses.js';

/** The key a request carries for `plan`, header first (the docs' recommendation). */
export function presentedKey(
  headers: IncomingHttpHeaders,
  query: URLSearchParams,
  plan: 'demo' | 'pro',
): string | undefined {
  const header = headers[`x-cg-${plan}-api-key`];
  const value = Array.isArray(header) ? header[0] : header;
  return value ?? query.get(`x_cg_${plan}_api_key`) ?? undefined;
}

/** Returns the rejection for a request with a missing, wrong or wrong-plan key, or undefined. */
export function checkApiKey(
  settings: Pick<FaultSettings, 'apiKey' | 'plan'>,
  headers: IncomingHttpHeaders,
  query: URLSearchParams,
  now: number,
): ApiResponse | undefined {
  const { apiKey, plan } = settings;
  if (apiKey === null || plan === 'public') return undefined;
  const other = plan === 'demo' ? 'pro' : 'demo';
  if (presentedKey(headers, query, other) !== undefined && presentedKey(headers, query, plan) === undefined) {
    return plan === 'demo' ? proKeyOnDemoHost() : demoKeyOnProHost(now);
  }
  return presentedKey(headers, query, plan) === apiKey ? undefined : keyMissing();
}
