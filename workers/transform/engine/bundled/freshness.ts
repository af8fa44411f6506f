import type pg from 'pg';
import type { NodeResult } from '../runner-types.js';
import type { SourceTable } from './project.js';

const PERIOD_SECONDS: Record<string, number> = { minute: 60, hour: 3600, day: 86_400 };

/**
 * `dbt source freshness` for one table: max(loaded_at_field) against now(), compared with error_after
 * then warn_after. A stale source is recorded (warn/error); it does not fail the transform, whose
 * data tests decide that.
 */
export async function checkFreshness(
  client: pg.ClientBase,
  project: string,
  table: SourceTable,
  count: (raw: unknown) => number,
): Promise<NodeResult> {
  const started = new Date();
  const base = {
    uniqueId: `source.${project}.${table.source}.${table.table}`,
    resourceType: 'source' as const,
    name: `${table.source}.${table.table}`,
    rowsAffected: null,
    failures: null,
  };
  try {
    const result = await client.query<{ age_s: number | null }>(
      `select extract(epoch from now() - max(${table.loadedAtField}))::float8 as age_s from "${table.schema}"."${table.identifier}"`,
    );
    const age = result.rows[0]?.age_s ?? null;
    const limit = (rule?: { count: unknown; period: string }) =>
      rule ? count(rule.count) * (PERIOD_SECONDS[rule.period] ?? NaN) : Infinity;
    const status =
      age === null || age > limit(table.freshness?.error_after)
        ? 'error'
        : age > limit(table.freshness?.warn_after)
          ? 'warn'
          : 'pass';
    const completedAt = new Date();
    const message = age === null ? 'no rows: never loaded' : `max(${table.loadedAtField}) is ${Math.round(age)} s old`;
    return {
      ...base,
      status,
      startedAt: started,
      completedAt,
      executionTimeMs: completedAt.getTime() - started.getTime(),
      message,
    };
  } catch (error) {
    const completedAt = new Date();
    return {
      ...base,
      status: 'runtime error',
      startedAt: started,
      completedAt,
      executionTimeMs: completedAt.getTime() - started.getTime(),
      message: error instanceof Error ? error.message : String(error),
    };
  }
}
