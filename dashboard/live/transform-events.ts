import type { Request, Response } from 'express';
import type pg from 'pg';
import { TransformWatch, type TransformFinished } from './transform-watch.js';

export { latestTransform, type TransformFinished } from './transform-watch.js';

export interface TransformEventsOptions {
  readonly pollMs?: number;
  /** Comment lines that keep idle connections open through proxies. */
  readonly heartbeatMs?: number;
  /** Connections at most per process; more get a 503 (each holds a socket). */
  readonly maxClients?: number;
  readonly onError?: (error: unknown) => void;
  /**
   * This process's view of the newest run, shared with the response cache (app.ts), so the cache has
   * dropped what it held before a run by the time clients are told of that run. Default: a private one.
   */
  readonly watch?: TransformWatch;
}

/**
 * Server-sent events at /api/v1/events. Replicas share nothing: each process polls Postgres for the
 * newest settled transform run once per pollMs, only while it has clients, and tells its own clients
 * when the id changes (also when a market request's cache check saw it first: they share one
 * TransformWatch). A client that reconnects gets the current run at once and compares it itself.
 */
export function transformEvents(pool: pg.Pool, options: TransformEventsOptions = {}) {
  const pollMs = options.pollMs ?? 1000;
  const heartbeatMs = options.heartbeatMs ?? 15_000;
  const maxClients = options.maxClients ?? 500;
  const clients = new Set<Response>();
  const watch = options.watch ?? new TransformWatch(pool, pollMs);
  let timer: NodeJS.Timeout | undefined;

  const send = (res: Response, event: TransformFinished) =>
    res.write(`event: transform\ndata: ${JSON.stringify(event)}\n\n`);
  // Fires whoever saw the change first: this poller or a market request checking the cache's version.
  watch.onChange((latest) => {
    for (const res of clients) send(res, latest);
  });

  // check() is single-flight: a slow query is shared by the next beats rather than piled up.
  const poll = () => watch.check().catch((error: unknown) => options.onError?.(error));

  const stop = () => {
    clearInterval(timer);
    timer = undefined;
  };

  return async function handler(req: Request, res: Response): Promise<void> {
    if (clients.size >= maxClients) {
      res.status(503).set('Retry-After', '5').json({ error: 'too many live connections' });
      return;
    }
    let latest: TransformFinished;
    try {
      latest = await watch.check();
    } catch (error) {
      options.onError?.(error);
      res
        .status(503)
        .set('Retry-After', '5')
        .json({ error: 'live updates are unavailable: the database did not answer' });
      return;
    }
    res
      .status(200)
      .set({ 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-store', 'X-Accel-Buffering': 'no' });
    res.flushHeaders();
    res.write(`retry: 3000\n\n`);
    send(res, latest);
    clients.add(res);
    timer ??= setInterval(() => void poll(), pollMs);
    const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), heartbeatMs);
    req.socket.setTimeout(0);
    res.once('close', () => {
      clearInterval(heartbeat);
      clients.delete(res);
      if (clients.size === 0) stop();
    });
  };
}
