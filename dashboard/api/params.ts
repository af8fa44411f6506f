import { z } from 'zod';

/**
 * Query-parameter parsing for /api/v1, with zod. parseQuery either returns the values or throws
 * ParamError, whose message names the parameter and what it allows; the router turns that into a 400.
 * A repeated parameter (`?a=1&a=2`, which express parses as an array) is refused like any bad value.
 */
export class ParamError extends Error {
  constructor(
    readonly param: string,
    allowed: string,
  ) {
    // `?=1` has a parameter with an empty name: say so rather than start the message with a blank.
    super(`${param === '' ? 'a parameter with an empty name' : param} must be ${allowed}`);
    this.name = 'ParamError';
  }
}

/**
 * The building blocks of the query schemas (api/query-schemas.ts). Each parameter's description is
 * what it allows ("an integer from 1 to 500"): the text of its 400 and, later, of an OpenAPI document.
 * Integers and search text are codecs, so a JSON Schema can be generated for either side: the query
 * string as sent (io: 'input') or the value the handler gets (io: 'output').
 */

/** One of a fixed list; absent means `fallback`. */
export function oneOf<const T extends readonly string[]>(values: T, fallback: T[number]) {
  return z
    .enum(values)
    .default(fallback)
    .meta({ description: `one of ${values.join(', ')}` });
}

/**
 * A whole number in [min, max]; absent means `fallback`. Digits only (no sign, exponent, fraction or
 * blanks); any length: leading zeros are fine, and a longer number is simply out of range.
 */
export function integer(min: number, max: number, fallback: number) {
  return z
    .codec(z.string().regex(/^[0-9]+$/), z.int().min(min).max(max), { decode: Number, encode: String })
    .default(fallback)
    .meta({ description: `an integer from ${min} to ${max}` });
}

/**
 * A decimal number in [min, max], optional (absent means no bound): digits with an optional sign and
 * fraction, no exponent, blanks or thousands separators, so what a URL says is what the filter uses.
 */
export function decimal(min: number, max: number, what: string) {
  return z
    .codec(z.string().regex(/^-?[0-9]+(\.[0-9]+)?$/), z.number().min(min).max(max), {
      decode: Number,
      encode: String,
    })
    .optional()
    .meta({ description: `a decimal number from ${min} to ${max} (${what})` });
}

/** A whole number in [min, max], as integer() reads it; absent means none (no bound). */
export function optionalInteger(min: number, max: number) {
  return z
    .codec(z.string().regex(/^[0-9]+$/), z.int().min(min).max(max), { decode: Number, encode: String })
    .optional()
    .meta({ description: `an integer from ${min} to ${max}` });
}

export const MAX_SEARCH_LENGTH = 64;

/** Free text matched against names and symbols: printable, at most `max` characters, trimmed; blank means none. */
export function searchText(max: number) {
  return z
    .codec(
      z
        .string()
        .max(max)
        // eslint-disable-next-line no-control-regex -- control characters are exactly what this rejects
        .regex(/^[^\u0000-\u001f\u007f]*$/),
      z.string().min(1).optional(),
      {
        decode: (text) => text.trim() || undefined,
        encode: (text) => text ?? '',
      },
    )
    .optional()
    .meta({ description: `text of at most ${max} printable characters` });
}

const COIN_ID_ALLOWED = 'a coin id: lowercase letters, digits, ".", "_" or "-", at most 100 characters';

/** The `:id` path parameter: CoinGecko ids are lowercase slugs (`bitcoin`, `usd-coin`, `wrapped-steth`). */
export const coinIdParam = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._-]{0,99}$/)
  .meta({ description: COIN_ID_ALLOWED });

export function coinId(raw: string): string {
  if (!coinIdParam.safeParse(raw).success) throw coinIdError();
  return raw;
}

/** The 400 for a malformed coin id; `why` adds what was wrong when it was not the characters. */
export function coinIdError(why?: string): ParamError {
  return new ParamError('id', `${COIN_ID_ALLOWED}${why ? ` (${why})` : ''}`);
}

/** Escapes LIKE wildcards so a search for `_` or `%` matches those characters. */
export function likePattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/**
 * The query of one endpoint, parsed by its schema (a strict object: any parameter it does not list is
 * refused, as a typo would otherwise be silently ignored). Throws ParamError for an unknown parameter
 * first, else for the first bad one in the schema's order.
 */
export function parseQuery<S extends z.ZodObject>(schema: S, query: Record<string, unknown>): z.output<S> {
  const result = schema.safeParse(query);
  if (result.success) return result.data;
  const issues = result.error.issues;
  const unknown = issues.find((issue) => issue.code === 'unrecognized_keys');
  if (unknown) {
    const takes = Object.keys(schema.shape);
    throw new ParamError(
      unknown.keys[0]!,
      takes.length ? `absent: this endpoint takes ${takes.join(', ')}` : 'absent: this endpoint takes no parameters',
    );
  }
  const name = String(issues[0]!.path[0]);
  // A rule across parameters (a minimum above its maximum) says what it wants in its own message.
  if (issues[0]!.code === 'custom') throw new ParamError(name, issues[0]!.message);
  const allowed = schema.shape[name]?.description;
  if (allowed === undefined) throw new Error(`parseQuery: parameter "${name}" has no description`);
  throw new ParamError(name, allowed);
}
