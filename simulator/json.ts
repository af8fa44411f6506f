/**
 * JSON serialisation with CoinGecko's number style. CoinGecko (Ruby) writes small floats in
 * exponent form with a two-digit exponent (`3.15e-06`) where JavaScript would write `0.00000315`;
 * clients must cope with that, so the simulator reproduces it.
 */

// Aliased: global lookups are slow inside vm contexts (jest), and the replacer runs per value.
const abs = Math.abs;
const isFinite_ = Number.isFinite;

export function formatNumber(n: number): string {
  if (!isFinite_(n)) return 'null';
  if (n === 0 || abs(n) >= 1e-4) return String(n);
  const [mantissa, exponent] = n.toExponential().split('e') as [string, string];
  const digits = abs(Number(exponent)).toString().padStart(2, '0');
  return `${mantissa.includes('.') ? mantissa : `${mantissa}.0`}e-${digits}`;
}

/**
 * Native `JSON.stringify` does the heavy lifting: small numbers become marked strings that are
 * then unquoted. The marker starts with U+0000 (which JSON.stringify escapes); only a string
 * value beginning with U+0000 'n' could be mistaken for it, and the simulator produces none.
 */
const MARKER = '\u0000n';
const MARKED = /"\\u0000n([^"]*)"/g;

function replacer(_key: string, value: unknown): unknown {
  return typeof value === 'number' && value !== 0 && abs(value) < 1e-4 && isFinite_(value)
    ? MARKER + formatNumber(value)
    : value;
}

/** Like `JSON.stringify` (no indentation) with {@link formatNumber} for small numbers. */
export function toJson(value: unknown): string {
  const text = JSON.stringify(value, replacer) ?? 'null';
  return text.includes('\\u0000n') ? text.replace(MARKED, '$1') : text;
}
