import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { loadMacros, type MacroFile } from './macros.js';
import { UnsupportedConstructError } from './unsupported.js';

/** A generic test declared in YAML on a column (unique, not_null, accepted_values, relationships). */
export interface GenericTestSpec {
  readonly test: string;
  readonly column: string;
  readonly args: Record<string, unknown>;
  readonly config: Record<string, unknown>;
  /** The model (or source "source.table") the test is declared on. */
  readonly model?: string;
  readonly source?: string;
  readonly file: string;
}

export interface ModelFile {
  readonly name: string;
  readonly file: string;
  readonly sql: string;
  /** Config from dbt_project.yml (+keys by folder), then the YAML properties' config. */
  readonly inheritedConfig: Record<string, unknown>;
}

export interface SourceTable {
  readonly source: string;
  readonly table: string;
  readonly schema: string;
  readonly identifier: string;
  readonly loadedAtField: string | undefined;
  readonly freshness: {
    warn_after?: { count: unknown; period: string };
    error_after?: { count: unknown; period: string };
  } | null;
  readonly file: string;
}

export interface DbtProject {
  readonly dir: string;
  readonly name: string;
  readonly vars: Record<string, unknown>;
  readonly models: Map<string, ModelFile>;
  readonly singularTests: { name: string; file: string; sql: string }[];
  readonly genericTests: GenericTestSpec[];
  readonly sources: Map<string, SourceTable>;
  /** macros/**.sql: plain macro definitions, global to every model and test. */
  readonly macros: readonly MacroFile[];
}

const SUPPORTED_YAML_KEYS = new Set(['version', 'models', 'sources', 'exposures']);
const SUPPORTED_GENERIC_TESTS = new Set(['unique', 'not_null', 'accepted_values', 'relationships']);

function walk(dir: string, ext: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .sort()
    .flatMap((entry) => {
      const path = join(dir, entry);
      if (statSync(path).isDirectory()) return walk(path, ext);
      return path.endsWith(ext) ? [path] : [];
    });
}

const readYaml = (path: string): Record<string, unknown> =>
  (parseYaml(readFileSync(path, 'utf8')) ?? {}) as Record<string, unknown>;

/** Config for a model at models/<folders>/<name>.sql from the project's nested `models:` block. */
function folderConfig(block: unknown, folders: string[], file: string): Record<string, unknown> {
  const config: Record<string, unknown> = {};
  let level = block as Record<string, unknown> | undefined;
  for (let i = 0; level && typeof level === 'object'; i++) {
    for (const [key, value] of Object.entries(level)) if (key.startsWith('+')) config[key.slice(1)] = value;
    for (const [key, value] of Object.entries(level)) {
      if (!key.startsWith('+') && (typeof value !== 'object' || value === null)) {
        throw new UnsupportedConstructError(
          file,
          `dbt_project.yml config '${key}' without a '+' prefix (write +${key})`,
        );
      }
    }
    level = i < folders.length ? (level[folders[i]!] as Record<string, unknown> | undefined) : undefined;
  }
  return config;
}

/** Reads the project's files. Anything outside the supported subset is rejected here, before a run starts. */
export function loadProject(dir: string): DbtProject {
  const projectFile = readYaml(join(dir, 'dbt_project.yml'));
  const name = String(projectFile.name);
  for (const unsupported of ['packages.yml', 'dependencies.yml']) {
    if (existsSync(join(dir, unsupported))) throw new UnsupportedConstructError(unsupported, 'dbt packages');
  }
  for (const folder of ['snapshots', 'seeds']) {
    const files = walk(join(dir, folder), '').filter((f) => !basename(f).startsWith('.'));
    if (files.length > 0)
      throw new UnsupportedConstructError(relative(dir, files[0]!), `${folder} (the bundled runner has no ${folder})`);
  }
  for (const key of ['on-run-start', 'on-run-end', 'seeds', 'snapshots', 'dispatch']) {
    if (key in projectFile) throw new UnsupportedConstructError('dbt_project.yml', `'${key}'`);
  }
  const modelsBlock = (projectFile.models as Record<string, unknown> | undefined)?.[name];
  const propertiesByModel = new Map<string, Record<string, unknown>>();
  const genericTests: GenericTestSpec[] = [];
  const sources = new Map<string, SourceTable>();

  const collectTests = (
    file: string,
    owner: { model?: string; source?: string },
    columns: unknown,
    ownerTests: unknown,
  ) => {
    if (ownerTests)
      throw new UnsupportedConstructError(
        file,
        `model- or table-level data_tests on ${owner.model ?? owner.source} (declare them on a column)`,
      );
    for (const column of (columns as Record<string, unknown>[] | undefined) ?? []) {
      const tests = (column.data_tests ?? column.tests ?? []) as unknown[];
      for (const entry of tests) {
        const [test, spec] =
          typeof entry === 'string'
            ? [entry, {}]
            : (Object.entries(entry as object)[0] as [string, Record<string, unknown>]);
        if (!SUPPORTED_GENERIC_TESTS.has(test))
          throw new UnsupportedConstructError(
            file,
            `generic test '${test}' on ${owner.model ?? owner.source}.${String(column.name)}`,
          );
        const { config = {}, arguments: explicitArgs, ...legacyArgs } = (spec ?? {}) as Record<string, unknown>;
        const testConfig = config as Record<string, unknown>;
        for (const key of Object.keys(testConfig))
          if (key !== 'severity' && key !== 'where')
            throw new UnsupportedConstructError(file, `test config '${key}' on ${test} of ${String(column.name)}`);
        genericTests.push({
          test,
          column: String(column.name),
          args: { ...legacyArgs, ...((explicitArgs as object) ?? {}) },
          config: testConfig,
          ...owner,
          file,
        });
      }
    }
  };

  for (const path of walk(join(dir, 'models'), '.yml')) {
    const file = relative(dir, path);
    const yaml = readYaml(path);
    for (const key of Object.keys(yaml))
      if (!SUPPORTED_YAML_KEYS.has(key)) throw new UnsupportedConstructError(file, `top-level '${key}'`);
    for (const model of (yaml.models as Record<string, unknown>[] | undefined) ?? []) {
      propertiesByModel.set(String(model.name), model);
      collectTests(file, { model: String(model.name) }, model.columns, model.data_tests ?? model.tests);
    }
    for (const source of (yaml.sources as Record<string, unknown>[] | undefined) ?? []) {
      const sourceConfig = (source.config ?? {}) as Record<string, unknown>;
      for (const table of (source.tables as Record<string, unknown>[] | undefined) ?? []) {
        const tableConfig = (table.config ?? {}) as Record<string, unknown>;
        const pick = (key: string) =>
          key in tableConfig
            ? tableConfig[key]
            : key in table
              ? table[key]
              : key in sourceConfig
                ? sourceConfig[key]
                : source[key];
        const id = `${String(source.name)}.${String(table.name)}`;
        sources.set(id, {
          source: String(source.name),
          table: String(table.name),
          schema: String(source.schema ?? source.name),
          identifier: String(table.identifier ?? table.name),
          loadedAtField: pick('loaded_at_field') as string | undefined,
          freshness: (pick('freshness') ?? null) as SourceTable['freshness'],
          file,
        });
        collectTests(file, { source: id }, table.columns, table.data_tests ?? table.tests);
      }
    }
  }

  const models = new Map<string, ModelFile>();
  for (const path of walk(join(dir, 'models'), '.sql')) {
    const file = relative(dir, path);
    const modelName = basename(path, '.sql');
    if (models.has(modelName)) throw new UnsupportedConstructError(file, `a second model named ${modelName}`);
    const folders = relative(join(dir, 'models'), path).split('/').slice(0, -1);
    const properties = propertiesByModel.get(modelName);
    const inheritedConfig = { ...folderConfig(modelsBlock, folders, file), ...((properties?.config as object) ?? {}) };
    models.set(modelName, { name: modelName, file, sql: readFileSync(path, 'utf8'), inheritedConfig });
  }
  for (const spec of genericTests) {
    if (spec.model && !models.has(spec.model))
      throw new UnsupportedConstructError(spec.file, `properties for '${spec.model}', which has no .sql model`);
  }
  const singularTests = walk(join(dir, 'tests'), '.sql').map((path) => {
    const file = relative(dir, path);
    if (file.startsWith('tests/generic/')) throw new UnsupportedConstructError(file, 'custom generic tests');
    return { name: basename(path, '.sql'), file, sql: readFileSync(path, 'utf8') };
  });
  for (const key of ['macro-paths', 'test-paths', 'model-paths']) {
    const paths = projectFile[key];
    const expected = { 'macro-paths': 'macros', 'test-paths': 'tests', 'model-paths': 'models' }[key];
    if (paths !== undefined && JSON.stringify(paths) !== JSON.stringify([expected]))
      throw new UnsupportedConstructError('dbt_project.yml', `${key} other than ["${expected}"]`);
  }
  const macros = loadMacros(dir);
  return {
    dir,
    name,
    vars: (projectFile.vars as Record<string, unknown>) ?? {},
    models,
    singularTests,
    genericTests,
    sources,
    macros,
  };
}
