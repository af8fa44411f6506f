import type client from 'prom-client';
import { withTimeout } from '../http/timeout.js';

/**
 * One database read per scrape, shared by every gauge that reports from it: prom-client collects a
 * scrape's metrics concurrently, so the gauges arriving together get the read already in flight, and
 * the next scrape reads again. A failed or timed-out read counts in `errors`, goes to onError and
 * resolves undefined, so each gauge reports nothing stale (NaN, or no labelled series).
 */
export function scrapeRead<T>(
  read: () => Promise<T>,
  options: { timeoutMs: number; what: string; errors: client.Counter; onError?: (error: unknown) => void },
): () => Promise<T | undefined> {
  let inflight: Promise<T | undefined> | undefined;
  return () => {
    inflight ??= withTimeout(read(), options.timeoutMs, options.what)
      .catch((error: unknown) => {
        options.errors.inc();
        options.onError?.(error);
        return undefined;
      })
      .finally(() => setImmediate(() => (inflight = undefined)));
    return inflight;
  };
}
