import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { UnsupportedConstructError } from './unsupported.js';

/** One file of macros/: plain `{% macro name(args) %}...{% endmacro %}` definitions. */
export interface MacroFile {
  readonly file: string;
  readonly sql: string;
  readonly names: readonly string[];
}

/**
 * Every project macro as one Jinja prefix, rendered in front of each model, test and `where` string, so
 * that the macros are global as in dbt and see the caller's context (`this`, `is_incremental()`,
 * `ref`, `var`...) as dbt's macros do. `lines` maps the prefix's (0-based) lines back to their files,
 * so a render error inside a macro names the macro's file.
 */
export interface MacroLibrary {
  readonly text: string;
  readonly files: readonly { file: string; firstLine: number; lineCount: number }[];
}

/**
 * Block tags the runner does not execute in any file. nunjucks would accept some of them (`call`,
 * `filter`, `include`...) with meanings dbt does not give them, or that need a loader the runner has not.
 * `macro` is allowed only at the top level of a macros/ file.
 */
const UNSUPPORTED_TAGS = [
  'macro',
  'call',
  'materialization',
  'test',
  'data_test',
  'snapshot',
  'docs',
  'do',
  'filter',
  'import',
  'from',
  'include',
  'extends',
  'block',
  'raw',
  'verbatim',
];
const TAG = /\{%-?\s*([A-Za-z_]\w*)/g;

/**
 * Names of dbt's Jinja context the runner does not define. Most would fail when called anyway, but
 * nunjucks reads an undefined name in `{% if %}` as false: `{% if execute %}` would silently skip,
 * so these fail wherever they appear. (Attribute names, kwarg names and string contents do not count.)
 */
const DBT_CONTEXT_NAMES = new Set([
  'adapter',
  'run_query',
  'execute',
  'statement',
  'load_result',
  'store_result',
  'store_raw_result',
  'return',
  'graph',
  'modules',
  'exceptions',
  'log',
  'print',
  'caller',
  'varargs',
  'kwargs',
  'target',
  'builtins',
  'context',
  'model',
  'flags',
  'invocation_id',
  'run_started_at',
  'selected_resources',
  'fromjson',
  'tojson',
  'fromyaml',
  'toyaml',
  'zip',
  'local_md5',
  'api',
  'project_name',
  'dbt',
  'set_strict',
  'diff_of_two_dicts',
  'write',
  'render',
  'doc',
]);

/**
 * Macro names dbt itself would call (schema and alias naming, dispatch implementations, tests and
 * materializations) or that shadow the names the runner defines: the bundled runner would not call
 * them where dbt does, so a project defining one would build differently under the two runners.
 */
const RESERVED_MACRO =
  /^(ref|source|config|var|env_var|is_incremental|this|True|False|None|generate_(schema|alias|database)_name|(default|postgres)__\w+|test_\w+|materialization_\w+|get_\w+_sql|should_full_refresh)$/;

/** The Jinja code of a template: what is between `{{ }}` and `{% %}`, comments and string literals dropped. */
function jinjaCode(text: string): string[] {
  const withoutComments = text.replace(/\{#[\s\S]*?#\}/g, '');
  const code: string[] = [];
  for (const match of withoutComments.matchAll(/\{\{([\s\S]*?)\}\}|\{%([\s\S]*?)%\}/g)) {
    code.push((match[1] ?? match[2] ?? '').replace(/'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"/g, "''"));
  }
  return code;
}

/**
 * Rejects, naming the file and the construct, the block tags and dbt context names the runner does not
 * support. `allowMacroTags` is for macros/ files, whose top-level `{% macro %}` blocks are checked by
 * parseMacroFile.
 */
export function checkTemplate(file: string, text: string, allowMacroTags = false): void {
  for (const match of text.replace(/\{#[\s\S]*?#\}/g, '').matchAll(TAG)) {
    const tag = match[1]!;
    if (allowMacroTags && (tag === 'macro' || tag === 'endmacro')) continue;
    if (UNSUPPORTED_TAGS.includes(tag)) throw new UnsupportedConstructError(file, `{% ${tag} %} block`);
  }
  for (const code of jinjaCode(text)) {
    for (const match of code.matchAll(/(?<![.\w])([A-Za-z_]\w*)((?:\s*\.\s*[A-Za-z_]\w*)*)(\s*\()?(\s*=(?!=))?/g)) {
      const [, name, attributes = '', call, assignment] = match;
      if (!DBT_CONTEXT_NAMES.has(name!) || assignment) continue;
      const path = `${name}${attributes.replace(/\s+/g, '')}`;
      throw new UnsupportedConstructError(
        file,
        call ? `macro or function '${path}'` : `dbt's '${path}' (the bundled runner does not define it)`,
      );
    }
  }
}

const MACRO_OPEN = /\{%-?\s*macro\s+([A-Za-z_]\w*)\s*\(([^)]*)\)\s*-?%\}/y;
const MACRO_CLOSE = /\{%-?\s*endmacro\s*-?%\}/g;

/** Splits a macros/ file into its `{% macro %}` blocks; anything else but whitespace and comments is rejected. */
function parseMacroFile(file: string, sql: string): string[] {
  const names: string[] = [];
  let at = 0;
  while (at < sql.length) {
    const skipped = /\s*(?:\{#[\s\S]*?#\}\s*)*/y;
    skipped.lastIndex = at;
    at += skipped.exec(sql)![0].length;
    if (at >= sql.length) break;
    MACRO_OPEN.lastIndex = at;
    const open = MACRO_OPEN.exec(sql);
    if (!open) {
      const what = sql.slice(at).split('\n')[0]!.trim().slice(0, 60);
      throw new UnsupportedConstructError(
        file,
        `'${what}' outside a {% macro %} block (a macros/ file holds only macro definitions)`,
      );
    }
    MACRO_CLOSE.lastIndex = open.index + open[0].length;
    const close = MACRO_CLOSE.exec(sql);
    if (!close) throw new UnsupportedConstructError(file, `{% macro ${open[1]} %} without {% endmacro %}`);
    const body = sql.slice(open.index + open[0].length, close.index);
    if (/\{%-?\s*macro\b/.test(body))
      throw new UnsupportedConstructError(file, `a {% macro %} inside macro ${open[1]}`);
    names.push(open[1]!);
    at = close.index + close[0].length;
  }
  return names;
}

function walkSql(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((entry) => {
      const path = join(dir, entry);
      return statSync(path).isDirectory() ? walkSql(path) : [path];
    });
}

/**
 * Reads <project>/macros/**: .sql files holding plain macro definitions whose Jinja stays within
 * what the runner renders. A macro named like one of dbt's own, or defined twice, is rejected.
 */
export function loadMacros(projectDir: string): MacroFile[] {
  const dir = join(projectDir, 'macros');
  if (!existsSync(dir)) return [];
  const seen = new Map<string, string>();
  const files: MacroFile[] = [];
  for (const path of walkSql(dir)) {
    const file = relative(projectDir, path);
    if (path.split('/').pop()!.startsWith('.')) continue;
    if (!path.endsWith('.sql'))
      throw new UnsupportedConstructError(file, 'a macros/ file that is not .sql (macro properties, other languages)');
    const sql = readFileSync(path, 'utf8');
    checkTemplate(file, sql, true);
    const names = parseMacroFile(file, sql);
    for (const name of names) {
      if (RESERVED_MACRO.test(name))
        throw new UnsupportedConstructError(
          file,
          `macro '${name}', a name dbt gives a meaning the bundled runner does not`,
        );
      const other = seen.get(name);
      if (other) throw new UnsupportedConstructError(file, `a second macro named ${name} (the first is in ${other})`);
      seen.set(name, file);
    }
    files.push({ file, sql, names });
  }
  return files;
}

export function macroLibrary(files: readonly MacroFile[]): MacroLibrary | undefined {
  if (files.length === 0) return undefined;
  let text = '';
  let line = 0;
  const spans: MacroLibrary['files'][number][] = [];
  for (const { file, sql } of files) {
    const chunk = sql.endsWith('\n') ? sql : `${sql}\n`;
    const lineCount = chunk.split('\n').length - 1;
    spans.push({ file, firstLine: line, lineCount });
    text += chunk;
    line += lineCount;
  }
  return { text, files: spans };
}
