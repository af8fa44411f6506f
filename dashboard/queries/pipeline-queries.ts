import type { Queue } from 'bullmq';
import type pg from 'pg';
import { redactForLog } from '../../core/log/logger.js';
import { readFreshness } from './freshness-queries.js';
import { QUEUE_STATES } from '../metrics/dashboard-metrics.js';
import { withTimeout } from '../http/timeout.js';

/** Reads of the pipeline's own tables (pipeline.*) and queue counts, for the pipeline page. */

export interface FreshnessReport {
  /** When the newest batch was loaded (null when none in 7 days). */
  readonly lastLoadedAt: Date | null;
  readonly ageSeconds: number | null;
  readonly staleAfterSeconds: number;
  /** True when nothing loaded within staleAfterSeconds, or some tracked coin is stale. */
  readonly stale: boolean;
  readonly trackedCoins: number;
  readonly staleCoins: number;
  readonly lastTickSeconds: { load: number | null; transform: number | null } | null;
}

/** Freshness judged by staleAfterSeconds (STALE_AFTER, config.freshness), as the dashboard's gauges are. */
export async function freshness(pool: pg.Pool, staleAfterSeconds: number, now = Date.now()): Promise<FreshnessReport> {
  const f = await readFreshness(pool, staleAfterSeconds);
  const ageSeconds = f.lastLoaded === null ? null : Math.max(0, Math.round(now / 1000 - f.lastLoaded));
  return {
    lastLoadedAt: f.lastLoaded === null ? null : new Date(f.lastLoaded * 1000),
    ageSeconds,
    staleAfterSeconds,
    stale: ageSeconds === null || ageSeconds > staleAfterSeconds || f.coins.stale > 0,
    trackedCoins: f.coins.tracked,
    staleCoins: f.coins.stale,
    lastTickSeconds: f.lastTick ?? null,
  };
}

export interface CallBudgetReport {
  /** The newest planned tick (its ledger row carries the budget it was planned with). */
  readonly runId: string;
  readonly plannedAt: Date;
  /** CoinGecko calls a tick needs: its batches plus the universe refresh's share. */
  readonly callsNeeded: number;
  /** Calls the rate limit allows per tick interval; null when unlimited. */
  readonly callsAllowed: number | null;
  /** Needed above allowed: ticks supersede each other's unfetched batches. */
  readonly overloaded: boolean;
  /** Batches superseded by newer ticks among the runs planned in the last hour. */
  readonly supersededLastHour: number;
}

/**
 * The call budget of the newest tick, as the scheduler planned it (producers/tick/call-budget.ts),
 * and what it cost in the last hour; null before the first tick.
 */
export async function callBudget(pool: pg.Pool): Promise<CallBudgetReport | null> {
  const { rows } = await pool.query<Omit<CallBudgetReport, 'overloaded'>>(
    `select newest.run_id as "runId", newest.started_at as "plannedAt", newest.calls_needed as "callsNeeded",
            newest.calls_allowed as "callsAllowed",
            (select coalesce(sum(batches_superseded), 0)::int from pipeline.pipeline_runs
              where started_at > now() - interval '1 hour') as "supersededLastHour"
       from (select run_id, started_at, calls_needed, calls_allowed from pipeline.pipeline_runs
              where calls_needed is not null order by started_at desc limit 1) newest`,
  );
  const row = rows[0];
  if (!row) return null;
  return { ...row, overloaded: row.callsAllowed !== null && row.callsNeeded > row.callsAllowed };
}

export interface TransformNode {
  readonly uniqueId: string;
  readonly resourceType: string;
  readonly name: string;
  readonly status: string;
  readonly executionTimeMs: number;
  readonly rowsAffected: number | null;
  readonly failures: number | null;
  readonly message: string | null;
}

export interface TransformRun {
  readonly transformRunId: number;
  readonly runId: string;
  readonly jobId: string | null;
  readonly runner: string;
  readonly status: string;
  readonly startedAt: Date;
  readonly finishedAt: Date | null;
  readonly durationMs: number | null;
  readonly modelsBuilt: number;
  readonly modelsFailed: number;
  readonly testsPassed: number;
  readonly testsWarned: number;
  readonly testsFailed: number;
  readonly error: string | null;
  /** Every node of the run (models, tests, source freshness), problems first. */
  readonly nodes: TransformNode[];
}

/** The newest transform runs (transform_runs_started_idx), each with every node's result. */
export async function transformRuns(pool: pg.Pool, limit: number): Promise<TransformRun[]> {
  const runs = await pool.query<Omit<TransformRun, 'nodes'>>(
    `select transform_run_id::int as "transformRunId", run_id as "runId", job_id as "jobId", runner, status,
            started_at as "startedAt", finished_at as "finishedAt", duration_ms as "durationMs", models_built as "modelsBuilt",
            models_failed as "modelsFailed", tests_passed as "testsPassed", tests_warned as "testsWarned", tests_failed as "testsFailed", error
       from pipeline.transform_runs order by started_at desc, transform_run_id desc limit $1`,
    [limit],
  );
  const ids = runs.rows.map((r) => r.transformRunId);
  const nodes = await pool.query<TransformNode & { transformRunId: number }>(
    `select transform_run_id::int as "transformRunId", unique_id as "uniqueId", resource_type as "resourceType", name, status,
            execution_time_ms as "executionTimeMs", rows_affected::float8 as "rowsAffected", failures::float8 as failures, message
       from pipeline.transform_node_results where transform_run_id = any($1)
      order by transform_run_id, (status in ('error', 'fail', 'warn', 'runtime error')) desc, resource_type, name`,
    [ids],
  );
  return runs.rows.map((run) => ({
    ...run,
    error: run.error === null ? null : redactForLog(run.error),
    nodes: nodes.rows
      .filter((n) => n.transformRunId === run.transformRunId)
      .map(({ transformRunId: _id, ...node }) => ({
        ...node,
        message: node.message === null ? null : redactForLog(node.message),
      })),
  }));
}

export interface QuarantinedRecord {
  readonly quarantineId: number;
  readonly runId: string;
  readonly batchNo: number;
  readonly recordIndex: number;
  readonly coinId: string | null;
  readonly reason: string;
  /** The rejected record as received (JSON). */
  readonly record: unknown;
  readonly quarantinedAt: Date;
}

/** The newest rejected records (quarantined_records_at_idx) and how many there are in all. */
export async function quarantine(
  pool: pg.Pool,
  limit: number,
): Promise<{ records: QuarantinedRecord[]; total: number }> {
  const [records, total] = await Promise.all([
    pool.query<QuarantinedRecord>(
      `select quarantine_id::int as "quarantineId", run_id as "runId", batch_no as "batchNo", record_index as "recordIndex",
              coin_id as "coinId", reason, record, quarantined_at as "quarantinedAt"
         from pipeline.quarantined_records order by quarantined_at desc, quarantine_id desc limit $1`,
      [limit],
    ),
    pool.query<{ n: number }>('select count(*)::int as n from pipeline.quarantined_records'),
  ]);
  return { records: records.rows, total: total.rows[0]?.n ?? 0 };
}

export interface StaleObservation {
  readonly coinId: string;
  readonly vsCurrency: string;
  /** CoinGecko's last_updated, older than the raw retention window when first seen. */
  readonly lastUpdated: Date;
  /** The tick that first saw it. */
  readonly runId: string;
  readonly recordedAt: Date;
}

/**
 * Coins CoinGecko still lists with a last_updated older than the raw retention window (not loaded;
 * core/snapshots/stale-observations.ts), newest first, and how many such observations there are.
 */
export async function staleObservations(
  pool: pg.Pool,
  limit: number,
): Promise<{ observations: StaleObservation[]; total: number; coins: number }> {
  const [observations, total] = await Promise.all([
    pool.query<StaleObservation>(
      `select coin_id as "coinId", vs_currency as "vsCurrency", last_updated as "lastUpdated", run_id as "runId",
              recorded_at as "recordedAt"
         from pipeline.stale_observations order by recorded_at desc, coin_id limit $1`,
      [limit],
    ),
    pool.query<{ n: number; coins: number }>(
      'select count(*)::int as n, count(distinct coin_id)::int as coins from pipeline.stale_observations',
    ),
  ]);
  return { observations: observations.rows, total: total.rows[0]?.n ?? 0, coins: total.rows[0]?.coins ?? 0 };
}

export interface QueueDepth {
  /** Registry key (tick, universe, fetch, load, transform). */
  readonly key: string;
  readonly name: string;
  readonly counts: Record<(typeof QUEUE_STATES)[number], number> | null;
}

/** Job counts per registry queue; a queue that cannot be read within the timeout has counts null. */
export async function queueDepths(
  queues: ReadonlyArray<{ key: string; queue: Queue }>,
  timeoutMs: number,
): Promise<QueueDepth[]> {
  const results = await Promise.allSettled(
    queues.map(({ queue }) =>
      withTimeout(queue.getJobCounts(...QUEUE_STATES), timeoutMs, `job counts of ${queue.name}`),
    ),
  );
  return results.map((result, i) => ({
    key: queues[i]!.key,
    name: queues[i]!.queue.name,
    counts:
      result.status === 'fulfilled'
        ? (Object.fromEntries(QUEUE_STATES.map((s) => [s, result.value[s] ?? 0])) as QueueDepth['counts'])
        : null,
  }));
}
