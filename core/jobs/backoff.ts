import { RetryableError } from '../errors.js';

/**
 * Exponential backoff with "equal jitter" (half fixed, half random), so many jobs failing together
 * (a CoinGecko 5xx burst) do not retry in lockstep; a server-given Retry-After wins when longer.
 */
export function jitteredBackoff(baseDelayMs: number, maxDelayMs: number, random: () => number = Math.random) {
  return (attemptsMade: number, _type?: string, error?: Error): number => {
    const exponential = Math.min(maxDelayMs, baseDelayMs * 2 ** Math.max(0, attemptsMade - 1));
    const delay = Math.round(exponential / 2 + random() * (exponential / 2));
    const asked = error instanceof RetryableError ? error.retryAfterMs : undefined;
    return asked !== undefined ? Math.min(maxDelayMs, Math.max(delay, asked)) : delay;
  };
}
