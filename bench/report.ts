import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { BenchResult } from './benchmark.js';

const HEADERS = ['benchmark', 'metric', 'value', 'unit', 'reference', 'reference value', 'ratio'];

const show = (n: number) =>
  Number.isNaN(n) ? '-' : Math.abs(n) >= 1000 ? Math.round(n).toLocaleString('en-US') : String(n);

/** A plain-text table, one row per result. */
export function formatTable(results: readonly BenchResult[]): string {
  const rows = results.map((r) => [
    r.benchmark,
    r.metric,
    show(r.value),
    r.unit,
    r.reference,
    show(r.reference_value),
    show(r.ratio),
  ]);
  const widths = HEADERS.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const numeric = new Set([2, 5, 6]);
  const line = (cells: string[]) =>
    cells.map((c, i) => (numeric.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join(' | ');
  return [line(HEADERS), widths.map((w) => '-'.repeat(w)).join('-|-'), ...rows.map(line)].join('\n');
}

/** Writes `bench-results/latest.json` (git-ignored) under `root`; returns its path. */
export function writeLatest(root: string, results: readonly BenchResult[]): string {
  const dir = path.join(root, 'bench-results');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'latest.json');
  writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
  return file;
}
