/**
 * What a benchmark is and what it reports. Every number is printed next to a reference measured in
 * the same run (a physical limit, an allowance, a baseline script or a budget), so a slower machine
 * moves both and the ratio stays meaningful.
 */

/** One row of `bench-results/latest.json`. */
export interface BenchResult {
  readonly benchmark: string;
  readonly metric: string;
  readonly value: number;
  readonly unit: string;
  readonly reference: string;
  readonly reference_value: number;
  /** value ÷ reference_value. */
  readonly ratio: number;
}

/** What a benchmark returns; the harness fills in `benchmark` (unless given) and `ratio`. */
export interface Measurement {
  /** Defaults to the benchmark's name; a benchmark may report under another name (tick-latency reports memory). */
  readonly benchmark?: string;
  readonly metric: string;
  readonly value: number;
  readonly unit: string;
  readonly reference: string;
  readonly referenceValue: number;
}

/** Per-run resources; everything handed out here is removed when the benchmark ends, pass or fail. */
export interface BenchContext {
  readonly name: string;
  /** Aborted when the benchmark's time budget runs out. */
  readonly signal: AbortSignal;
  /** A fresh, migrated database `cdp_bench_<name>_<random>`, dropped at the end. */
  database(): Promise<BenchDatabase>;
  /** A BullMQ prefix of this run's own; its keys are deleted at the end. */
  prefix(): string;
  /** Runs `cleanup` at the end (last registered, first run). */
  defer(cleanup: () => Promise<unknown> | unknown): void;
  /** Progress on stderr, so stdout keeps only the table. */
  log(message: string): void;
}

export interface BenchDatabase {
  readonly name: string;
  readonly url: string;
}

export interface Benchmark {
  readonly name: string;
  readonly description: string;
  /** Hard limit; the run is aborted (and cleaned up) past it. */
  readonly budgetMs: number;
  /** Other names that select this benchmark on the command line (e.g. `memory` → tick-latency). */
  readonly reports?: readonly string[];
  /** Left out of `npm run bench` without names; runs only when named (a long benchmark). */
  readonly optIn?: boolean;
  run(ctx: BenchContext): Promise<Measurement[]>;
}

export function toResult(benchmark: string, m: Measurement): BenchResult {
  return {
    benchmark: m.benchmark ?? benchmark,
    metric: m.metric,
    value: round(m.value),
    unit: m.unit,
    reference: m.reference,
    reference_value: round(m.referenceValue),
    ratio: m.referenceValue === 0 ? Number.NaN : round(m.value / m.referenceValue, 3),
  };
}

function round(value: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
