/**
 * compose.yaml as Compose itself reads it: parsed with the `yaml` package (anchors and `<<` merges
 * resolved), plus the Compose spec's `${...}` interpolation, so the tests can check the file without
 * a Docker engine.
 */
import { readFileSync } from 'node:fs';
import { CONFIG_NEEDS, type ConfigNeed } from '../../core/config/index.js';
import { isMap, isNode, parseDocument } from 'yaml';

export const ROOT = new URL('../../', import.meta.url).pathname;
export const COMPOSE_PATH = `${ROOT}compose.yaml`;

export interface Healthcheck {
  test?: string | string[];
  disable?: boolean;
  interval?: string;
  timeout?: string;
  start_period?: string;
  retries?: number;
}

export interface Service {
  image?: string;
  build?: string | { context: string; target?: string; dockerfile?: string };
  command?: string | string[];
  environment?: Record<string, string | number | boolean | null> | string[];
  depends_on?: string[] | Record<string, { condition?: string }>;
  healthcheck?: Healthcheck;
  restart?: string;
  profiles?: string[];
  ports?: (string | { published?: string | number; target: number; host_ip?: string; protocol?: string })[];
  expose?: (string | number)[];
  volumes?: (string | { type: string; source?: string; target: string })[];
  container_name?: string;
  stop_grace_period?: string;
}

export interface ComposeFile {
  name?: string;
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
  [extension: `x-${string}`]: unknown;
}

export function readComposeText(): string {
  return readFileSync(COMPOSE_PATH, 'utf8');
}

/** The parsed file and its leading comment (where the variables compose needs are documented). */
export function loadCompose(text = readComposeText()): { compose: ComposeFile; header: string } {
  const doc = parseDocument(text, { merge: true });
  if (doc.errors.length > 0)
    throw new Error(`compose.yaml does not parse: ${doc.errors.map((e) => e.message).join('; ')}`);
  // The leading comment lands on the document, the top-level map or its first key, depending on the
  // blank lines around it.
  const firstKey = isMap(doc.contents) ? doc.contents.items[0]?.key : undefined;
  const header = [doc.commentBefore, doc.contents?.commentBefore, isNode(firstKey) ? firstKey.commentBefore : undefined]
    .filter(Boolean)
    .join('\n');
  return { compose: doc.toJS({ maxAliasCount: 1000 }) as ComposeFile, header };
}

/** One `$NAME` / `${NAME...}` in a value: `modifier` is `:-`, `-`, `:?`, `?`, `:+`, `+` or ''. */
export interface Reference {
  readonly name: string;
  readonly modifier: string;
  readonly argument: string;
}

// `$$` is an escaped dollar; `${NAME<modifier><argument>}` (argument without nesting, which this
// file does not use) or a bare `$NAME`.
const TOKEN = /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g;

export function references(text: string): Reference[] {
  const found: Reference[] = [];
  for (const match of text.matchAll(TOKEN)) {
    if (match[0] === '$$') continue;
    found.push({ name: match[1] ?? match[4]!, modifier: match[2] ?? '', argument: match[3] ?? '' });
  }
  return found;
}

/** Interpolates like Compose: an unset `:?` variable is an error carrying its message. */
export function interpolate(text: string, env: Record<string, string | undefined>): string {
  return text.replace(
    TOKEN,
    (
      whole,
      braced: string | undefined,
      modifier: string | undefined,
      argument: string | undefined,
      bare: string | undefined,
    ) => {
      if (whole === '$$') return '$';
      const name = (braced ?? bare)!;
      const value = env[name];
      const unsetOrEmpty = value === undefined || value === '';
      switch (modifier) {
        case ':-':
          return unsetOrEmpty ? argument! : value;
        case '-':
          return value === undefined ? argument! : value;
        case ':?':
        case '?':
          if (modifier === ':?' ? unsetOrEmpty : value === undefined) throw new Error(`${name}: ${argument}`);
          return value!;
        case ':+':
          return unsetOrEmpty ? '' : argument!;
        case '+':
          return value === undefined ? '' : argument!;
        default:
          return value ?? '';
      }
    },
  );
}

/** Every string in a parsed value, with the path it sits at (for messages). */
export function* strings(value: unknown, path = ''): Generator<[string, string]> {
  if (typeof value === 'string') yield [path, value];
  else if (Array.isArray(value)) for (const [i, item] of value.entries()) yield* strings(item, `${path}[${i}]`);
  else if (value && typeof value === 'object')
    for (const [key, item] of Object.entries(value)) yield* strings(item, path ? `${path}.${key}` : key);
}

/** A service's environment as a map, interpolated against `env`. */
export function environmentOf(service: Service, env: Record<string, string | undefined>): Record<string, string> {
  const raw = service.environment ?? {};
  const entries: [string, string][] = Array.isArray(raw)
    ? raw.map((line) => {
        const at = line.indexOf('=');
        return at < 0 ? [line, ''] : [line.slice(0, at), line.slice(at + 1)];
      })
    : Object.entries(raw).map(([key, value]) => [key, value === null ? '' : String(value)]);
  return Object.fromEntries(entries.map(([key, value]) => [key, interpolate(value, env)]));
}

export function commandOf(service: Service): string[] {
  const command = service.command ?? [];
  return typeof command === 'string' ? command.split(/\s+/).filter(Boolean) : command;
}

export function dependenciesOf(service: Service): Record<string, string> {
  const deps = service.depends_on ?? {};
  if (Array.isArray(deps)) return Object.fromEntries(deps.map((name) => [name, 'service_started']));
  return Object.fromEntries(Object.entries(deps).map(([name, spec]) => [name, spec?.condition ?? 'service_started']));
}

/** Services built from this repository's Dockerfile: the app's process kinds. */
export function isAppService(service: Service): boolean {
  return service.build !== undefined;
}

export function isOneShot(service: Service): boolean {
  return service.restart === 'no';
}

/**
 * What a process entry point (`dist/…/main.js`) declares it needs beyond the common settings (see
 * ConfigNeed), read from its TypeScript source so the deploy tests load its configuration as it does.
 */
export function needsOf(entry: string): ConfigNeed[] {
  const source = readFileSync(`${ROOT}${entry.replace(/^dist\//, '').replace(/\.js$/, '.ts')}`, 'utf8');
  return CONFIG_NEEDS.filter((need) => source.includes(`'${need}'`));
}
