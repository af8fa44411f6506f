import type { AppConfig } from '../config/index.js';
import type { Logger } from '../log/logger.js';
import { PermanentError } from '../errors.js';

/** Outcome of one run of the dbt project, in the shape both runners report. */
export interface TransformRunSummary {
  readonly runner: string;
  readonly status: 'success' | 'error';
  readonly detail: string;
}

/** Executes the dbt project once (one implementation spawns dbt; the other renders it in Node). */
export interface TransformRunner {
  readonly name: string;
  run(options: { runId: string; signal: AbortSignal; log: Logger }): Promise<TransformRunSummary>;
}

/**
 * Picks the runner TRANSFORM_RUNNER asks for. The dbt and bundled runners arrive with the
 * transformations work; until then asking for them is a configuration error with a clear reason.
 */
export function resolveTransformRunner(config: AppConfig): TransformRunner {
  if (config.transform.runner === 'none') {
    throw new PermanentError('no transform runner configured (TRANSFORM_RUNNER=none): set TRANSFORM_RUNNER to auto, dbt or bundled');
  }
  throw new PermanentError(`TRANSFORM_RUNNER=${config.transform.runner} is not available in this build`);
}
