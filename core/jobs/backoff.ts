import { RetryableError } from '../errors.js';

/**
 * Exponential backoff with "equal jitter" (half fixed, half random): attempt n waits between half of
 * base·2^(n-1) and all of it (capped at maxDelayMs), so many jobs failing together (a CoinGecko 5xx
 * burst) do not retry in lockstep; a server-given Retry-After wins when longer.
 *
 * Not "full jitter" (anywhere in [0, base·2^(n-1)]): attempts are few (FETCH_ATTEMPTS, LOAD_ATTEMPTS)
 * and each job gives up for good after them, so they are sized to outlast an outage (a database
 * restart, a CoinGecko blip). The fixed half guarantees that: the attempts of one job always span at
 * least half the sum of their delays, where full jitter could spend them all in a moment. The
 * random half, as wide as the fixed one, is enough to spread a burst's retries apart.
 */
export function jitteredBackoff(baseDelayMs: number, maxDelayMs: number, random: () => number = Math.random) {
  return (attemptsMade: number, _type?: string, error?: Error): number => {
    const exponential = Math.min(maxDelayMs, baseDelayMs * 2 ** Math.max(0, attemptsMade - 1));
    const delay = Math.round(exponential / 2 + random() * (exponential / 2));
    const asked = error instanceof RetryableError ? error.retryAfterMs : undefined;
    return asked !== undefined ? Math.min(maxDelayMs, Math.max(delay, asked)) : delay;
  };
}
