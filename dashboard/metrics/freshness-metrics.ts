import client from 'prom-client';
import type pg from 'pg';
import { readFreshness, RUN_STATUSES } from '../queries/freshness-queries.js';
import { scrapeRead } from './scrape-read.js';

/**
 * Data freshness gauges, read from the run ledger on each scrape. Registered by the dashboard only:
 * like the queue gauges they describe shared state, and N exporters would multiply them.
 * All gauges come from one set of queries per scrape (prom-client collects every metric of a scrape
 * concurrently, so they share the in-flight read). A failed read counts an error and reports no
 * stale values: labelled series disappear, unlabelled gauges read NaN (which no threshold crosses).
 */
export function registerFreshnessMetrics(
  registry: client.Registry,
  pool: pg.Pool,
  options: {
    timeoutMs: number;
    /** A tracked coin is stale when none of its batches loaded within this window (STALE_AFTER, config.freshness). */
    staleAfterSeconds: number;
    onError?: (error: unknown) => void;
  },
): void {
  const staleAfter = options.staleAfterSeconds;
  const errors = new client.Counter({
    name: 'cdp_freshness_collect_errors_total',
    help: 'Scrapes in which the freshness gauges could not be read from Postgres; they are absent then',
    registers: [registry],
  });
  const read = scrapeRead(() => readFreshness(pool, staleAfter), {
    timeoutMs: options.timeoutMs,
    what: 'freshness queries',
    errors,
    onError: options.onError,
  });

  // The threshold itself, so that Grafana's freshness alert compares with the dashboard's setting
  // instead of a number of its own (Grafana interpolates no environment variable into a rule's query
  // or threshold). Set once: it needs no database and is there even when the ledger cannot be read.
  new client.Gauge({
    name: 'cdp_freshness_stale_after_seconds',
    help: 'The staleness threshold (STALE_AFTER): data or a tracked coin with no load for longer is stale',
    registers: [registry],
  }).set(staleAfter);

  new client.Gauge({
    name: 'cdp_freshness_last_load_timestamp_seconds',
    help: 'Unix time at which the newest batch of snapshots was loaded (0 when none in 7 days); age = time() - this',
    registers: [registry],
    async collect() {
      const f = await read();
      this.set(f ? (f.lastLoaded ?? 0) : NaN);
    },
  });

  new client.Gauge({
    name: 'cdp_tick_last_duration_seconds',
    help: 'End-to-end duration of the newest finished tick: stage "load" = planned to last batch settled, "transform" = planned to transform settled',
    labelNames: ['stage'] as const,
    registers: [registry],
    async collect() {
      const f = await read();
      this.reset();
      if (f?.lastTick?.load != null) this.set({ stage: 'load' }, f.lastTick.load);
      if (f?.lastTick?.transform != null) this.set({ stage: 'transform' }, f.lastTick.transform);
    },
  });

  new client.Gauge({
    name: 'cdp_pipeline_runs_recent',
    help: 'Ticks started in the last hour, by run status (running, loaded, partial, failed, lost)',
    labelNames: ['status'] as const,
    registers: [registry],
    async collect() {
      const f = await read();
      this.reset();
      if (f) for (const status of RUN_STATUSES) this.set({ status }, f.recentRuns.get(status) ?? 0);
    },
  });

  new client.Gauge({
    name: 'cdp_freshness_tracked_coins',
    help: 'Coins planned by the newest tick',
    registers: [registry],
    async collect() {
      const f = await read();
      this.set(f ? f.coins.tracked : NaN);
    },
  });

  new client.Gauge({
    name: 'cdp_freshness_stale_coins',
    help: `Coins planned by the newest tick that no batch loaded in the last ${staleAfter} seconds`,
    registers: [registry],
    async collect() {
      const f = await read();
      this.set(f ? f.coins.stale : NaN);
    },
  });
}
