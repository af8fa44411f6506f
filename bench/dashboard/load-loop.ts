import http from 'node:http';

/** Latency distribution of a set of requests. */
export interface Latencies {
  readonly requests: number;
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly max: number;
}

/** Latency distribution and throughput of one closed-loop load run. */
export interface LoadResult extends Latencies {
  readonly errors: number;
  readonly firstError: string | undefined;
  readonly durationMs: number;
  readonly perSecond: number;
  /** The discarded warm-up, reported so a slow start is visible rather than hidden. */
  readonly warmup: Latencies;
  /** The measured requests split by the tag request() resolved with (e.g. the X-Cache header: hit, miss). */
  readonly byTag: Readonly<Record<string, Latencies>>;
}

/** Exact nearest-rank percentiles (sorts `latencies` in place). */
export function latencies(values: number[]): Latencies {
  values.sort((a, b) => a - b);
  const at = (q: number) => values[Math.min(values.length - 1, Math.ceil(q * values.length) - 1)] ?? Number.NaN;
  return { requests: values.length, p50: at(0.5), p95: at(0.95), p99: at(0.99), max: values.at(-1) ?? Number.NaN };
}

/**
 * `concurrency` loops each issue `request()` back to back (a closed loop, like autocannon's
 * connections): the first `warmupMs` are reported apart, then every completion within `durationMs` is
 * timed. Latencies are kept exactly (a few hundred thousand doubles at most), so the percentiles are
 * exact nearest-rank values rather than histogram buckets. `during(elapsedMs)` is awaited by nobody:
 * it runs beside the loops at the given offsets from the start of the measured window.
 */
export async function runLoad(options: {
  readonly concurrency: number;
  readonly warmupMs: number;
  readonly durationMs: number;
  readonly request: () => Promise<string | void>;
  readonly signal: AbortSignal;
  /** Side actions at offsets (ms) into the measured window, e.g. a transform run that invalidates the cache. */
  readonly at?: ReadonlyArray<{ readonly offsetMs: number; readonly action: () => Promise<unknown> }>;
}): Promise<LoadResult> {
  const begin = performance.now();
  const measureFrom = begin + options.warmupMs;
  const measureTo = measureFrom + options.durationMs;
  const measured: number[] = [];
  const warm: number[] = [];
  const tagged = new Map<string, number[]>();
  let errors = 0;
  let firstError: string | undefined;
  const loop = async () => {
    while (performance.now() < measureTo && !options.signal.aborted) {
      const started = performance.now();
      let tag: string | void;
      try {
        tag = await options.request();
      } catch (error) {
        if (started >= measureFrom) errors++;
        firstError ??= (error as Error).message;
        continue;
      }
      const ended = performance.now();
      // Counted when it started inside the window and finished by its end: no partial requests.
      if (started < measureFrom) warm.push(ended - started);
      else if (ended <= measureTo) {
        measured.push(ended - started);
        if (tag) {
          let list = tagged.get(tag);
          if (!list) tagged.set(tag, (list = []));
          list.push(ended - started);
        }
      }
    }
  };
  const actions = (options.at ?? []).map(async ({ offsetMs, action }) => {
    await new Promise((r) => setTimeout(r, Math.max(0, measureFrom + offsetMs - performance.now())));
    if (!options.signal.aborted) await action();
  });
  await Promise.all([...Array.from({ length: options.concurrency }, loop), ...actions]);
  options.signal.throwIfAborted();
  const all = latencies(measured);
  return {
    ...all,
    errors,
    firstError,
    durationMs: options.durationMs,
    perSecond: (all.requests * 1000) / options.durationMs,
    warmup: latencies(warm),
    byTag: Object.fromEntries([...tagged].map(([tag, values]) => [tag, latencies(values)])),
  };
}

/**
 * A GET of `path()` (a new path each call, so load spreads over many keys) that resolves once the
 * whole body arrived with status 200, with the response's X-Cache header (hit, miss) when it has one,
 * over `agent` (keep-alive, one socket per concurrent loop, so no connection setup is timed).
 */
export function httpGetter(
  baseUrl: string,
  path: string | (() => string),
  agent: http.Agent,
): () => Promise<string | void> {
  const pick = typeof path === 'string' ? () => path : path;
  return () =>
    new Promise<string | void>((resolve, reject) => {
      const p = pick();
      const req = http.get(new URL(p, baseUrl), { agent }, (res) => {
        let bytes = 0;
        res.on('data', (chunk: Buffer) => void (bytes += chunk.length));
        res.on('end', () => {
          const cache = res.headers['x-cache'];
          if (res.statusCode === 200 && bytes > 0) resolve(typeof cache === 'string' ? cache : undefined);
          else reject(new Error(`GET ${p}: HTTP ${res.statusCode}`));
        });
        res.on('error', reject);
      });
      req.on('error', reject);
    });
}

/**
 * A GET of `path()` that resolves at the first byte of a 200's body (a CSV download's header and first
 * row, an event stream's first event), then closes the connection: what a user waits for before a
 * download starts or a stream says something. The socket is not reused, so each request also opens
 * a connection (a fraction of a millisecond on loopback).
 */
export function httpFirstByte(baseUrl: string, path: () => string): () => Promise<string | void> {
  return () =>
    new Promise<string | void>((resolve, reject) => {
      const p = path();
      const req = http.get(new URL(p, baseUrl), { agent: false }, (res) => {
        if (res.statusCode !== 200) {
          res.resume();
          res.on('end', () => reject(new Error(`GET ${p}: HTTP ${res.statusCode}`)));
          return;
        }
        res.once('data', () => {
          const cache = res.headers['x-cache'];
          resolve(typeof cache === 'string' ? cache : undefined);
          req.destroy();
        });
        res.on('error', () => undefined); // the destroy above
      });
      req.on('error', reject);
    });
}
