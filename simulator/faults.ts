/**
 * Fault injection for API requests: the `failNext` queue of one-shot faults first, then the
 * seeded random rates. One PRNG draw per eligible request, so a run is reproducible from its seed.
 */
import { mulberry32 } from './hash.js';
import type { FailNextFault, FaultSettings, ThrottleStyle } from './options.js';
import { cloudflarePage, malformedPage, rateLimited, text, type ApiResponse } from './responses.js';

/** What to do instead of (or to) the normal response. */
export type Fault = { kind: 'timeout' } | { kind: 'truncate' } | { kind: 'replace'; response: ApiResponse };

/** The 429 body for a throttle style. */
export function throttleResponse(style: ThrottleStyle): ApiResponse {
  if (style === 'text') return text(429, 'Throttled\n');
  if (style === 'html') return cloudflarePage(429);
  return rateLimited();
}

function withRetryAfter(response: ApiResponse, seconds: number | undefined): ApiResponse {
  return seconds === undefined
    ? response
    : { ...response, headers: { ...response.headers, 'retry-after': String(seconds) } };
}

function failNextFault(entry: FailNextFault): Fault {
  switch (entry.kind) {
    case 'timeout':
      return { kind: 'timeout' };
    case 'truncated':
      return { kind: 'truncate' };
    case 'html':
      return { kind: 'replace', response: malformedPage() };
    case '429':
      return { kind: 'replace', response: withRetryAfter(rateLimited(), entry.retryAfterSec) };
    case 'throttled-text':
      return { kind: 'replace', response: withRetryAfter(text(429, 'Throttled\n'), entry.retryAfterSec) };
    case '500':
      return { kind: 'replace', response: withRetryAfter(cloudflarePage(500), entry.retryAfterSec) };
    case '503':
      return { kind: 'replace', response: withRetryAfter(cloudflarePage(503), entry.retryAfterSec) };
  }
}

export class FaultInjector {
  private random: () => number;

  constructor(private readonly seed: number) {
    this.random = mulberry32(seed);
  }

  /** Restarts the PRNG, so a reset simulator repeats its faults. */
  reset(): void {
    this.random = mulberry32(this.seed);
  }

  /** A uniform draw for latency jitter (from the same reproducible stream). */
  jitter(maxMs: number): number {
    return maxMs > 0 ? Math.floor(this.random() * maxMs) : 0;
  }

  /**
   * The fault for a request to `path` (below `/api/v3`), if any. `/ping` is a health check: only a
   * `failNext` entry whose `path` names it affects it.
   */
  decide(path: string, settings: FaultSettings): Fault | undefined {
    const isPing = path === '/ping';
    const queue = settings.failNext;
    const position = queue.findIndex((e) => (e.path === undefined ? !isPing : path.startsWith(e.path)));
    if (position >= 0) {
      const entry = queue[position]!;
      entry.count--;
      if (entry.count <= 0) queue.splice(position, 1);
      return failNextFault(entry);
    }
    if (isPing) return undefined;
    const { timeoutRate, errorRate, malformedRate, truncatedRate } = settings;
    if (timeoutRate + errorRate + malformedRate + truncatedRate === 0) return undefined;
    let r = this.random();
    if ((r -= timeoutRate) < 0) return { kind: 'timeout' };
    if ((r -= errorRate) < 0) return { kind: 'replace', response: cloudflarePage(settings.errorStatus) };
    if ((r -= malformedRate) < 0) return { kind: 'replace', response: malformedPage() };
    if ((r -= truncatedRate) < 0) return { kind: 'truncate' };
    return undefined;
  }
}
