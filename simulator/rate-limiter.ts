/**
 * Fixed-window rate limiting as CoinGecko appears to do it: windows aligned to multiples of the
 * window length since the epoch (minute boundaries for 60 s), counted per key or client IP.
 */

/** The verdict for one request, with the headers CoinGecko sends. */
export interface RateDecision {
  allowed: boolean;
  headers: Record<string, string>;
  /** Seconds until the window ends (at least 1), for `retry-after`. */
  retryAfterSec: number;
}

export class RateLimiter {
  private readonly windows = new Map<string, { start: number; count: number }>();

  /**
   * Counts the request if the window still has room. Rejected requests are not counted, so a client
   * that waits for the next window is served there.
   */
  take(client: string, limit: number, windowMs: number, now: number): RateDecision {
    const start = Math.floor(now / windowMs) * windowMs;
    const end = start + windowMs;
    let window = this.windows.get(client);
    if (window === undefined || window.start !== start) {
      window = { start, count: 0 };
      this.windows.set(client, window);
      if (this.windows.size > 10_000) this.evictBefore(start);
    }
    const allowed = window.count < limit;
    if (allowed) window.count++;
    return {
      allowed,
      retryAfterSec: Math.max(1, Math.ceil((end - now) / 1000)),
      headers: {
        'x-ratelimit-limit': String(limit),
        'x-ratelimit-remaining': String(Math.max(0, limit - window.count)),
        'x-ratelimit-reset': formatResetTime(end),
      },
    };
  }

  reset(): void {
    this.windows.clear();
  }

  private evictBefore(start: number): void {
    for (const [client, window] of this.windows) if (window.start < start) this.windows.delete(client);
  }
}

/** `YYYY-MM-DD HH:MM:SS +0000`, the format of CoinGecko's `x-ratelimit-reset`. */
export function formatResetTime(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')} +0000`;
}
