import type pg from 'pg';
import { loadConfig } from '../../core/config/index.js';
import { registry as processRegistry } from '../../core/metrics/registry.js';
import '../../workers/transform/transform-metrics.js';
import { createDashboardMetrics } from '../../dashboard/metrics/dashboard-metrics.js';

/** Series Prometheus adds to every target itself. */
const SCRAPE_SERIES = [
  'up',
  'scrape_duration_seconds',
  'scrape_samples_scraped',
  'scrape_samples_post_metric_relabeling',
  'scrape_series_added',
];

/**
 * Every series name some pipeline process exports, read from the prom-client registries the
 * processes serve: the process registry (core metrics, transform metrics, Node defaults) and the
 * dashboard's own (queue and freshness gauges). Histograms expand to _bucket/_sum/_count.
 */
export function exportedSeriesNames(): Set<string> {
  const dashboard = createDashboardMetrics([], {
    timeoutMs: 100,
    freshness: { pool: {} as pg.Pool, staleAfterSeconds: loadConfig({}).freshness.staleAfterSeconds },
  });
  const names = new Set(SCRAPE_SERIES);
  for (const registry of [processRegistry, dashboard.registry]) {
    for (const metric of registry.getMetricsAsArray()) {
      const type = String(metric.type);
      if (type === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(metric.name + s);
      else if (type === 'summary') for (const s of ['', '_sum', '_count']) names.add(metric.name + s);
      else names.add(metric.name);
    }
  }
  return names;
}
