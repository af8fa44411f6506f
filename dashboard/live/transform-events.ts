import type { Request, Response } from 'express';
import type pg from 'pg';

/** What every open page is told when a transform run finishes (and once on connecting). */
export interface TransformFinished {
  readonly transformRunId: number | null;
  readonly runId: string | null;
  readonly status: string | null;
  readonly finishedAt: Date | null;
}

// Newest settled run, by the primary key (a backward index scan that stops at the first settled row).
const LATEST_SQL = `
  select transform_run_id::int as "transformRunId", run_id as "runId", status, finished_at as "finishedAt"
    from pipeline.transform_runs where status <> 'running'
   order by transform_run_id desc limit 1`;

export async function latestTransform(pool: pg.Pool): Promise<TransformFinished> {
  const { rows } = await pool.query<TransformFinished>(LATEST_SQL);
  return rows[0] ?? { transformRunId: null, runId: null, status: null, finishedAt: null };
}

export interface TransformEventsOptions {
  readonly pollMs?: number;
  /** Comment lines that keep idle connections open through proxies. */
  readonly heartbeatMs?: number;
  /** Connections at most per process; more get a 503 (each holds a socket). */
  readonly maxClients?: number;
  readonly onError?: (error: unknown) => void;
}

/**
 * Server-sent events at /api/v1/events. Replicas share nothing: each process polls Postgres for the
 * newest settled transform run once per pollMs, only while it has clients, and tells its own clients
 * when the id changes. A client that reconnects gets the current run at once and compares it itself.
 */
export function transformEvents(pool: pg.Pool, options: TransformEventsOptions = {}) {
  const pollMs = options.pollMs ?? 1000;
  const heartbeatMs = options.heartbeatMs ?? 15_000;
  const maxClients = options.maxClients ?? 500;
  const clients = new Set<Response>();
  let timer: NodeJS.Timeout | undefined;
  let lastId: number | null | undefined;
  let polling = false;

  const send = (res: Response, event: TransformFinished) => res.write(`event: transform\ndata: ${JSON.stringify(event)}\n\n`);

  const poll = async () => {
    if (polling) return; // a slow query: skip this beat rather than pile up
    polling = true;
    try {
      const latest = await latestTransform(pool);
      if (latest.transformRunId !== lastId) {
        lastId = latest.transformRunId;
        for (const res of clients) send(res, latest);
      }
    } catch (error) {
      options.onError?.(error);
    } finally {
      polling = false;
    }
  };

  const stop = () => {
    clearInterval(timer);
    timer = undefined;
    lastId = undefined;
  };

  return async function handler(req: Request, res: Response): Promise<void> {
    if (clients.size >= maxClients) {
      res.status(503).set('Retry-After', '5').json({ error: 'too many live connections' });
      return;
    }
    let latest: TransformFinished;
    try {
      latest = await latestTransform(pool);
    } catch (error) {
      options.onError?.(error);
      res.status(503).set('Retry-After', '5').json({ error: 'live updates are unavailable: the database did not answer' });
      return;
    }
    res.status(200).set({ 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-store', 'X-Accel-Buffering': 'no' });
    res.flushHeaders();
    res.write(`retry: 3000\n\n`);
    send(res, latest);
    clients.add(res);
    if (!timer) {
      lastId = latest.transformRunId;
      timer = setInterval(() => void poll(), pollMs);
    }
    const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), heartbeatMs);
    req.socket.setTimeout(0);
    res.once('close', () => {
      clearInterval(heartbeat);
      clients.delete(res);
      if (clients.size === 0) stop();
    });
  };
}
