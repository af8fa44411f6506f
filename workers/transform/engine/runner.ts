import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { AppConfig } from '../../../core/config/index.js';
import type { Logger } from '../../../core/log/logger.js';
import { PermanentError } from '../../../core/errors.js';
import { BundledRunner } from './bundled/bundled-runner.js';
import { DbtRunner } from './dbt-runner.js';
import { dbtVars } from './dbt-env.js';
import { findProjectDir } from './project-dir.js';

/** A node's outcome, in the vocabulary of dbt's run_results.json / sources.json. */
export type NodeStatus = 'success' | 'error' | 'skipped' | 'pass' | 'fail' | 'warn' | 'runtime error';

/** One node (model, test or source freshness check) of one run, the same for both runners. */
export interface NodeResult {
  readonly uniqueId: string;
  readonly resourceType: 'model' | 'test' | 'source' | 'seed' | 'snapshot' | 'operation' | 'unit_test';
  readonly name: string;
  readonly status: NodeStatus;
  readonly startedAt: Date | null;
  readonly completedAt: Date | null;
  readonly executionTimeMs: number;
  /** Rows written by a model, when the adapter reports it. */
  readonly rowsAffected: number | null;
  /** Rows a test returned (its failures), or null for non-tests. */
  readonly failures: number | null;
  readonly message: string | null;
}

/** Outcome of one run of the dbt project, in the shape both runners report. */
export interface TransformRunSummary {
  readonly runner: 'dbt' | 'bundled';
  readonly status: 'success' | 'error';
  readonly nodes: readonly NodeResult[];
  /** One line for logs and the job's return value, e.g. "12 models, 20 tests passed, 1 warned". */
  readonly detail: string;
  /** Why the run failed (names every failing error-severity test and erroring model), when it did. */
  readonly failureReason?: string;
  /** True when a retry can help (connection loss, dbt crashed with exit code 2). */
  readonly retryable?: boolean;
}

export interface TransformRunOptions {
  readonly runId: string;
  readonly signal: AbortSignal;
  readonly log: Logger;
  /** Rebuild incremental models from scratch (models configured full_refresh=false are kept). */
  readonly fullRefresh?: boolean;
  /** Vars of this run only (dbt --vars), over the ones the runner was made with. */
  readonly vars?: Readonly<Record<string, unknown>>;
}

/** Executes the dbt project once (one implementation spawns dbt; the other renders it in Node). */
export interface TransformRunner {
  readonly name: 'dbt' | 'bundled';
  run(options: TransformRunOptions): Promise<TransformRunSummary>;
}

/** Absolute path of an executable named `command` on PATH, if any. */
export function findOnPath(command: string, path = process.env.PATH ?? ''): string | undefined {
  for (const dir of path.split(delimiter).filter(Boolean)) {
    const candidate = join(dir, command);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/**
 * Picks the runner TRANSFORM_RUNNER asks for: dbt (must be on PATH), bundled (Node, no Python), or
 * auto (dbt when it is on PATH, else bundled). Resolved per job, so installing dbt needs no restart.
 */
export function resolveTransformRunner(config: AppConfig, env: NodeJS.ProcessEnv = process.env): TransformRunner {
  const choice = config.transform.runner;
  if (choice === 'none') {
    throw new PermanentError('no transform runner configured (TRANSFORM_RUNNER=none): set TRANSFORM_RUNNER to auto, dbt or bundled');
  }
  const projectDir = findProjectDir();
  const vars = dbtVars(config);
  const dbt = findOnPath('dbt', env.PATH);
  if (choice === 'dbt' && !dbt) throw new PermanentError('TRANSFORM_RUNNER=dbt but no dbt executable is on PATH (install dbt-core and dbt-postgres, or use TRANSFORM_RUNNER=bundled)');
  if (dbt && choice !== 'bundled') return new DbtRunner({ executable: dbt, projectDir, config, vars, env });
  return new BundledRunner({ projectDir, config, vars, env });
}
