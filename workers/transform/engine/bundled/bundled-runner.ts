import pg from 'pg';
import type { AppConfig } from '../../../../core/config/index.js';
import { classifyPostgresError, errorMessage, RetryableError } from '../../../../core/errors.js';
import { dbtEnv } from '../dbt-env.js';
import type { NodeResult, TransformRunner, TransformRunOptions, TransformRunSummary } from '../runner-types.js';
import { summarize } from '../summarize.js';
import { checkFreshness } from './freshness.js';
import { buildTable, buildView, mergeIncremental, relationName, type Relation } from './materialize.js';
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

/** Names of the models whose relation exists, in one query. */
async function existingRelations(client: pg.Client, models: readonly PlannedModel[]): Promise<Set<string>> {
  const result = await client.query<{ name: string }>(
    'select name from unnest($1::text[], $2::text[]) as m(name, relation) where to_regclass(relation) is not null',
    [models.map((m) => m.name), models.map((m) => relationName({ schema: m.schema, identifier: m.name }))],
  );
  return new Set(result.rows.map((r) => r.name));
}

const timed = (started: Date) => {
  const completedAt = new Date();
  return { startedAt: started, completedAt, executionTimeMs: completedAt.getTime() - started.getTime() };
};

/**
 * Runs the dbt project in Node, for machines without Python: `dbt source freshness` then `dbt build`
 * semantics over the subset of dbt listed in dbt/README.md. Up to TRANSFORM_THREADS nodes at once,
 * each on its own connection, in dependency order: a model starts once its parents are built and
 * their tests have passed. DDL that can deadlock with a concurrent build runs alone: creating or
 * replacing a view (pg_rewrite, dbt-core #2801, #3508) and building a table (drop cascade and
 * rename). Incremental merges (a temp table of the session's own, then delete and insert into their
 * own target) and tests (plain selects) run side by side.
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
    const threads = Math.max(1, config.transform.threads);

    const clients: pg.Client[] = [];
    const connect = async () => {
      const client = new pg.Client({
        connectionString: config.postgres.url,
        application_name: 'cdp-transform-bundled',
        options: env.PGOPTIONS,
      });
      clients.push(client);
      await client.connect().catch((error: unknown) => {
        throw classifyPostgresError(error, 'bundled dbt runner: connecting');
      });
      return client;
    };
    const onAbort = () => {
      for (const client of clients) void client.end().catch(() => undefined);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    const nodes: NodeResult[] = [];
    let retryable = false;
    const aborted = () => new RetryableError('bundled dbt runner: aborted (worker shutting down)');
    try {
      const first = await connect();
      for (const table of project.sources.values()) {
        if (!table.freshness || !table.loadedAtField) continue;
        const count = (raw: unknown) =>
          Number(typeof raw === 'string' ? renderDbtJinja(table.file, raw, { ...context }) : raw);
        nodes.push(await checkFreshness(first, project_, table, count));
      }
      // Schemas first, as dbt does: two builds creating one schema at once would collide.
      for (const schema of new Set(plan.models.map((m) => m.schema)))
        await first.query(`create schema if not exists "${schema}"`);
      // Whether each model's relation exists, before any build: only its own build changes that.
      const existing = await existingRelations(first, plan.models);
      const idle = [first];
      for (let i = 1; i < threads && plan.models.length > 1; i++) idle.push(await connect());

      const state = new Map<string, 'success' | 'error' | 'skipped'>();
      const blocked = new Set<string>();
      const pendingModels = [...plan.models];
      const pendingTests = [...plan.tests];
      const runningTests = new Set<PlannedTest>();
      const running = new Set<Promise<void>>();
      let exclusive = false;

      /**
       * A model's parent is settled once it has a state and every test on it that can run has run (a
       * test of several models, such as relationships, runs once they all have one: waiting for it
       * could wait for a child of this very model).
       */
      const runnable = (test: PlannedTest) => test.models.every((m) => state.has(m));
      const settled = (name: string) =>
        state.has(name) && ![...pendingTests.filter(runnable), ...runningTests].some((t) => t.models.includes(name));
      const start = (work: (client: pg.Client) => Promise<void>, alone: boolean) => {
        const client = idle.pop()!;
        exclusive = alone;
        const task = work(client).finally(() => {
          idle.push(client);
          exclusive = false;
          running.delete(task);
        });
        running.add(task);
      };
      const runTest = (test: PlannedTest) => async (client: pg.Client) => {
        const result = await this.runTest(client, project_, test, context);
        runningTests.delete(test);
        nodes.push(result);
        if (result.status === 'fail' || result.status === 'error') for (const m of test.models) blocked.add(m);
      };
      const buildModel = (model: PlannedModel, incremental: boolean) => async (client: pg.Client) => {
        const uniqueId = `model.${project_}.${model.name}`;
        const started = new Date();
        try {
          const rows = await this.buildModel(client, model, context, incremental);
          state.set(model.name, 'success');
          nodes.push({
            uniqueId,
            resourceType: 'model',
            name: model.name,
            status: 'success',
            ...timed(started),
            rowsAffected: rows,
            failures: null,
            message: `${model.materialized}${rows === null ? '' : `: ${rows} rows`}`,
          });
          log.debug('model built', { model: model.name, rows });
        } catch (error) {
          if (!signal.aborted && classifyPostgresError(error, '') instanceof RetryableError) retryable = true;
          state.set(model.name, 'error');
          blocked.add(model.name);
          nodes.push({
            uniqueId,
            resourceType: 'model',
            name: model.name,
            status: 'error',
            ...timed(started),
            rowsAffected: null,
            failures: null,
            message: `${model.file}: ${errorMessage(error)}`,
          });
        }
      };
      /** Skips what can no longer run, then starts what can, tests first (they free their models' children). */
      const schedule = () => {
        for (let skipped = true; skipped;) {
          skipped = false;
          for (const model of [...pendingModels]) {
            if (!model.refs.every(settled)) continue;
            const upstreamProblem = model.refs.find((r) => blocked.has(r) || state.get(r) !== 'success');
            if (!upstreamProblem) continue;
            pendingModels.splice(pendingModels.indexOf(model), 1);
            state.set(model.name, 'skipped');
            blocked.add(model.name);
            skipped = true;
            nodes.push({
              uniqueId: `model.${project_}.${model.name}`,
              resourceType: 'model',
              name: model.name,
              status: 'skipped',
              startedAt: null,
              completedAt: null,
              executionTimeMs: 0,
              rowsAffected: null,
              failures: null,
              message: `skipped: upstream ${upstreamProblem} failed or did not pass its tests`,
            });
          }
        }
        for (const test of [...pendingTests]) {
          if (exclusive || idle.length === 0) return;
          if (!runnable(test)) continue;
          pendingTests.splice(pendingTests.indexOf(test), 1);
          runningTests.add(test);
          start(runTest(test), false);
        }
        for (const model of [...pendingModels]) {
          if (exclusive || idle.length === 0) return;
          if (!model.refs.every(settled)) continue;
          // full_refresh=false pins a model to incremental runs even when a full refresh is asked for.
          const rebuild = fullRefresh && model.fullRefresh !== false;
          const incremental = model.materialized === 'incremental' && existing.has(model.name) && !rebuild;
          const alone = !incremental;
          if (alone && running.size > 0) return;
          pendingModels.splice(pendingModels.indexOf(model), 1);
          start(buildModel(model, incremental), alone);
        }
      };
      for (;;) {
        if (signal.aborted) throw aborted();
        schedule();
        if (running.size === 0) break;
        await Promise.race(running);
      }
      if (signal.aborted) throw aborted();
      // Models whose parents are not in the plan, and tests whose models never built, are skipped, as dbt build reports them.
      for (const model of pendingModels) {
        nodes.push({
          uniqueId: `model.${project_}.${model.name}`,
          resourceType: 'model',
          name: model.name,
          status: 'skipped',
          startedAt: null,
          completedAt: null,
          executionTimeMs: 0,
          rowsAffected: null,
          failures: null,
          message: 'skipped: an upstream model was not built',
        });
      }
      for (const test of pendingTests) {
        nodes.push({
          uniqueId: `test.${project_}.${test.name}`,
          resourceType: 'test',
          name: test.name,
          status: 'skipped',
          startedAt: null,
          completedAt: null,
          executionTimeMs: 0,
          rowsAffected: null,
          failures: null,
          message: 'skipped: a model it tests was not built',
        });
      }
    } finally {
      signal.removeEventListener('abort', onAbort);
      await Promise.all(clients.map((client) => client.end().catch(() => undefined)));
    }
    return summarize('bundled', nodes, { retryable });
  }

  private async buildModel(
    client: pg.Client,
    model: PlannedModel,
    context: Parameters<typeof renderDbtJinja>[2],
    incremental: boolean,
  ): Promise<number | null> {
    const relation: Relation = { schema: model.schema, identifier: model.name };
    const sql = renderDbtJinja(model.file, model.sql, { ...context, self: relation, isIncremental: incremental });
    if (model.materialized === 'view') return buildView(client, relation, sql);
    if (incremental) return mergeIncremental(client, relation, sql, model.uniqueKey);
    return buildTable(client, relation, sql, model.indexes);
  }

  private async runTest(
    client: pg.Client,
    project: string,
    test: PlannedTest,
    context: Parameters<typeof renderDbtJinja>[2],
  ): Promise<NodeResult> {
    const started = new Date();
    const base = {
      uniqueId: `test.${project}.${test.name}`,
      resourceType: 'test' as const,
      name: test.name,
      rowsAffected: null,
    };
    try {
      const sql = test.sql ?? renderDbtJinja(test.file, test.template!, context);
      const result = await client.query<{ failures: number }>(
        `select count(*)::int as failures from (\n${sql}\n) as dbt_internal_test`,
      );
      const failures = result.rows[0]!.failures;
      const status = failures === 0 ? 'pass' : test.severity === 'warn' ? 'warn' : 'fail';
      return {
        ...base,
        status,
        ...timed(started),
        failures,
        message:
          failures === 0
            ? null
            : `Got ${failures} result${failures === 1 ? '' : 's'}, configured to ${test.severity === 'warn' ? 'warn' : 'fail'} if != 0`,
      };
    } catch (error) {
      return {
        ...base,
        status: 'error',
        ...timed(started),
        failures: null,
        message: `${test.file}: ${errorMessage(error)}`,
      };
    }
  }
}
