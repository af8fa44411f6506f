import { genericTestName, genericTestSql } from './generic-tests.js';
import { macroLibrary } from './macros.js';
import type { DbtProject } from './project.js';
import { newCapture, renderDbtJinja, type RenderContext } from './render.js';
import { UnsupportedConstructError } from './unsupported.js';

const MODEL_CONFIG_KEYS = new Set([
  'materialized',
  'schema',
  'unique_key',
  'incremental_strategy',
  'full_refresh',
  'indexes',
  'tags',
  'docs',
  'description',
]);
const INDEX_KEYS = new Set(['columns', 'unique', 'type']);

/** dbt-postgres' `indexes` config: one entry per index, created when the table is (re)built. */
export interface IndexSpec {
  readonly columns: readonly string[];
  readonly unique: boolean;
  readonly type: string | undefined;
}

function parseIndexes(file: string, raw: unknown): IndexSpec[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) throw new UnsupportedConstructError(file, 'indexes that is not a list');
  return raw.map((entry: unknown) => {
    const spec = (entry ?? {}) as Record<string, unknown>;
    for (const key of Object.keys(spec))
      if (!INDEX_KEYS.has(key)) throw new UnsupportedConstructError(file, `index option '${key}'`);
    const columns = spec.columns;
    if (!Array.isArray(columns) || columns.length === 0)
      throw new UnsupportedConstructError(file, 'an index without columns');
    if (spec.type !== undefined && !/^[a-z]+$/.test(String(spec.type)))
      throw new UnsupportedConstructError(file, `index type '${String(spec.type)}'`);
    return {
      columns: columns.map(String),
      unique: spec.unique === true,
      type: spec.type === undefined ? undefined : String(spec.type),
    };
  });
}
const MATERIALIZATIONS = new Set(['view', 'table', 'incremental']);

export interface PlannedModel {
  readonly name: string;
  readonly file: string;
  readonly sql: string;
  readonly schema: string;
  readonly materialized: 'view' | 'table' | 'incremental';
  readonly uniqueKey: readonly string[];
  readonly fullRefresh: boolean | undefined;
  readonly indexes: readonly IndexSpec[];
  readonly refs: readonly string[];
}

export interface PlannedTest {
  readonly name: string;
  readonly file: string;
  readonly severity: 'error' | 'warn';
  /** Models the test reads; it runs once they are all built. */
  readonly models: readonly string[];
  /** Final SQL for generic tests (a `where` config already applied); singular tests are rendered when they run. */
  readonly sql?: string;
  readonly template?: string;
}

export interface Plan {
  readonly models: readonly PlannedModel[];
  readonly tests: readonly PlannedTest[];
}

/** dbt's default generate_schema_name: the target schema, or <target>_<custom>. */
export const schemaFor = (targetSchema: string, custom: unknown) =>
  custom ? `${targetSchema}_${String(custom)}` : targetSchema;

/** Kahn's algorithm, alphabetical among ready nodes so runs are reproducible. */
function orderModels(models: Map<string, { refs: string[]; file: string }>): string[] {
  const remaining = new Map([...models].map(([name, m]) => [name, new Set(m.refs)]));
  const order: string[] = [];
  while (remaining.size > 0) {
    const ready = [...remaining]
      .filter(([, deps]) => [...deps].every((d) => !remaining.has(d)))
      .map(([n]) => n)
      .sort();
    if (ready.length === 0)
      throw new UnsupportedConstructError(
        models.get([...remaining.keys()][0]!)!.file,
        `a dependency cycle among ${[...remaining.keys()].join(', ')}`,
      );
    for (const name of ready) {
      order.push(name);
      remaining.delete(name);
    }
  }
  return order;
}

/**
 * Parses every node before anything runs: renders each model once (is_incremental() false, as dbt's
 * parser does) to learn its config() and refs, validates what it asks for, orders the models and
 * attaches the tests. Anything unsupported throws here, so a run never half-builds.
 */
export function planProject(
  project: DbtProject,
  given: Omit<RenderContext, 'relationOf' | 'sourceRelation' | 'macros'>,
  targetSchema: string,
): { plan: Plan; context: Omit<RenderContext, 'self' | 'isIncremental'> } {
  const base = { ...given, macros: macroLibrary(project.macros) };
  const sourceRelation = (source: string, table: string) => {
    const t = project.sources.get(`${source}.${table}`);
    return t ? `"${t.schema}"."${t.identifier}"` : undefined;
  };
  const parsing = {
    ...base,
    sourceRelation,
    relationOf: (name: string) => (project.models.has(name) ? `"__parse__"."${name}"` : undefined),
  };
  const parsed = new Map<string, { refs: string[]; file: string; config: Record<string, unknown> }>();
  for (const model of project.models.values()) {
    const capture = newCapture();
    renderDbtJinja(
      model.file,
      model.sql,
      { ...parsing, self: { schema: '__parse__', identifier: model.name } },
      capture,
    );
    const config = { ...model.inheritedConfig, ...capture.config };
    for (const key of Object.keys(config))
      if (!MODEL_CONFIG_KEYS.has(key)) throw new UnsupportedConstructError(model.file, `config '${key}'`);
    const materialized = String(config.materialized ?? 'view');
    if (!MATERIALIZATIONS.has(materialized))
      throw new UnsupportedConstructError(model.file, `materialized='${materialized}'`);
    const strategy = config.incremental_strategy;
    if (strategy !== undefined && strategy !== 'delete+insert' && strategy !== 'append')
      throw new UnsupportedConstructError(model.file, `incremental_strategy='${String(strategy)}'`);
    if (strategy === 'append' && config.unique_key !== undefined)
      throw new UnsupportedConstructError(model.file, "incremental_strategy='append' with a unique_key");
    parsed.set(model.name, { refs: [...capture.refs], file: model.file, config });
  }
  const schemaOf = (name: string) => schemaFor(targetSchema, parsed.get(name)?.config.schema);
  const relationOf = (name: string) => (parsed.has(name) ? `"${schemaOf(name)}"."${name}"` : undefined);
  const context = { ...base, sourceRelation, relationOf };

  const models: PlannedModel[] = orderModels(parsed).map((name) => {
    const { config, refs, file } = parsed.get(name)!;
    const key = config.unique_key;
    return {
      name,
      file,
      sql: project.models.get(name)!.sql,
      schema: schemaOf(name),
      materialized: (config.materialized as PlannedModel['materialized']) ?? 'view',
      uniqueKey: key === undefined ? [] : Array.isArray(key) ? key.map(String) : [String(key)],
      fullRefresh: config.full_refresh as boolean | undefined,
      indexes: parseIndexes(file, config.indexes),
      refs,
    };
  });

  const tests: PlannedTest[] = [];
  for (const spec of project.genericTests) {
    const capture = newCapture();
    const args: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(spec.args)) {
      if (key === 'to') args[key] = renderDbtJinja(spec.file, `{{ ${String(value)} }}`, context, capture);
      else if (Array.isArray(value))
        args[key] = value.map((v) =>
          typeof v === 'string' && v.includes('{{') ? renderDbtJinja(spec.file, v, context, capture) : v,
        );
      else
        args[key] =
          typeof value === 'string' && value.includes('{{')
            ? renderDbtJinja(spec.file, value, context, capture)
            : value;
    }
    const tested = spec.model
      ? relationOf(spec.model)!
      : sourceRelation(...(spec.source!.split('.') as [string, string]));
    if (!tested) throw new UnsupportedConstructError(spec.file, `a test on unknown source ${spec.source}`);
    // dbt's get_where_subquery: the tested relation narrowed to the rows `where` selects.
    const where =
      spec.config.where === undefined || spec.config.where === null
        ? undefined
        : renderDbtJinja(spec.file, String(spec.config.where), context, capture);
    const relation = where === undefined ? tested : `(select * from ${tested} where ${where}) dbt_subquery`;
    const severity = String(spec.config.severity ?? 'error').toLowerCase();
    tests.push({
      name: genericTestName(spec, args),
      file: spec.file,
      severity: severity === 'warn' ? 'warn' : 'error',
      models: [...new Set([...(spec.model ? [spec.model] : []), ...capture.refs])],
      sql: genericTestSql(spec, relation, args),
    });
  }
  for (const test of project.singularTests) {
    const capture = newCapture();
    renderDbtJinja(test.file, test.sql, context, capture);
    for (const key of Object.keys(capture.config))
      if (key !== 'severity' && key !== 'tags') throw new UnsupportedConstructError(test.file, `test config '${key}'`);
    const severity = String(capture.config.severity ?? 'error').toLowerCase();
    tests.push({
      name: test.name,
      file: test.file,
      severity: severity === 'warn' ? 'warn' : 'error',
      models: [...capture.refs],
      template: test.sql,
    });
  }
  return { plan: { models, tests }, context };
}
