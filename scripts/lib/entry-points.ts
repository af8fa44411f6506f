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
