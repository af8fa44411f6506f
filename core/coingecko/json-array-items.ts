/**
 * Splits the text of a JSON array into the text of each top-level element, as it was sent.
 *
 * The load path stores each record's JSON next to its typed columns. Re-serialising the parsed
 * object (JSON.stringify) cost a quarter of the loader's CPU; the text is already in the fetched
 * body, so the loader keeps a slice of it instead. This is only a bracket-and-string scanner: each
 * element still goes through JSON.parse, which rejects anything malformed the scanner let through.
 */
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;

const isSpace = (c: number) => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;

function skipSpace(text: string, i: number): number {
  while (i < text.length && isSpace(text.charCodeAt(i))) i++;
  return i;
}

/** Index of the quote closing the string that opens at `start`. */
function stringEnd(text: string, start: number): number {
  let quote = text.indexOf('"', start + 1);
  while (quote !== -1) {
    let backslashes = 0;
    while (text.charCodeAt(quote - 1 - backslashes) === BACKSLASH) backslashes++;
    if (backslashes % 2 === 0) return quote;
    quote = text.indexOf('"', quote + 1);
  }
  throw new SyntaxError(`unterminated string at position ${start}`);
}

/** The text of each element of the JSON array `text`; throws SyntaxError when it is not one. */
export function jsonArrayItems(text: string): string[] {
  const items: string[] = [];
  let i = skipSpace(text, 0);
  if (text.charCodeAt(i) !== OPEN_BRACKET) throw new SyntaxError('expected a JSON array');
  i = skipSpace(text, i + 1);
  if (text.charCodeAt(i) === CLOSE_BRACKET) {
    if (skipSpace(text, i + 1) !== text.length)
      throw new SyntaxError(`unexpected text after the array at position ${i + 1}`);
    return items;
  }
  for (;;) {
    const start = i;
    let depth = 0;
    for (; ; i++) {
      if (i >= text.length) throw new SyntaxError('unterminated array');
      const c = text.charCodeAt(i);
      if (c === QUOTE) i = stringEnd(text, i);
      else if (c === OPEN_BRACE || c === OPEN_BRACKET) depth++;
      else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
        if (depth === 0) break;
        depth--;
      } else if (c === COMMA && depth === 0) break;
    }
    let end = i;
    while (end > start && isSpace(text.charCodeAt(end - 1))) end--;
    if (end === start) throw new SyntaxError(`empty array element at position ${start}`);
    items.push(text.slice(start, end));
    if (text.charCodeAt(i) === COMMA) {
      i = skipSpace(text, i + 1);
      continue;
    }
    if (text.charCodeAt(i) !== CLOSE_BRACKET) throw new SyntaxError(`unexpected '${text[i]}' at position ${i}`);
    if (skipSpace(text, i + 1) !== text.length)
      throw new SyntaxError(`unexpected text after the array at position ${i + 1}`);
    return items;
  }
}

/** Each element of the JSON array `text`, parsed, with its text; throws SyntaxError when `text` is not a JSON array. */
export function parseJsonArrayItems(text: string): { items: unknown[]; texts: string[] } {
  const texts = jsonArrayItems(text);
  return { items: texts.map((item) => JSON.parse(item) as unknown), texts };
}
