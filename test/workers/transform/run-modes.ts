import type pg from 'pg';
import { rootLogger, type Logger } from '../../../core/log/logger.js';
import type { BundledRunner } from '../../../workers/transform/engine/bundled/bundled-runner.js';
import { executeTransformRun } from '../../../workers/transform/engine/execute-run.js';
import type { TransformRunSummary } from '../../../workers/transform/engine/runner-types.js';

const signal = new AbortController().signal;

export type RunOptions = { runId: string; fullRefresh?: boolean; log?: Logger };

/**
 * The two ways the project runs: as the transform worker runs it (the incremental models read what
 * was loaded after the last run's load barrier) and as dbt run by hand (no barrier: each model's own
 * watermark minus the loaded_lookback_minutes overlap). Both must leave what a full refresh leaves.
 */
export const MODES: [
  name: string,
  run: (pool: pg.Pool, runner: BundledRunner, options: RunOptions) => Promise<TransformRunSummary>,
][] = [
  [
    'as the transform worker runs it',
    async (pool, runner, options) =>
      (await executeTransformRun(pool, runner, { ...options, signal, log: options.log ?? rootLogger })).summary,
  ],
  [
    'as dbt run by hand',
    (_pool, runner, options) => runner.run({ ...options, signal, log: options.log ?? rootLogger }),
  ],
];
