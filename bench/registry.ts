import { backfillBenchmark } from './backfill/backfill-bench.js';
import type { Benchmark } from './benchmark.js';
import { dashboardBenchmark } from './dashboard-bench.js';
import { fetchBenchmark } from './fetch/fetch-bench.js';
import { loadBenchmark } from './load/load-bench.js';
import { tickLatencyBenchmark } from './tick-latency/tick-latency-bench.js';
import { scaleBenchmark } from './scale/scale-bench.js';
import { scalingBenchmark } from './scaling-bench.js';
import { storageBenchmark } from './storage/storage-bench.js';
import { transformBenchmark } from './transform-bench.js';

/**
 * Every benchmark `npm run bench` knows, in the order they run. To add one: a file exporting a
 * {@link Benchmark} (name, description, budgetMs, run(ctx) → measurements, each with a reference
 * measured in the same run), then one line here. `optIn: true` keeps a long one out of the default run.
 */
export const BENCHMARKS: readonly Benchmark[] = [
  loadBenchmark,
  storageBenchmark,
  fetchBenchmark,
  tickLatencyBenchmark,
  scalingBenchmark,
  transformBenchmark,
  dashboardBenchmark,
  backfillBenchmark,
  scaleBenchmark,
];
