/**
 * Generates the configuration docs from core/config/variables.ts, the single list of environment
 * variables: `.env.example` at the repository root, and the table between
 * `<!-- config-table:start -->` and `<!-- config-table:end -->` in README.md (when README.md exists
 * and has both markers). test/core/config/env-docs.test.ts fails when the committed file drifts.
 *
 *   npm run build && node dist/scripts/gen-env-docs.js
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { VARIABLES, type Variable } from '../core/config/variables.js';

export const TABLE_START = '<!-- config-table:start -->';
export const TABLE_END = '<!-- config-table:end -->';

const variables = (): Variable[] => Object.values(VARIABLES) as Variable[];

/**
 * The default as it may be written down. Defaults live in the source, so they are public; still, a
 * secret variable's default is only written when it carries no password (a URL without one).
 */
function publicDefault(variable: Variable): string | undefined {
  if (variable.default === undefined || !variable.secret) return variable.default;
  try {
    return new URL(variable.default).password === '' ? variable.default : undefined;
  } catch {
    return undefined;
  }
}

/** Quotes a value when a dotenv parser would otherwise cut or change it. */
function envValue(value: string): string {
  return /^[^\s#"'`$\\]*$/.test(value) ? value : JSON.stringify(value);
}

/** The contents of `.env.example`: every variable, its description and expectation, and its default. */
export function renderEnvExample(): string {
  const lines = [
    '# crypto-data-pipeline configuration: every environment variable the processes read.',
    '# Generated from core/config/variables.ts by scripts/gen-env-docs.ts; do not edit by hand.',
    '#',
    '# Copy this file to .env (or point ENV_FILE at another file) and change what you need.',
    '# Variables set in the real environment win over the file.',
    '#',
    '# Lines left commented out have no default, or are [secret]: secret values are never written',
    '# here, and connection URLs stay commented out so that NODE_ENV=production still insists on',
    '# explicit ones instead of silently using the development defaults shown.',
  ];
  for (const variable of variables()) {
    const value = publicDefault(variable);
    const assignment = `${variable.name}=${value === undefined ? '' : envValue(value)}`;
    lines.push(
      '',
      `# ${variable.description}${variable.secret ? ' [secret]' : ''} (expects ${variable.parser.expects})`,
      value === undefined || variable.secret ? `# ${assignment}` : assignment,
    );
  }
  return `${lines.join('\n')}\n`;
}

const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\s*\n\s*/g, ' ');

/** A markdown table of every variable: name (secrets marked), default, description and expectation. */
export function renderConfigTable(): string {
  const rows = variables().map((variable) => {
    const value = publicDefault(variable);
    const name = `\`${variable.name}\`${variable.secret ? ' (secret)' : ''}`;
    const fallback = value === undefined ? (variable.default === undefined ? '—' : '(set)') : `\`${value}\``;
    return `| ${cell(name)} | ${cell(fallback)} | ${cell(`${variable.description} Expects ${variable.parser.expects}.`)} |`;
  });
  return ['| Variable | Default | Description |', '|---|---|---|', ...rows].join('\n');
}

/** README.md with its configuration table replaced, or undefined when it lacks the markers. */
export function replaceConfigTable(readme: string, table = renderConfigTable()): string | undefined {
  const start = readme.indexOf(TABLE_START);
  const end = readme.indexOf(TABLE_END, start + TABLE_START.length);
  if (start < 0 || end < 0) return undefined;
  return `${readme.slice(0, start + TABLE_START.length)}\n\n${table}\n\n${readme.slice(end)}`;
}

/** The repository root: the nearest directory above this file holding package.json (works from dist/ too). */
export function repoRoot(from = dirname(fileURLToPath(import.meta.url))): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`no package.json above ${from}`);
  }
}

/** Writes `.env.example` and, when possible, the README table; returns what it wrote. */
export function writeEnvDocs(root = repoRoot()): string[] {
  const written = [join(root, '.env.example')];
  writeFileSync(written[0]!, renderEnvExample());
  const readmePath = join(root, 'README.md');
  if (existsSync(readmePath)) {
    const readme = readFileSync(readmePath, 'utf8');
    const updated = replaceConfigTable(readme);
    if (updated !== undefined && updated !== readme) {
      writeFileSync(readmePath, updated);
      written.push(readmePath);
    }
  }
  return written;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  for (const file of writeEnvDocs()) console.log(`wrote ${file}`);
}
