import { createHash } from 'node:crypto';
import type { Request, RequestHandler, Response } from 'express';
import { ROUTE_LABEL } from '../metrics.js';
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
const CACHEABLE = /^\/(?:market\/overview|coins(?:\/[^/]+(?:\/candles)?)?)$/;
export const TRANSFORM_RUN_HEADER = 'X-Transform-Run';

interface Entry {
  readonly body: Buffer;
  readonly etag: string;
  readonly route: unknown;
  readonly transformRunId: number;
}

export interface ResponseCacheOptions {
  readonly watch: TransformWatch;
  /** Serialised bytes held at most (least recently used go first); default 64 MiB. */
  readonly maxBytes?: number;
  /** Entries at most; default 20,000. */
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

export function responseCache(options: ResponseCacheOptions): ResponseCache {
  const maxBytes = options.maxBytes ?? 64 * 1024 * 1024;
  const maxEntries = options.maxEntries ?? 20_000;
  const entries = new Map<string, Entry>();
  /** Misses being answered, so 50 requests for one URL just after a run cost one handler run. */
  const inflight = new Map<string, Promise<Entry | undefined>>();
  let bytes = 0;
  let hits = 0;
  let misses = 0;
  let version: number | null = null;

  const clear = () => {
    entries.clear();
    bytes = 0;
  };
  // Dropped the moment anyone in this process sees the new run, before live clients are told of it.
  options.watch.onChange(clear);

  const store = (key: string, entry: Entry) => {
    if (entry.transformRunId !== version || entry.body.length > maxBytes) return;
    const old = entries.get(key);
    if (old) bytes -= old.body.length;
    entries.delete(key);
    entries.set(key, entry);
    bytes += entry.body.length;
    for (const [oldest, e] of entries) {
      if (bytes <= maxBytes && entries.size <= maxEntries) break;
      entries.delete(oldest);
      bytes -= e.body.length;
    }
  };

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
      clear();
      version = runId;
    }
    const key = req.originalUrl;
    const hit = entries.get(key);
    if (hit) {
      entries.delete(key); // most recently used last
      entries.set(key, hit);
      hits++;
      send(req, res, hit, 'hit');
      return;
    }
    const flightKey = `${runId} ${key}`;
    const pending = inflight.get(flightKey);
    if (pending) {
      const entry = await pending;
      if (entry) {
        hits++;
        send(req, res, entry, 'hit');
        return;
      }
      return next(); // the first one was not a 200: answer this one on its own
    }

    misses++;
    let settle!: (entry: Entry | undefined) => void;
    const flight = new Promise<Entry | undefined>((resolve) => (settle = resolve));
    inflight.set(flightKey, flight);
    // Only this flight's own entry is removed: after a client hung up, a later miss may have started its own.
    const done = (entry: Entry | undefined) => {
      if (inflight.get(flightKey) === flight) inflight.delete(flightKey);
      settle(entry);
    };
    res.once('close', () => done(undefined));
    const json = res.json.bind(res);
    res.json = (body: unknown) => {
      if (res.statusCode !== 200) {
        done(undefined);
        return json(body);
      }
      const serialised = Buffer.from(JSON.stringify(body) ?? 'null');
      const hash = createHash('sha1').update(serialised).digest('base64url').slice(0, 16);
      const entry: Entry = { body: serialised, etag: `"${runId}-${hash}"`, route: res.locals[ROUTE_LABEL], transformRunId: runId };
      store(key, entry);
      done(entry);
      send(req, res, entry, 'miss');
      return res;
    };
    next();
  };

  return {
    middleware,
    stats: () => ({ hits, misses, entries: entries.size, bytes, transformRunId: version }),
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
  res.status(200).set({ 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': String(entry.body.length) });
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
