import http from 'node:http';

/** Latency distribution and throughput of one closed-loop load run. */
export interface LoadResult {
  readonly requests: number;
  readonly errors: number;
  readonly firstError: string | undefined;
  readonly durationMs: number;
  readonly perSecond: number;
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly max: number;
}

/**
 * `concurrency` loops each issue `request()` back to back (a closed loop, like autocannon's
 * connections): the first `warmupMs` are discarded, then every completion within `durationMs` is
 * timed. Latencies are kept exactly (a few hundred thousand doubles at most), so the percentiles are
 * exact nearest-rank values rather than histogram buckets.
 */
export async function runLoad(options: {
  readonly concurrency: number;
  readonly warmupMs: number;
  readonly durationMs: number;
  readonly request: () => Promise<void>;
  readonly signal: AbortSignal;
}): Promise<LoadResult> {
  const begin = performance.now();
  const measureFrom = begin + options.warmupMs;
  const measureTo = measureFrom + options.durationMs;
  const latencies: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  const loop = async () => {
    while (performance.now() < measureTo && !options.signal.aborted) {
      const started = performance.now();
      try {
        await options.request();
      } catch (error) {
        if (started >= measureFrom) errors++;
        firstError ??= (error as Error).message;
        continue;
      }
      const ended = performance.now();
      // Counted when it started inside the window and finished by its end: no partial requests.
      if (started >= measureFrom && ended <= measureTo) latencies.push(ended - started);
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, loop));
  options.signal.throwIfAborted();
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.ceil(q * latencies.length) - 1)] ?? Number.NaN;
  return {
    requests: latencies.length,
    errors,
    firstError,
    durationMs: options.durationMs,
    perSecond: (latencies.length * 1000) / options.durationMs,
    p50: at(0.5),
    p95: at(0.95),
    p99: at(0.99),
    max: latencies.at(-1) ?? Number.NaN,
  };
}

/**
 * A GET that resolves once the whole body arrived with status 200, over `agent` (keep-alive, one
 * socket per concurrent loop, so no connection setup is timed).
 */
export function httpGetter(baseUrl: string, path: string, agent: http.Agent): () => Promise<void> {
  const url = new URL(path, baseUrl);
  return () =>
    new Promise<void>((resolve, reject) => {
      const req = http.get(url, { agent }, (res) => {
        let bytes = 0;
        res.on('data', (chunk: Buffer) => void (bytes += chunk.length));
        res.on('end', () => (res.statusCode === 200 && bytes > 0 ? resolve() : reject(new Error(`GET ${path}: HTTP ${res.statusCode}`))));
        res.on('error', reject);
      });
      req.on('error', reject);
    });
}
