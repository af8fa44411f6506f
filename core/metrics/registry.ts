import client from 'prom-client';

/**
 * One Prometheus registry per process. Metric names follow Prometheus conventions and labels stay
 * bounded: queue, status, endpoint, field — never a coin id, job id or run id.
 */
export const registry = new client.Registry();
client.collectDefaultMetrics({ register: registry });

export const jobsTotal = new client.Counter({
  name: 'cdp_jobs_total',
  help: 'Jobs processed by this process, by queue and outcome (completed, failed, retried, rate_limited, delayed)',
  labelNames: ['queue', 'status'] as const,
  registers: [registry],
});

export const jobDuration = new client.Histogram({
  name: 'cdp_job_duration_seconds',
  help: 'Processor time per job, by queue and outcome',
  labelNames: ['queue', 'status'] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
  registers: [registry],
});

export const jobsStalled = new client.Counter({
  name: 'cdp_jobs_stalled_total',
  help: 'Jobs this process found stalled (their worker died or blocked) and returned to the queue',
  labelNames: ['queue'] as const,
  registers: [registry],
});

export const vanishedTransforms = new client.Counter({
  name: 'cdp_vanished_transforms_total',
  help: 'Runs whose transform job vanished from Redis, by outcome: covered (a later successful transform read its rows) or lost',
  labelNames: ['outcome'] as const,
  registers: [registry],
});

export const coingeckoRequests = new client.Counter({
  name: 'cdp_coingecko_requests_total',
  help: 'CoinGecko calls by endpoint and HTTP status (network errors as status "error")',
  labelNames: ['endpoint', 'status'] as const,
  registers: [registry],
});

export const coingeckoLatency = new client.Histogram({
  name: 'cdp_coingecko_request_duration_seconds',
  help: 'CoinGecko call latency by endpoint',
  labelNames: ['endpoint'] as const,
  buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
  registers: [registry],
});

export const coingeckoResponseBytes = new client.Histogram({
  name: 'cdp_coingecko_response_bytes',
  help: 'CoinGecko response body size by endpoint',
  labelNames: ['endpoint'] as const,
  buckets: [1e3, 1e4, 5e4, 1e5, 2.5e5, 5e5, 1e6, 5e6],
  registers: [registry],
});

export const rateLimitWaitSeconds = new client.Counter({
  name: 'cdp_coingecko_rate_limit_wait_seconds_total',
  help: 'Time the fetch queue was paused because CoinGecko answered 429',
  registers: [registry],
});

export const rowsLoaded = new client.Counter({
  name: 'cdp_load_rows_total',
  help: 'Snapshot rows handled by load workers, by outcome (inserted, duplicate, quarantined, stale: older than the raw retention window, not loaded)',
  labelNames: ['outcome'] as const,
  registers: [registry],
});

export const historyRows = new client.Counter({
  name: 'cdp_history_rows_total',
  help: 'History points (market_chart/range) handled by fetch workers, by outcome (inserted, duplicate, quarantined)',
  labelNames: ['outcome'] as const,
  registers: [registry],
});

export const staleObservations = new client.Counter({
  name: 'cdp_stale_observations_total',
  help: 'Observations older than the raw retention window recorded in pipeline.stale_observations: each coin and last_updated once, however many ticks see it again',
  registers: [registry],
});

export const staleKeyChecks = new client.Counter({
  name: 'cdp_load_stale_key_checks_total',
  help: "Batches whose fetch worker's key check was stale (a key was loaded since), so their COPY met the primary key and they were loaded again with a key lookup",
  registers: [registry],
});

export const copyDuration = new client.Histogram({
  name: 'cdp_load_batch_duration_seconds',
  help: 'Time to load one batch (COPY, insert, quarantine, ledger) in one transaction',
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  registers: [registry],
});

export const schemaDrift = new client.Counter({
  name: 'cdp_coingecko_schema_drift_total',
  help: 'Records carrying a field the documented CoinGecko schema lacks, by field name',
  labelNames: ['field'] as const,
  registers: [registry],
});

/**
 * A tick's call budget (producers/tick/call-budget.ts), set by the scheduler at start-up and at every
 * tick it plans: needed above allowed means the fetch queue cannot keep up and ticks supersede one
 * another's unfetched batches. Allowed is +Inf when the rate limit is 0 (unlimited).
 */
export const tickCallsNeeded = new client.Gauge({
  name: 'cdp_tick_calls_needed',
  help: 'CoinGecko calls one tick needs: its batches plus the universe refresh share',
  registers: [registry],
});

export const tickCallsAllowed = new client.Gauge({
  name: 'cdp_tick_calls_allowed',
  help: 'CoinGecko calls the rate limit allows in one tick interval (+Inf: unlimited)',
  registers: [registry],
});

export const batchesSuperseded = new client.Counter({
  name: 'cdp_batches_superseded_total',
  help: 'Batches a newer tick superseded before they were fetched (the fetch queue could not keep up)',
  registers: [registry],
});
