/**
 * Query-parameter parsing for /api/v1. Every parser either returns a value or throws ParamError,
 * whose message names the parameter and what it allows; the router turns that into a 400.
 * A repeated parameter (`?a=1&a=2`, which express parses as an array) is refused like any bad value.
 */
export class ParamError extends Error {
  constructor(readonly param: string, allowed: string) {
    // `?=1` has a parameter with an empty name: say so rather than start the message with a blank.
    super(`${param === '' ? 'a parameter with an empty name' : param} must be ${allowed}`);
    this.name = 'ParamError';
  }
}

type Query = Record<string, unknown>;

/** One of a fixed list; absent means `fallback`. */
export function oneOf<const T extends string>(query: Query, name: string, values: readonly T[], fallback: T): T {
  const raw = query[name];
  if (raw === undefined) return fallback;
  if (typeof raw !== 'string' || !(values as readonly string[]).includes(raw)) throw new ParamError(name, `one of ${values.join(', ')}`);
  return raw as T;
}

/** A whole number in [min, max]; absent means `fallback`. */
export function integer(query: Query, name: string, min: number, max: number, fallback: number): number {
  const raw = query[name];
  if (raw === undefined) return fallback;
  const allowed = `an integer from ${min} to ${max}`;
  // Digits only (no sign, exponent, fraction or blanks); any length: leading zeros are fine, and a
  // longer number is simply above max (Number() of many digits is Infinity at worst, never NaN).
  if (typeof raw !== 'string' || !/^[0-9]+$/.test(raw)) throw new ParamError(name, allowed);
  const value = Number(raw);
  if (value < min || value > max) throw new ParamError(name, allowed);
  return value;
}

export const MAX_SEARCH_LENGTH = 64;

/** Free text matched against names and symbols: printable, at most MAX_SEARCH_LENGTH characters; blank means none. */
export function searchText(query: Query, name: string): string | undefined {
  const raw = query[name];
  if (raw === undefined) return undefined;
  // eslint-disable-next-line no-control-regex -- control characters are exactly what this rejects
  if (typeof raw !== 'string' || raw.length > MAX_SEARCH_LENGTH || /[\u0000-\u001f\u007f]/.test(raw)) {
    throw new ParamError(name, `text of at most ${MAX_SEARCH_LENGTH} printable characters`);
  }
  const trimmed = raw.trim();
  return trimmed === '' ? undefined : trimmed;
}

/** CoinGecko ids are lowercase slugs (`bitcoin`, `usd-coin`, `wrapped-steth`). */
const COIN_ID = /^[a-z0-9][a-z0-9._-]{0,99}$/;

export function coinId(raw: string): string {
  if (!COIN_ID.test(raw)) throw coinIdError();
  return raw;
}

/** The 400 for a malformed coin id; `why` adds what was wrong when it was not the characters. */
export function coinIdError(why?: string): ParamError {
  return new ParamError('id', `a coin id: lowercase letters, digits, ".", "_" or "-", at most 100 characters${why ? ` (${why})` : ''}`);
}

/** Escapes LIKE wildcards so a search for `_` or `%` matches those characters. */
export function likePattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/** Refuses any query parameter an endpoint does not take (a typo would otherwise be silently ignored). */
export function onlyParams(query: Query, allowed: readonly string[]): void {
  for (const name of Object.keys(query)) {
    if (!allowed.includes(name)) throw new ParamError(name, allowed.length ? `absent: this endpoint takes ${allowed.join(', ')}` : 'absent: this endpoint takes no parameters');
  }
}
