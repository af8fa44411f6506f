/**
 * The built entry point of each process kind (`npm run build` first), relative to the repository
 * root: one list for everything that spawns the pipeline's processes (scripts/run-local, the
 * benchmarks, the tests).
 */
export const ENTRY_POINTS = {
  simulator: 'dist/simulator/main.js',
  scheduler: 'dist/producers/scheduler/main.js',
  fetch: 'dist/workers/fetch/main.js',
  load: 'dist/workers/load/main.js',
  transform: 'dist/workers/transform/main.js',
  dashboard: 'dist/dashboard/main.js',
} as const;
export type ProcessKind = keyof typeof ENTRY_POINTS;

/**
 * Node flags of each process kind, before its entry point wherever one is started: the spawners
 * above, compose.yaml, deploy/kubernetes and the Dockerfile's transform image (tests check those).
 *
 * --max-semi-space-size=2 (MB; V8's default young generation is 2 × 16 MB on 64-bit): a worker turns
 * each batch into short-lived garbage (a 200 KB response, its parsed form, a 290 KB COPY payload and
 * Redis' copy of it); collected in small steps it never piles up to the RSS the default young
 * generation lets it reach, and tick latency and throughput do not move (docs/benchmarks.md,
 * Memory). The dashboard keeps V8's default: it answers requests, where fewer young-generation
 * collections matter more than its memory.
 */
export const NODE_FLAGS: Readonly<Record<ProcessKind, readonly string[]>> = {
  simulator: [],
  scheduler: ['--max-semi-space-size=2'],
  fetch: ['--max-semi-space-size=2'],
  load: ['--max-semi-space-size=2'],
  transform: ['--max-semi-space-size=2'],
  dashboard: [],
};
