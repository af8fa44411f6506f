import client from 'prom-client';
import type pg from 'pg';
import { scrapeRead } from './scrape-read.js';

/** Open gaps (recorded, or being repaired) and the age of the oldest, through coverage_gaps_open. */
const OPEN_GAPS_SQL = `
  select count(*)::int as open, extract(epoch from now() - min(detected_at)) as oldest_seconds
    from pipeline.coverage_gaps where status in ('open', 'repairing')`;

/**
 * Coverage gap gauges (pipeline.coverage_gaps, written by the scheduler's watchdog), read on each
 * scrape by the dashboard only, like the freshness gauges. A failed read reports NaN, which no
 * threshold crosses, and counts an error.
 */
export function registerGapMetrics(
  registry: client.Registry,
  pool: pg.Pool,
  options: { timeoutMs: number; onError?: (error: unknown) => void },
): void {
  const errors = new client.Counter({
    name: 'cdp_coverage_gaps_collect_errors_total',
    help: 'Scrapes in which the coverage gap gauges could not be read from Postgres; they read NaN then',
    registers: [registry],
  });
  const read = scrapeRead(
    async () => {
      const { rows } = await pool.query<{ open: number; oldest_seconds: string | null }>(OPEN_GAPS_SQL);
      return { open: rows[0]?.open ?? 0, oldestSeconds: Number(rows[0]?.oldest_seconds ?? 0) };
    },
    { timeoutMs: options.timeoutMs, what: 'gap query', errors, onError: options.onError },
  );

  new client.Gauge({
    name: 'cdp_coverage_gaps_open',
    help: 'Coverage gaps (no tick loaded for longer than GAP_THRESHOLD) recorded and not yet repaired, repairs under way included',
    registers: [registry],
    async collect() {
      const gaps = await read();
      this.set(gaps ? gaps.open : NaN);
    },
  });

  new client.Gauge({
    name: 'cdp_coverage_gap_oldest_open_seconds',
    help: 'Seconds since the oldest gap still open was detected (0 when none is open)',
    registers: [registry],
    async collect() {
      const gaps = await read();
      this.set(gaps ? gaps.oldestSeconds : NaN);
    },
  });
}
