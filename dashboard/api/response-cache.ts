import { createHash } from 'node:crypto';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { LRUCache } from 'lru-cache';
import { ROUTE_LABEL } from '../metrics/dashboard-metrics.js';
import type { TransformWatch } from '../live/transform-watch.js';

/**
 * The market endpoints read only the dbt marts, and the marts only change when a transform run
 * finishes. So each process keeps the serialised JSON of every 200 it answered there, keyed by URL,
 * until it sees a newer settled run (TransformWatch): a hit is a lookup and one socket write instead
 * of 2–4 queries plus JSON encoding, which is what queued up on 2 cores at 50 connections.
 *
 * Not cached: the pipeline page's endpoints (runs, freshness, queues, quarantine, stale coins) change
 * without a transform run; anything but a 200 (a 404 for an unknown id must not fill the cache); any
 * request while Postgres does not answer the version check (the handler answers as it would uncached).
 *
 * Staleness is bounded per process: the version is checked at most `watch.maxAgeMs` ago (1 s), and at
 * once when the client says it has seen a newer run (`X-Transform-Run: <id>` request header, sent by
 * the pages after a live update that may have come from another replica). Marts edited by hand, outside
 * a transform run, are not noticed until the next run.
 *
 * Responses carry `ETag` (run id + body hash) and `Cache-Control: no-cache`, so browsers revalidate
 * and get a body-less 304 while the data is unchanged. `X-Cache: hit|miss` says which path answered.
 */

/** The market endpoints, relative to /api/v1. */
const CACHEABLE = /^\/(?:market\/overview|anomalies|coins(?:\/[^/]+(?:\/candles)?)?)$/;
export const TRANSFORM_RUN_HEADER = 'X-Transform-Run';

interface Entry {
  readonly body: Buffer;
  readonly etag: string;
  readonly route: unknown;
  readonly transformRunId: number;
}

export interface ResponseCacheOptions {
  readonly watch: TransformWatch;
  /** Serialised bytes held at most (least recently used go first), a positive integer; default 64 MiB. */
  readonly maxBytes?: number;
  /** Entries at most, a positive integer; default 20,000. */
  readonly maxEntries?: number;
  readonly onError?: (error: unknown) => void;
}

export interface ResponseCacheStats {
  readonly hits: number;
  readonly misses: number;
  readonly entries: number;
  readonly bytes: number;
  readonly transformRunId: number | null;
}

export interface ResponseCache {
  readonly middleware: RequestHandler;
  stats(): ResponseCacheStats;
}

/** A miss being answered: the request whose handler runs for everyone asking for the same key meanwhile. */
interface Flight {
  readonly req: Request;
  readonly res: Response;
  readonly next: NextFunction;
  readonly key: string;
  readonly transformRunId: number;
  /** Set when lru-cache chose this request's flight to run (fetchMethod gets only the first caller's context). */
  ran: boolean;
}

/**
 * The entries live in an lru-cache LRUCache: `max` entries and `maxSize` bytes (sizeCalculation: the
 * body's length; a body larger than maxSize is not kept), least recently used evicted first, and
 * `fetch()` with a `fetchMethod` as the single flight: concurrent fetches of one key share one
 * promise, and the handler runs once. The key holds the run id, so a request only ever joins a
 * flight or gets an entry of the run it resolved. An in-flight miss takes an entry slot (none of the
 * bytes: backgroundFetchSize 0) until it settles.
 */
export function responseCache(options: ResponseCacheOptions): ResponseCache {
  let hits = 0;
  let misses = 0;
  let version: number | null = null;

  const cache: LRUCache<string, Entry, Flight> = new LRUCache<string, Entry, Flight>({
    max: options.maxEntries ?? 20_000,
    maxSize: options.maxBytes ?? 64 * 1024 * 1024,
    sizeCalculation: (entry) => entry.body.length,
    backgroundFetchSize: 0,
    // clear() aborts flights in progress: their waiters still get the answer, which is not stored.
    ignoreFetchAbort: true,
    fetchMethod: (_key, _stale, { context }) => answer(context),
  });

  /** Runs the handler for `flight`, resolving with the entry of its 200, or undefined for anything else or a client that hung up first. */
  function answer(flight: Flight): Promise<Entry | undefined> {
    flight.ran = true;
    misses++;
    const { req, res, key, transformRunId } = flight;
    return new Promise((resolve) => {
      let settled = false;
      const settle = (entry: Entry | undefined) => {
        if (settled) return false;
        settled = true;
        resolve(entry);
        return true;
      };
      res.once('close', () => settle(undefined));
      const json = res.json.bind(res);
      res.json = (body: unknown) => {
        if (res.statusCode !== 200) {
          settle(undefined);
          return json(body);
        }
        const serialised = Buffer.from(JSON.stringify(body) ?? 'null');
        const hash = createHash('sha1').update(serialised).digest('base64url').slice(0, 16);
        const entry: Entry = {
          body: serialised,
          etag: `"${transformRunId}-${hash}"`,
          route: res.locals[ROUTE_LABEL],
          transformRunId,
        };
        // The cache stores what the flight resolves with. If the client hung up first, the flight
        // settled empty (its waiters answered on their own): the answer is still worth keeping.
        if (!settle(entry) && transformRunId === version) cache.set(key, entry);
        send(req, res, entry, 'miss');
        return res;
      };
      flight.next();
    });
  }

  // Dropped the moment anyone in this process sees the new run, before live clients are told of it.
  options.watch.onChange(() => cache.clear());

  const middleware: RequestHandler = async (req, res, next) => {
    if (req.method !== 'GET' || !CACHEABLE.test(req.path)) return next();
    let runId: number | null;
    try {
      runId = (await options.watch.atLeast(runHint(req))).transformRunId;
    } catch (error) {
      options.onError?.(error);
      return next();
    }
    if (runId === null) return next(); // no run yet: the marts may not exist, nothing to key on
    if (runId !== version) {
      cache.clear();
      version = runId;
    }
    const key = `${runId} ${req.originalUrl}`;
    const hit = cache.get(key); // most recently used now
    if (hit) {
      hits++;
      send(req, res, hit, 'hit');
      return;
    }
    const flight: Flight = { req, res, next, key, transformRunId: runId, ran: false };
    // Rejects only when a clear() aborted a flight that then answered with no entry.
    const entry = await cache.fetch(key, { context: flight }).catch(() => undefined);
    if (flight.ran) return; // this request's handler answered it
    if (entry) {
      hits++;
      send(req, res, entry, 'hit');
      return;
    }
    next(); // the request it waited for was not a 200 (or its client left): answer this one on its own
  };

  return {
    middleware,
    // keys() skips flights in progress, which cache.size counts.
    stats: () => ({
      hits,
      misses,
      entries: [...cache.keys()].length,
      bytes: cache.calculatedSize,
      transformRunId: version,
    }),
  };
}

function send(req: Request, res: Response, entry: Entry, cache: 'hit' | 'miss'): void {
  res.locals[ROUTE_LABEL] ??= entry.route;
  res.set({
    'Cache-Control': 'no-cache',
    ETag: entry.etag,
    [TRANSFORM_RUN_HEADER]: String(entry.transformRunId),
    'X-Cache': cache,
  });
  if (matches(req.headers['if-none-match'], entry.etag)) {
    res.status(304).end();
    return;
  }
  res
    .status(200)
    .set({ 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': String(entry.body.length) });
  res.end(entry.body);
}

/** If-None-Match: `*`, or a list of tags, weak or strong (a GET compares weakly, RFC 9110 13.1.2). */
function matches(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  if (header.trim() === '*') return true;
  return header.split(',').some((tag) => tag.trim().replace(/^W\//, '') === etag);
}

/** The newest run the client has seen (a positive integer), or undefined. */
function runHint(req: Request): number | undefined {
  const raw = req.get(TRANSFORM_RUN_HEADER);
  return raw !== undefined && /^[1-9][0-9]{0,14}$/.test(raw) ? Number(raw) : undefined;
}
