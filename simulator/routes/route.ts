import type { FaultSettings } from '../options.js';
import type { ApiResponse } from '../responses.js';
import type { Simulation } from '../simulation.js';

/** What an endpoint handler sees of a request. */
export interface RouteContext {
  sim: Simulation;
  settings: FaultSettings;
  now: number;
  query: URLSearchParams;
  /** Captured path segments, e.g. the coin id of `/coins/{id}/...`. */
  params: string[];
  /** Facts for the request log, filled in by handlers. */
  note: { ids?: number };
}

export type RouteHandler = (ctx: RouteContext) => ApiResponse;

/** Splits a comma list the way CoinGecko reads `ids` / `vs_currencies`: trimmed, lowercased, no blanks. */
export function commaList(value: string | null): string[] {
  if (value === null) return [];
  return value
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter((s) => s !== '');
}

/** Query booleans are the strings `true` / `false`. */
export function flag(query: URLSearchParams, name: string): boolean {
  return query.get(name)?.toLowerCase() === 'true';
}
