import nunjucks from 'nunjucks';
import { checkTemplate, type MacroLibrary } from './macros.js';
import { UnsupportedConstructError } from './unsupported.js';

/** What a rendered node asked for while rendering: its config() and the refs/sources it read. */
export interface RenderCapture {
  config: Record<string, unknown>;
  refs: Set<string>;
  sources: Set<string>;
}

export interface RenderContext {
  readonly vars: Readonly<Record<string, unknown>>;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** "schema"."name" of a model, or undefined when the project has no such model. */
  relationOf(model: string): string | undefined;
  sourceRelation(source: string, table: string): string | undefined;
  /** The node's own relation ({{ this }}), for models. */
  readonly self?: { schema: string; identifier: string };
  readonly isIncremental?: boolean;
  /** The project's macros/ definitions, callable from every template. */
  readonly macros?: MacroLibrary;
}

type Kwargs = Record<string, unknown> & { __keywords?: true };
const isKwargs = (value: unknown): value is Kwargs =>
  typeof value === 'object' && value !== null && (value as Kwargs).__keywords === true;

const environment = new nunjucks.Environment(null, { autoescape: false, throwOnUndefined: true });

/**
 * Compiled templates by source text. nunjucks' renderString compiles on every call, and a run renders
 * every model, test and `where` string (each with the macro definitions in front) at least once to
 * parse the project, then again to run: tens of milliseconds per run went to compiling the same texts
 * again (see dbt/README.md, "Cost per run"). The texts are the project's files, so the map stays
 * small; it is emptied if a long-lived process sees the project change often.
 */
const compiled = new Map<string, nunjucks.Template>();
function renderSource(source: string, names: object): string {
  let template = compiled.get(source);
  if (!template) {
    if (compiled.size >= 1000) compiled.clear();
    template = new nunjucks.Template(source, environment);
    compiled.set(source, template);
  }
  return template.render(names);
}

/** What the macro definitions alone render to (the whitespace between them), cut from each output. */
const macroOutput = new WeakMap<MacroLibrary, string>();
function libraryOutput(library: MacroLibrary): string {
  let output = macroOutput.get(library);
  if (output === undefined) {
    output = renderSource(library.text, {});
    macroOutput.set(library, output);
  }
  return output;
}

/** The file a nunjucks error points into: a macro's when its (0-based) line lies in the macro prefix. */
function fileOfError(message: string, file: string, library: MacroLibrary | undefined): string {
  const line = /\[Line (\d+), Column \d+\]/.exec(message);
  if (!library || !line) return file;
  const at = Number(line[1]);
  return library.files.find((f) => at >= f.firstLine && at < f.firstLine + f.lineCount)?.file ?? file;
}

/**
 * Renders dbt Jinja with nunjucks. Exactly these names exist: ref, source, config, var, env_var,
 * is_incremental, this. Any other function (a macro, adapter.*, run_query, dbt_utils.*) fails with
 * the file and the name of what was called.
 */
export function renderDbtJinja(
  file: string,
  text: string,
  context: RenderContext,
  capture: RenderCapture = newCapture(),
): string {
  checkTemplate(file, text);
  const args = (values: unknown[]) => values.filter((v) => !isKwargs(v));
  const fns = {
    ref(...values: unknown[]) {
      const plain = args(values);
      if (plain.length !== 1 || values.some(isKwargs))
        throw new UnsupportedConstructError(
          file,
          `ref(${plain.map((v) => JSON.stringify(v)).join(', ')}) with a package or version`,
        );
      const name = String(plain[0]);
      capture.refs.add(name);
      const relation = context.relationOf(name);
      if (!relation)
        throw new UnsupportedConstructError(file, `ref('${name}') to a node that is not a model of this project`);
      return relation;
    },
    source(...values: unknown[]) {
      const [source, table] = args(values).map(String);
      capture.sources.add(`${source}.${table}`);
      const relation = source && table ? context.sourceRelation(source, table) : undefined;
      if (!relation)
        throw new UnsupportedConstructError(file, `source('${source}', '${table}') that no sources YAML declares`);
      return relation;
    },
    config(...values: unknown[]) {
      for (const value of values) {
        if (!isKwargs(value)) throw new UnsupportedConstructError(file, 'config() with positional arguments');
        for (const [key, v] of Object.entries(value)) if (key !== '__keywords') capture.config[key] = v;
      }
      return '';
    },
    var(...values: unknown[]) {
      const [name, fallback] = args(values);
      const key = String(name);
      if (key in context.vars) return context.vars[key];
      if (fallback !== undefined) return fallback;
      throw new UnsupportedConstructError(file, `var('${key}') that is neither defined nor given a default`);
    },
    env_var(...values: unknown[]) {
      const [name, fallback] = args(values);
      const value = context.env[String(name)];
      if (value !== undefined) return value;
      if (fallback !== undefined) return fallback;
      throw new UnsupportedConstructError(file, `env_var('${String(name)}') that is not set and has no default`);
    },
    is_incremental: () => context.isIncremental ?? false,
  };
  const self = context.self;
  const thisRelation = self
    ? {
        schema: self.schema,
        identifier: self.identifier,
        name: self.identifier,
        toString: () => `"${self.schema}"."${self.identifier}"`,
      }
    : undefined;
  const library = context.macros;
  try {
    // Jinja's Python-style literals (nunjucks only knows true/false/none). The project's macros are
    // defined in front of the template, so they are global and run in the caller's context, as in dbt.
    const names = { True: true, False: false, None: null, ...fns, ...(thisRelation ? { this: thisRelation } : {}) };
    if (!library || !/\{[{%]/.test(text)) return renderSource(text, names);
    const prefix = libraryOutput(library);
    const output = renderSource(library.text + text, names);
    return output.startsWith(prefix) ? output.slice(prefix.length) : output;
  } catch (error) {
    if (error instanceof UnsupportedConstructError) throw error;
    const message = error instanceof Error ? error.message : String(error);
    const where = fileOfError(message, file, library);
    if (error instanceof Error && error.cause instanceof UnsupportedConstructError) throw error.cause;
    const nested = /bundled dbt runner: .*/.exec(message);
    if (nested)
      throw new UnsupportedConstructError(
        where,
        nested[0]
          .replace(/^bundled dbt runner: [^:]+: unsupported construct: /, '')
          .replace(/ \(see dbt\/README.*$/, ''),
      );
    const call = /Unable to call `([^`]+)`/.exec(message);
    if (call)
      throw new UnsupportedConstructError(where, `macro or function '${call[1]!.replace(/\["([^"]+)"\]/g, '.$1')}'`);
    const missing = /attempted to output null or undefined value|undefined/.test(message);
    throw new UnsupportedConstructError(
      where,
      missing
        ? `a name the bundled runner does not define (${message.split('\n').pop()!.trim()})`
        : `Jinja it cannot render (${message.split('\n').pop()!.trim()})`,
    );
  }
}

export function newCapture(): RenderCapture {
  return { config: {}, refs: new Set(), sources: new Set() };
}
