import type { Queue } from 'bullmq';
import type { Request, RequestHandler, Response } from 'express';
import type pg from 'pg';
import client from 'prom-client';
import { registry as processRegistry } from '../../core/metrics/registry.js';
import { registerFreshnessMetrics } from './freshness-metrics.js';
import { registerGapMetrics } from './gap-metrics.js';
import { withTimeout } from '../http/timeout.js';

/** The states `cdp_queue_jobs` reports; every one is always present for a reachable queue. */
export const QUEUE_STATES = [
  'waiting',
  'active',
  'delayed',
  'failed',
  'completed',
  'prioritized',
  'waiting-children',
] as const;

/** `res.locals` key a mount point sets when express's own `req.route` cannot name the route. */
export const ROUTE_LABEL = 'metricsRoute';

export interface DashboardMetrics {
  /** This app's own metrics (queue gauge, HTTP histogram); served together with the process registry. */
  readonly registry: client.Registry;
  readonly requestDuration: client.Histogram<'method' | 'route' | 'status'>;
  readonly contentType: string;
  /** The process-wide registry (default and core metrics) and this app's, in one exposition. */
  metrics(): Promise<string>;
}

/**
 * The dashboard's metrics. `cdp_queue_jobs` reads shared Redis state, so only this process exports it
 * (every worker exporting it would count each job N times). The metrics live in a registry of each
 * app's own, registered once there and merged with the shared process registry on every scrape:
 * tests build several apps in one process, and each must report its own queues without a
 * "metric already registered" clash in the shared registry.
 */
export function createDashboardMetrics(
  queues: readonly Queue[],
  options: {
    timeoutMs: number;
    onError?: (queue: string, error: unknown) => void;
    /**
     * When given, the freshness and coverage gap gauges (freshness-metrics.ts, gap-metrics.ts) are
     * exported too, read through this pool and judged by this threshold (config.freshness.staleAfterSeconds).
     */
    freshness?: { pool: pg.Pool; staleAfterSeconds: number; onError?: (error: unknown) => void };
  },
): DashboardMetrics {
  const registry = new client.Registry();
  if (options.freshness) {
    const { pool, staleAfterSeconds, onError } = options.freshness;
    registerFreshnessMetrics(registry, pool, { timeoutMs: options.timeoutMs, staleAfterSeconds, onError });
    registerGapMetrics(registry, pool, { timeoutMs: options.timeoutMs, onError });
  }

  const collectErrors = new client.Counter({
    name: 'cdp_queue_jobs_collect_errors_total',
    help: "Scrapes in which a queue's job counts could not be read (Redis down or slow); its cdp_queue_jobs series are absent then",
    labelNames: ['queue'] as const,
    registers: [registry],
  });

  new client.Gauge({
    name: 'cdp_queue_jobs',
    help: 'Jobs per queue and state, read from Redis on each scrape (exported by the dashboard only)',
    labelNames: ['queue', 'state'] as const,
    registers: [registry],
    async collect() {
      const results = await Promise.allSettled(
        queues.map((queue) =>
          withTimeout(queue.getJobCounts(...QUEUE_STATES), options.timeoutMs, `job counts of ${queue.name}`),
        ),
      );
      // Reset and refill synchronously: a queue that cannot be read disappears instead of showing stale counts.
      this.reset();
      results.forEach((result, i) => {
        const queue = queues[i]!.name;
        if (result.status === 'fulfilled') {
          for (const state of QUEUE_STATES) this.set({ queue, state }, result.value[state] ?? 0);
        } else {
          collectErrors.inc({ queue });
          options.onError?.(queue, result.reason);
        }
      });
    },
  });

  const requestDuration = new client.Histogram({
    name: 'cdp_http_request_duration_seconds',
    help: 'Dashboard HTTP request duration by method, matched route pattern and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });

  return {
    registry,
    requestDuration,
    contentType: processRegistry.contentType,
    // Merged per scrape, so metrics registered in the process registry after start-up are included.
    metrics: () => client.Registry.merge([processRegistry, registry]).metrics(),
  };
}

/** Times every request; the route label is the matched pattern (bounded), never the raw URL. */
export function observeRequests(histogram: DashboardMetrics['requestDuration']): RequestHandler {
  return (req, res, next) => {
    const end = histogram.startTimer();
    res.once('close', () => {
      end({
        method: req.method,
        route: routeLabel(req, res),
        status: res.writableFinished ? String(res.statusCode) : 'aborted',
      });
    });
    next();
  };
}

function routeLabel(req: Request, res: Response): string {
  const label: unknown = res.locals[ROUTE_LABEL];
  if (typeof label === 'string') return label;
  const path: unknown = req.route?.path;
  return typeof path === 'string' ? path : 'unmatched';
}

/** GET /metrics: the exposition Prometheus scrapes (the queue, freshness and gap gauges read on each scrape). */
export function metricsRoute(metrics: DashboardMetrics): RequestHandler {
  return async (_req, res) => {
    const text = await metrics.metrics();
    res.set('Cache-Control', 'no-store').type(metrics.contentType).send(text);
  };
}
