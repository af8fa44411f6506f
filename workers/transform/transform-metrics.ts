import client from 'prom-client';
import { registry } from '../../core/metrics/registry.js';

/** Metrics of dbt project runs (either runner), on the process's shared registry. */
export const transformRunDuration = new client.Histogram({
  name: 'cdp_transform_run_duration_seconds',
  help: 'Wall time of one run of the dbt project, by runner and outcome (success, error)',
  labelNames: ['runner', 'status'] as const,
  buckets: [0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800],
  registers: [registry],
});

export const transformRuns = new client.Counter({
  name: 'cdp_transform_runs_total',
  help: "Transform jobs by outcome: success, error, or coalesced into a newer tick's run",
  labelNames: ['status'] as const,
  registers: [registry],
});

export const transformNodes = new client.Counter({
  name: 'cdp_transform_nodes_total',
  help: 'dbt nodes executed, by resource type (model, test, source) and status (success, pass, warn, fail, error, skipped)',
  labelNames: ['resource_type', 'status'] as const,
  registers: [registry],
});

export const transformLastSuccess = new client.Gauge({
  name: 'cdp_transform_last_success_timestamp_seconds',
  help: 'Unix time at which the last successful run of the dbt project finished',
  registers: [registry],
});

export const rawPartitionsDropped = new client.Counter({
  name: 'cdp_transform_raw_partitions_dropped_total',
  help: 'Daily raw snapshot partitions dropped by retention after their candles were built',
  registers: [registry],
});

export const rawPartitionDropsDeferred = new client.Counter({
  name: 'cdp_transform_raw_partition_drops_deferred_total',
  help: 'Drops of aged raw partitions that gave up after TRANSFORM_RAW_RETENTION_LOCK_TIMEOUT because loads or reads held the raw table; retried after the next transform',
  registers: [registry],
});
