/**
 * `npm run bench [-- name ...]`: runs every registered benchmark but the opt-in ones (or the named ones), each against
 * its own database, BullMQ prefix and simulator and within its own time budget, then prints one table
 * and writes bench-results/latest.json.
 */
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { toResult, type Benchmark, type BenchResult } from './benchmark.js';
import { createContext } from './context.js';
import { BENCHMARKS } from './registry.js';
import { formatTable, writeLatest } from './report.js';

/** dist/bench/main.js → the repository root. */
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

function select(names: readonly string[]): Benchmark[] {
  if (names.length === 0) return BENCHMARKS.filter((b) => !b.optIn);
  const known = (b: Benchmark) => [b.name, ...(b.reports ?? [])];
  const unknown = names.filter((n) => !BENCHMARKS.some((b) => known(b).includes(n)));
  if (unknown.length > 0) {
    const list = BENCHMARKS.map((b) => `  ${known(b).join(', ')}: ${b.description}`).join('\n');
    process.stderr.write(`unknown benchmark ${unknown.join(', ')}; known:\n${list}\n`);
    process.exit(2);
  }
  return BENCHMARKS.filter((b) => known(b).some((n) => names.includes(n)));
}

async function runOne(benchmark: Benchmark): Promise<BenchResult[]> {
  const controller = new AbortController();
  const ctx = createContext(benchmark.name, controller.signal);
  const timer = setTimeout(
    () => controller.abort(new Error(`${benchmark.name}: over its ${benchmark.budgetMs / 1000}s budget`)),
    benchmark.budgetMs,
  );
  const overBudget = new Promise<never>((_, reject) =>
    controller.signal.addEventListener('abort', () => reject(controller.signal.reason as Error), { once: true }),
  );
  const started = performance.now();
  try {
    ctx.log(`started (budget ${benchmark.budgetMs / 1000}s)`);
    const measurements = await Promise.race([benchmark.run(ctx), overBudget]);
    ctx.log(`finished in ${((performance.now() - started) / 1000).toFixed(1)}s`);
    return measurements.map((m) => toResult(benchmark.name, m));
  } finally {
    clearTimeout(timer);
    await ctx.close();
  }
}

const machine = `${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? 'unknown'}), ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB RAM, Node ${process.version}`;
const results: BenchResult[] = [];
const failed: string[] = [];
for (const benchmark of select(process.argv.slice(2))) {
  try {
    results.push(...(await runOne(benchmark)));
  } catch (error) {
    failed.push(benchmark.name);
    process.stderr.write(`[${benchmark.name}] FAILED: ${(error as Error).stack ?? String(error)}\n`);
  }
}
process.stdout.write(`\n${machine}\n\n${formatTable(results)}\n\n`);
process.stdout.write(
  `wrote ${path.relative(ROOT, writeLatest(ROOT, results))}${failed.length ? `; FAILED: ${failed.join(', ')}` : ''}\n`,
);
process.exit(failed.length > 0 ? 1 : 0);
