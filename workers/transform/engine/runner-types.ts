import type { Logger } from '../../../core/log/logger.js';

/*
 * The runner contract and what a run reports, the same whichever runner made it. The runners, and
 * what records or reads their results, import these types from here. Only resolve-runner.ts imports
 * the runners (to pick one), and nothing imports it back.
 */

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
