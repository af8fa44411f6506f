/**
 * Readers for one option each: from environment text (`main.ts`) and from JSON (`POST /__sim/faults`),
 * reporting what they expected when a value is rejected.
 */
import { FAIL_NEXT_KINDS, type FailNextFault, type FailNextKind } from './fail-next.js';

export type Checked<T> = { ok: true; value: T } | { ok: false; expects: string };

/** How to read one option from env text and from a JSON value. */
export interface Field<T> {
  env: string;
  fromText(text: string): Checked<T>;
  fromJson(value: unknown): Checked<T>;
}

const ok = <T>(value: T): Checked<T> => ({ ok: true, value });
const bad = (expects: string): Checked<never> => ({ ok: false, expects });

function jsonText<T>(field: Pick<Field<T>, 'fromJson'>, expects: string) {
  return (text: string): Checked<T> => {
    try {
      return field.fromJson(JSON.parse(text));
    } catch {
      return bad(expects);
    }
  };
}

export function integer(env: string, min: number, max = Number.MAX_SAFE_INTEGER): Field<number> {
  const expects = `an integer from ${min} to ${max}`;
  const fromJson = (v: unknown) =>
    Number.isSafeInteger(v) && (v as number) >= min && (v as number) <= max ? ok(v as number) : bad(expects);
  return { env, fromJson, fromText: (t) => (/^\s*-?\d+\s*$/.test(t) ? fromJson(Number(t)) : bad(expects)) };
}

export function fraction(env: string): Field<number> {
  const expects = 'a number from 0 to 1';
  const fromJson = (v: unknown) => (typeof v === 'number' && v >= 0 && v <= 1 ? ok(v) : bad(expects));
  return {
    env,
    fromJson,
    fromText: (t) => (t.trim() !== '' && !Number.isNaN(Number(t)) ? fromJson(Number(t)) : bad(expects)),
  };
}

export function bool(env: string): Field<boolean> {
  const expects = 'true or false (also 1/0, yes/no)';
  return {
    env,
    fromJson: (v) => (typeof v === 'boolean' ? ok(v) : bad(expects)),
    fromText(t) {
      const v = t.trim().toLowerCase();
      if (['true', '1', 'yes', 'on'].includes(v)) return ok(true);
      if (['false', '0', 'no', 'off'].includes(v)) return ok(false);
      return bad(expects);
    },
  };
}

export function oneOf<const T extends string>(env: string, values: readonly T[]): Field<T> {
  const expects = `one of ${values.join(', ')}`;
  const fromJson = (v: unknown) => (values.includes(v as T) ? ok(v as T) : bad(expects));
  return { env, fromJson, fromText: (t) => fromJson(t.trim()) };
}

export function text(env: string, nullable: true): Field<string | null>;
export function text(env: string, nullable: false): Field<string>;
export function text(env: string, nullable: boolean): Field<string | null> {
  const expects = nullable ? 'a string or null' : 'a non-empty string';
  return {
    env,
    fromJson: (v) => (typeof v === 'string' && v !== '' ? ok(v) : nullable && v === null ? ok(null) : bad(expects)),
    fromText: (t) => (t.trim() !== '' ? ok(t.trim()) : nullable ? ok(null) : bad(expects)),
  };
}

export function stringList(env: string): Field<string[]> {
  const expects = 'a comma-separated list (or JSON array) of strings';
  const fromJson = (v: unknown) =>
    Array.isArray(v) && v.every((s) => typeof s === 'string') ? ok([...(v as string[])]) : bad(expects);
  return {
    env,
    fromJson,
    fromText: (t) => (t.trim().startsWith('[') ? jsonText({ fromJson }, expects)(t) : ok(splitList(t))),
  };
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function stringMap(env: string): Field<Record<string, string>> {
  const expects = 'old:new pairs separated by commas (or a JSON object of strings)';
  const fromJson = (v: unknown) =>
    isPlainObject(v) && Object.values(v).every((s) => typeof s === 'string')
      ? ok({ ...(v as Record<string, string>) })
      : bad(expects);
  return {
    env,
    fromJson,
    fromText(t) {
      if (t.trim().startsWith('{')) return jsonText({ fromJson }, expects)(t);
      const pairs = splitList(t).map((p) => p.split(':').map((s) => s.trim()));
      if (!pairs.every((p) => p.length === 2 && p[0] !== '' && p[1] !== '')) return bad(expects);
      return ok(Object.fromEntries(pairs as [string, string][]));
    },
  };
}

const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z$/;

/** A JSON object of coin id → ISO-8601 UTC timestamp. */
export function timestampMap(env: string): Field<Record<string, string>> {
  const expects = 'a JSON object of coin id to ISO-8601 UTC timestamp, e.g. {"old-coin":"2021-03-10T08:14:02.000Z"}';
  const fromJson = (v: unknown) =>
    isPlainObject(v) &&
    Object.values(v).every((s) => typeof s === 'string' && ISO_UTC.test(s) && Number.isFinite(Date.parse(s)))
      ? ok({ ...(v as Record<string, string>) })
      : bad(expects);
  return { env, fromJson, fromText: jsonText({ fromJson }, expects) };
}

export function object(env: string): Field<Record<string, unknown>> {
  const expects = 'a JSON object';
  const fromJson = (v: unknown) => (isPlainObject(v) ? ok(structuredClone(v)) : bad(expects));
  return { env, fromJson, fromText: jsonText({ fromJson }, expects) };
}

export function failNextList(env: string): Field<FailNextFault[]> {
  const expects = `a JSON array of {count, kind: ${FAIL_NEXT_KINDS.join('|')}, retryAfterSec?, path?}`;
  const entry = (v: unknown): FailNextFault | undefined => {
    if (!isPlainObject(v)) return undefined;
    const { count, kind, retryAfterSec, path } = v;
    if (!Number.isSafeInteger(count) || (count as number) < 1) return undefined;
    if (!FAIL_NEXT_KINDS.includes(kind as FailNextKind)) return undefined;
    if (retryAfterSec !== undefined && !(Number.isSafeInteger(retryAfterSec) && (retryAfterSec as number) >= 0))
      return undefined;
    if (path !== undefined && typeof path !== 'string') return undefined;
    return {
      count: count as number,
      kind: kind as FailNextKind,
      ...(retryAfterSec !== undefined && { retryAfterSec: retryAfterSec as number }),
      ...(path !== undefined && { path: path as string }),
    };
  };
  const fromJson = (v: unknown): Checked<FailNextFault[]> => {
    const list = Array.isArray(v) ? v : [v];
    const entries = list.map(entry);
    return entries.every((e) => e !== undefined) ? ok(entries as FailNextFault[]) : bad(expects);
  };
  return { env, fromJson, fromText: jsonText({ fromJson }, expects) };
}

function splitList(t: string): string[] {
  return t
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}
