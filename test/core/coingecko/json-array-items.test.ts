import fc from 'fast-check';
import { jsonArrayItems, parseJsonArrayItems } from '../../../core/coingecko/json-array-items.js';

/** A deterministic pseudo-random JSON value with the characters that trip naive scanners. */
function randomValue(seed: { n: number }, depth = 0): unknown {
  const next = () => (seed.n = (seed.n * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const strings = [
    'plain',
    'quote " inside',
    'backslash \\',
    'ends with backslash \\\\',
    '\\"',
    'brackets ] } [ {',
    'comma, colon:',
    'tab\tnew\nline',
    'ünï 🚀',
    '',
  ];
  const kind = Math.floor(next() * (depth > 3 ? 4 : 6));
  switch (kind) {
    case 0:
      return strings[Math.floor(next() * strings.length)];
    case 1:
      return next() < 0.5 ? Math.round(next() * 1e6) / 100 : 3.15e-6 * next();
    case 2:
      return next() < 0.5 ? null : next() < 0.5;
    case 3:
      return -Math.floor(next() * 1000);
    case 4:
      return Array.from({ length: Math.floor(next() * 4) }, () => randomValue(seed, depth + 1));
    default:
      return Object.fromEntries(
        Array.from({ length: Math.floor(next() * 4) }, (_, i) => [
          strings[(i * 3) % strings.length]! + i,
          randomValue(seed, depth + 1),
        ]),
      );
  }
}

describe(jsonArrayItems.name, () => {
  it('gives each element of a compact array as sent', () => {
    const body = '[{"id":"bitcoin","price":3.15e-06,"roi":null},{"id":"a\\"b]}","nested":{"x":[1,{"y":"}"}]}}]';
    expect(jsonArrayItems(body)).toEqual([
      '{"id":"bitcoin","price":3.15e-06,"roi":null}',
      '{"id":"a\\"b]}","nested":{"x":[1,{"y":"}"}]}}',
    ]);
  });

  it('trims the whitespace around elements of an indented array', () => {
    const items = [{ a: 1, b: [1, 2] }, { c: 'x' }];
    const texts = jsonArrayItems(JSON.stringify(items, null, 2));
    expect(texts.map((t) => JSON.parse(t))).toEqual(items);
    for (const t of texts) expect(t).toMatch(/^\{[\s\S]*\}$/);
  });

  it('gives non-object elements too, so they can be quarantined', () => {
    expect(jsonArrayItems('[ null , 42,"s" ,[1], true ]')).toEqual(['null', '42', '"s"', '[1]', 'true']);
  });

  it.each(['[]', ' [ ] ', '\n[\n]\n'])('reads %j as no elements', (body) => {
    expect(jsonArrayItems(body)).toEqual([]);
  });

  it('splits random nested values exactly as JSON.parse reads them', () => {
    const seed = { n: 7 };
    for (let round = 0; round < 200; round++) {
      const items = Array.from({ length: 1 + (round % 7) }, () => randomValue(seed));
      const body = round % 2 === 0 ? JSON.stringify(items) : JSON.stringify(items, null, round % 4);
      const { items: parsed, texts } = parseJsonArrayItems(body);
      expect(parsed).toEqual(JSON.parse(body));
      expect(texts.map((t) => JSON.parse(t))).toEqual(items);
    }
  });

  it.each([
    ['an object', '{"a":1}'],
    ['an empty body', ''],
    ['text after the array', '[1] x'],
    ['a second array', '[1][2]'],
    ['an unterminated array', '[{"a":1}'],
    ['an unterminated string', '[{"a":"x}]'],
    ['a trailing comma', '[1,]'],
    ['a leading comma', '[,1]'],
    ['a stray closing brace', '[1}]'],
  ])('rejects %s', (_what, body) => {
    expect(() => parseJsonArrayItems(body)).toThrow(SyntaxError);
  });

  it('leaves malformed elements to JSON.parse, which rejects them', () => {
    expect(jsonArrayItems('[{"a":}]')).toEqual(['{"a":}']);
    expect(() => parseJsonArrayItems('[{"a":}]')).toThrow(SyntaxError);
  });
});

// ---------------------------------------------------------------------------------------------
// Property: on any JSON array text, the scanner agrees with JSON.parse.
//
// The arbitraries build JSON *text* directly (not values passed through JSON.stringify), so they
// reach what a serialiser never writes but a server may send: whitespace between any two tokens,
// `\uXXXX` escapes for any character (`\u0022` is a quote that is not a quote), `\/`, raw
// non-ASCII and raw lone surrogates, exponents in every spelling.

/** JSON's whitespace: exactly these four characters, anywhere between tokens. */
const ws = fc.array(fc.constantFrom(' ', '\t', '\n', '\r'), { maxLength: 3 }).map((chars) => chars.join(''));

/** Characters that matter to a bracket-and-string scanner, and some that matter to UTF-16. */
const TRICKY = [
  '"',
  '\\',
  '[',
  ']',
  '{',
  '}',
  ',',
  ':',
  '/',
  '\u0000',
  '\n',
  '\u001f',
  '\u007f',
  '\u2028',
  '\ufeff',
  'é',
  '🚀',
  '\ud800',
  '\udfff',
];
const stringChar = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...TRICKY) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 0xffff }).map((unit) => String.fromCharCode(unit)) },
);
const hex4 = (unit: number) => unit.toString(16).padStart(4, '0');
/** One character as JSON may write it inside a string: escaped as JSON.stringify does, as \uXXXX (either case), as `\/`, or raw where allowed. */
function writeChar(c: string, how: number): string {
  const units = Array.from({ length: c.length }, (_, i) => c.charCodeAt(i));
  switch (how) {
    case 1:
      return units.map((u) => `\\u${hex4(u)}`).join('');
    case 2:
      return units.map((u) => `\\u${hex4(u).toUpperCase()}`).join('');
    case 3:
      if (c === '/') return '\\/';
      // A quote, a backslash and control characters must be escaped; anything else may be sent raw.
      return c === '"' || c === '\\' || units.some((u) => u < 0x20) ? JSON.stringify(c).slice(1, -1) : c;
    default:
      return JSON.stringify(c).slice(1, -1);
  }
}
const jsonString = fc
  .array(fc.tuple(stringChar, fc.integer({ min: 0, max: 3 })), { maxLength: 10 })
  .map((chars) => `"${chars.map(([c, how]) => writeChar(c, how)).join('')}"`);
const jsonNumber = fc.oneof(
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((n) => JSON.stringify(n)),
  fc.stringMatching(/^-?(0|[1-9][0-9]{0,8})(\.[0-9]{1,6})?([eE][+-]?[0-9]{1,3})?$/),
);
const leaf = fc.oneof(jsonString, jsonNumber, fc.constantFrom('true', 'false', 'null'));

/** `open ws` + items joined by `,` (each with whitespace either side) + `close`; an empty container may hold whitespace only. */
const container = (open: string, close: string, items: fc.Arbitrary<string>) =>
  fc
    .tuple(fc.array(fc.tuple(ws, items, ws), { maxLength: 4 }), ws)
    .map(
      ([parts, inner]) =>
        `${open}${parts.length === 0 ? inner : parts.map(([a, item, b]) => `${a}${item}${b}`).join(',')}${close}`,
    );

const { value: jsonValue } = fc.letrec<{ value: string; array: string; object: string }>((tie) => ({
  value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, leaf, tie('array'), tie('object')),
  array: container('[', ']', tie('value')),
  object: container(
    '{',
    '}',
    fc.tuple(jsonString, ws, ws, tie('value')).map(([key, a, b, value]) => `${key}${a}:${b}${value}`),
  ),
}));

/** A top-level array: its text, and the text of each element as it should come back (no surrounding whitespace). */
const jsonArray = fc
  .tuple(ws, fc.array(fc.tuple(ws, jsonValue, ws), { maxLength: 8 }), ws, ws)
  .map(([before, parts, inner, after]) => ({
    text: `${before}[${parts.length === 0 ? inner : parts.map(([a, item, b]) => `${a}${item}${b}`).join(',')}]${after}`,
    items: parts.map(([, item]) => item),
  }));

/** JSON.parse's verdict on `text` as a JSON array: its elements, or undefined when it is not one. */
function parsedArray(text: string): unknown[] | undefined {
  try {
    const parsed: unknown = JSON.parse(text);
    return Array.isArray(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

describe(`${jsonArrayItems.name} (property)`, () => {
  it('gives each element of any JSON array exactly as sent, and they parse to what JSON.parse reads', () => {
    fc.assert(
      fc.property(jsonArray, ({ text, items }) => {
        expect(jsonArrayItems(text)).toEqual(items);
        expect(parseJsonArrayItems(text).items).toEqual(JSON.parse(text));
      }),
      { numRuns: 500 },
    );
  });

  it('accepts a damaged array exactly when JSON.parse reads an array from it, and then reads the same', () => {
    // One edit of a valid array: a character dropped, or one inserted that a scanner could trip on.
    const inserted = fc.constantFrom(
      '[',
      ']',
      '{',
      '}',
      '"',
      '\\',
      ',',
      ':',
      ' ',
      '1',
      'x',
      '\u00a0',
      '\u2028',
      '\ufeff',
    );
    const damaged = fc
      .tuple(jsonArray, fc.nat(), fc.option(inserted, { nil: undefined }))
      .map(([{ text }, at, char]) => {
        const i = at % (text.length + (char === undefined ? 0 : 1));
        return char === undefined ? text.slice(0, i) + text.slice(i + 1) : text.slice(0, i) + char + text.slice(i);
      });
    fc.assert(
      fc.property(damaged, (text) => {
        const expected = parsedArray(text);
        if (expected === undefined) expect(() => parseJsonArrayItems(text)).toThrow(SyntaxError);
        else expect(parseJsonArrayItems(text).items).toEqual(expected);
      }),
      { numRuns: 1000 },
    );
  });
});
