import { parseDurationMs } from './durations.js';

/**
 * A parser turns one environment variable's text into a value, or says what it expected instead.
 *
 * Why not zod (which the queue registry uses): what a bad variable is told comes from `expects`,
 * which is also the text of `.env.example` and the README, and the tests derive wrong values from
 * `kind` and `bounds`; zod's own messages would not be used, and every parser here (durations, the
 * integer syntax, lists, listen hosts) would become a custom refine or transform carrying the same
 * metadata beside it. That is more code, not less, so these stay; the types of AppConfig are derived
 * from the declarations in variables.ts either way.
 */
export type Parser<T> = {
  /** Human description of accepted values, used in error messages, `.env.example` and the README. */
  readonly expects: string;
  /** Which of the factories below made it: tests derive a wrong value for every variable from it. */
  readonly kind: 'integer' | 'duration' | 'oneOf' | 'boolean' | 'url' | 'text' | 'list';
  /**
   * The limits the parser enforces beyond the shape of the text, where one was configured: the
   * value for integers, milliseconds for durations, characters for text, items for lists.
   */
  readonly bounds?: { readonly min?: number; readonly max?: number };
  parse(text: string): { ok: true; value: T } | { ok: false };
};

const bounds = (min: number | undefined, max: number | undefined): Parser<unknown>['bounds'] =>
  min === undefined && max === undefined
    ? undefined
    : { ...(min === undefined ? {} : { min }), ...(max === undefined ? {} : { max }) };

const ok = <T>(value: T) => ({ ok: true as const, value });
const fail = { ok: false as const };

export function integer(opts: { min?: number; max?: number } = {}): Parser<number> {
  const { min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER } = opts;
  const range =
    opts.min !== undefined && opts.max !== undefined
      ? ` from ${min} to ${max}`
      : opts.min !== undefined
        ? ` >= ${min}`
        : opts.max !== undefined
          ? ` <= ${max}`
          : '';
  return {
    expects: `an integer${range}`,
    kind: 'integer',
    bounds: bounds(opts.min, opts.max),
    parse(text) {
      if (!/^\s*-?\d+\s*$/.test(text)) return fail;
      const value = Number(text);
      return Number.isSafeInteger(value) && value >= min && value <= max ? ok(value) : fail;
    },
  };
}

/** wholeSeconds: only durations of whole seconds, for settings handed on where seconds are the unit (SQL, dbt). */
export function duration(opts: { minMs?: number; maxMs?: number; wholeSeconds?: boolean } = {}): Parser<number> {
  const { minMs = 0, maxMs = Number.MAX_SAFE_INTEGER, wholeSeconds = false } = opts;
  return {
    expects: `${wholeSeconds ? 'a duration in whole seconds like 90s, 15m, 1h' : 'a duration like 500ms, 30s, 5m, 1h (or plain milliseconds)'}${minMs > 0 ? `, at least ${minMs}ms` : ''}`,
    kind: 'duration',
    // A minimum of 0 is no limit: a negative duration is not a duration at all.
    bounds: bounds(minMs > 0 ? minMs : undefined, opts.maxMs),
    parse(text) {
      const value = parseDurationMs(text);
      return value !== undefined && value >= minMs && value <= maxMs && (!wholeSeconds || value % 1000 === 0)
        ? ok(value)
        : fail;
    },
  };
}

export function oneOf<const T extends string>(values: readonly T[]): Parser<T> {
  return {
    expects: `one of ${values.join(', ')}`,
    kind: 'oneOf',
    parse(text) {
      const value = text.trim() as T;
      return values.includes(value) ? ok(value) : fail;
    },
  };
}

export function boolean(): Parser<boolean> {
  return {
    expects: 'true or false (also 1/0, yes/no)',
    kind: 'boolean',
    parse(text) {
      const value = text.trim().toLowerCase();
      if (['true', '1', 'yes', 'on'].includes(value)) return ok(true);
      if (['false', '0', 'no', 'off'].includes(value)) return ok(false);
      return fail;
    },
  };
}

export function url(protocols: readonly string[]): Parser<string> {
  return {
    expects: `a URL (${protocols.map((p) => `${p}//`).join(' or ')})`,
    kind: 'url',
    parse(text) {
      try {
        const parsed = new URL(text.trim());
        return protocols.includes(parsed.protocol) && parsed.hostname !== '' ? ok(text.trim()) : fail;
      } catch {
        return fail;
      }
    },
  };
}

export function text(opts: { pattern?: RegExp; describe?: string; minLength?: number } = {}): Parser<string> {
  const { pattern, minLength = 1 } = opts;
  return {
    expects: opts.describe ?? 'a non-empty string',
    kind: 'text',
    bounds: bounds(opts.minLength, undefined),
    parse(raw) {
      const value = raw.trim();
      if (value.length < minLength) return fail;
      return pattern && !pattern.test(value) ? fail : ok(value);
    },
  };
}

/** Comma-separated list of items matching `pattern`; duplicates are removed, order kept. */
export function list(opts: { pattern: RegExp; describe: string; maxItems?: number }): Parser<string[]> {
  return {
    expects: `a comma-separated list of ${opts.describe}`,
    kind: 'list',
    bounds: bounds(undefined, opts.maxItems),
    parse(raw) {
      const items = [
        ...new Set(
          raw
            .split(',')
            .map((s) => s.trim())
            .filter((s) => s !== ''),
        ),
      ];
      if (items.length === 0 || items.some((item) => !opts.pattern.test(item))) return fail;
      if (opts.maxItems !== undefined && items.length > opts.maxItems) return fail;
      return ok(items);
    },
  };
}
