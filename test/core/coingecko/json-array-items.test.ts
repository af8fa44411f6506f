import { jsonArrayItems, parseJsonArrayItems } from '../../../core/coingecko/json-array-items.js';

/** A deterministic pseudo-random JSON value with the characters that trip naive scanners. */
function randomValue(seed: { n: number }, depth = 0): unknown {
  const next = () => (seed.n = (seed.n * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const strings = ['plain', 'quote " inside', 'backslash \\', 'ends with backslash \\\\', '\\"', 'brackets ] } [ {', 'comma, colon:', 'tab\tnew\nline', 'ünï 🚀', ''];
  const kind = Math.floor(next() * (depth > 3 ? 4 : 6));
  switch (kind) {
    case 0: return strings[Math.floor(next() * strings.length)];
    case 1: return next() < 0.5 ? Math.round(next() * 1e6) / 100 : 3.15e-6 * next();
    case 2: return next() < 0.5 ? null : next() < 0.5;
    case 3: return -Math.floor(next() * 1000);
    case 4: return Array.from({ length: Math.floor(next() * 4) }, () => randomValue(seed, depth + 1));
    default: return Object.fromEntries(Array.from({ length: Math.floor(next() * 4) }, (_, i) => [strings[(i * 3) % strings.length]! + i, randomValue(seed, depth + 1)]));
  }
}

describe(jsonArrayItems.name, () => {
  it('gives each element of a compact array as sent', () => {
    const body = '[{"id":"bitcoin","price":3.15e-06,"roi":null},{"id":"a\\"b]}","nested":{"x":[1,{"y":"}"}]}}]';
    expect(jsonArrayItems(body)).toEqual(['{"id":"bitcoin","price":3.15e-06,"roi":null}', '{"id":"a\\"b]}","nested":{"x":[1,{"y":"}"}]}}']);
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
