import pg from 'pg';
import type { AppConfig } from '../../config/index.js';
import { classifyPostgresError, errorMessage, RetryableError } from '../../errors.js';
import { dbtEnv } from '../dbt-env.js';
import type { NodeResult, TransformRunner, TransformRunOptions, TransformRunSummary } from '../runner.js';
import { summarize } from '../summarize.js';
import { checkFreshness } from './freshness.js';
import { buildTable, buildView, mergeIncremental, relationExists, type Relation } from './materialize.js';
import { planProject, type PlannedModel, type PlannedTest } from './plan.js';
import { loadProject } from './project.js';
import { renderDbtJinja } from './render.js';

export interface BundledRunnerOptions {
  readonly projectDir: string;
  readonly config: AppConfig;
  /** --vars: override the project's vars. */
  readonly vars: Record<string, unknown>;
  readonly env?: NodeJS.ProcessEnv;
}

const timed = (started: Date) => {
  const completedAt = new Date();
  return { startedAt: started, completedAt, executionTimeMs: completedAt.getTime() - started.getTime() };
};

/**
 * Runs the dbt project in Node, for machines without Python: `dbt source freshness` then `dbt build`
 * semantics over the subset of dbt listed in dbt/README.md. One connection, one node at a time.
 */
export class BundledRunner implements TransformRunner {
  readonly name = 'bundled' as const;

  constructor(private readonly options: BundledRunnerOptions) {}

  async run({ signal, log, fullRefresh = false, vars: runVars }: TransformRunOptions): Promise<TransformRunSummary> {
    const { config } = this.options;
    const project = loadProject(this.options.projectDir);
    const vars = { ...project.vars, ...this.options.vars, ...runVars };
    const env = { ...(this.options.env ?? process.env), ...dbtEnv(config) };
    const { plan, context } = planProject(project, { vars, env }, config.transform.schema);
    const project_ = project.name;

    const client = new pg.Client({ connectionString: config.postgres.url, application_name: 'cdp-transform-bundled', options: env.PGOPTIONS });
    await client.connect().catch((error: unknown) => {
      throw classifyPostgresError(error, 'bundled dbt runner: connecting');
    });
    const onAbort = () => void client.end().catch(() => undefined);
    signal.addEventListener('abort', onAbort, { once: true });
    const nodes: NodeResult[] = [];
    let retryable = false;
    try {
      for (const table of project.sources.values()) {
        if (!table.freshness || !table.loadedAtField) continue;
        const count = (raw: unknown) => Number(typeof raw === 'string' ? renderDbtJinja(table.file, raw, { ...context }) : raw);
        nodes.push(await checkFreshness(client, project_, table, count));
      }

      const state = new Map<string, 'success' | 'error' | 'skipped'>();
      const blocked = new Set<string>();
      const pending = [...plan.tests];
      const runReadyTests = async () => {
        for (const test of [...pending]) {
          if (!test.models.every((m) => state.has(m))) continue;
          pending.splice(pending.indexOf(test), 1);
          const result = await this.runTest(client, project_, test, context);
          nodes.push(result);
          if (result.status === 'fail' || result.status === 'error') for (const m of test.models) blocked.add(m);
        }
      };
      await runReadyTests();
      for (const model of plan.models) {
        if (signal.aborted) throw new RetryableError('bundled dbt runner: aborted (worker shutting down)');
        const uniqueId = `model.${project_}.${model.name}`;
        const upstreamProblem = model.refs.find((r) => blocked.has(r) || state.get(r) !== 'success');
        if (upstreamProblem) {
          state.set(model.name, 'skipped');
          blocked.add(model.name);
          nodes.push({ uniqueId, resourceType: 'model', name: model.name, status: 'skipped', startedAt: null, completedAt: null, executionTimeMs: 0, rowsAffected: null, failures: null, message: `skipped: upstream ${upstreamProblem} failed or did not pass its tests` });
          continue;
        }
        const started = new Date();
        try {
          const rows = await this.buildModel(client, model, context, fullRefresh);
          state.set(model.name, 'success');
          nodes.push({ uniqueId, resourceType: 'model', name: model.name, status: 'success', ...timed(started), rowsAffected: rows, failures: null, message: `${model.materialized}${rows === null ? '' : `: ${rows} rows`}` });
          log.debug('model built', { model: model.name, rows });
        } catch (error) {
          if (signal.aborted) throw new RetryableError('bundled dbt runner: aborted (worker shutting down)');
          if (classifyPostgresError(error, '') instanceof RetryableError) retryable = true;
          state.set(model.name, 'error');
          blocked.add(model.name);
          nodes.push({ uniqueId, resourceType: 'model', name: model.name, status: 'error', ...timed(started), rowsAffected: null, failures: null, message: `${model.file}: ${errorMessage(error)}` });
        }
        await runReadyTests();
      }
      // Tests whose models never built are skipped, as dbt build reports them.
      for (const test of pending) {
        nodes.push({ uniqueId: `test.${project_}.${test.name}`, resourceType: 'test', name: test.name, status: 'skipped', startedAt: null, completedAt: null, executionTimeMs: 0, rowsAffected: null, failures: null, message: 'skipped: a model it tests was not built' });
      }
    } finally {
      signal.removeEventListener('abort', onAbort);
      await client.end().catch(() => undefined);
    }
    return summarize('bundled', nodes, { retryable });
  }

  private async buildModel(client: pg.Client, model: PlannedModel, context: Parameters<typeof renderDbtJinja>[2], fullRefresh: boolean): Promise<number | null> {
    const relation: Relation = { schema: model.schema, identifier: model.name };
    await client.query(`create schema if not exists "${model.schema}"`);
    const exists = await relationExists(client, relation);
    // full_refresh=false pins a model to incremental runs even when a full refresh is asked for.
    const rebuild = fullRefresh && model.fullRefresh !== false;
    const incremental = model.materialized === 'incremental' && exists && !rebuild;
    const sql = renderDbtJinja(model.file, model.sql, { ...context, self: relation, isIncremental: incremental });
    if (model.materialized === 'view') return buildView(client, relation, sql);
    if (incremental) return mergeIncremental(client, relation, sql, model.uniqueKey);
    return buildTable(client, relation, sql, model.indexes);
  }

  private async runTest(client: pg.Client, project: string, test: PlannedTest, context: Parameters<typeof renderDbtJinja>[2]): Promise<NodeResult> {
    const started = new Date();
    const base = { uniqueId: `test.${project}.${test.name}`, resourceType: 'test' as const, name: test.name, rowsAffected: null };
    try {
      const sql = test.sql ?? renderDbtJinja(test.file, test.template!, context);
      const result = await client.query<{ failures: number }>(`select count(*)::int as failures from (\n${sql}\n) as dbt_internal_test`);
      const failures = result.rows[0]!.failures;
      const status = failures === 0 ? 'pass' : test.severity === 'warn' ? 'warn' : 'fail';
      return { ...base, status, ...timed(started), failures, message: failures === 0 ? null : `Got ${failures} result${failures === 1 ? '' : 's'}, configured to ${test.severity === 'warn' ? 'warn' : 'fail'} if != 0` };
    } catch (error) {
      return { ...base, status: 'error', ...timed(started), failures: null, message: `${test.file}: ${errorMessage(error)}` };
    }
  }
}
