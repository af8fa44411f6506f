import { copyTextLine, copyTextValue } from '../../../core/db/copy-text.js';

describe(copyTextValue.name, () => {
  it.each<[string, unknown, string]>([
    ['null as \\N', null, '\\N'],
    ['undefined as \\N', undefined, '\\N'],
    ['a plain string unchanged', 'Bitcoin', 'Bitcoin'],
    ['the text "\\N" so it is not read as NULL', '\\N', '\\\\N'],
    ['a backslash', 'C:\\coins', 'C:\\\\coins'],
    ['a tab', 'a\tb', 'a\\tb'],
    ['a newline', 'line1\nline2', 'line1\\nline2'],
    ['a carriage return', 'a\r\nb', 'a\\r\\nb'],
    ['an empty string as empty (not NULL)', '', ''],
    ['a number', 3.15e-6, '0.00000315'],
    ['a large number', 1e21, '1e+21'],
    ['a boolean', true, 'true'],
    ['an object as JSON', { times: 47.8, currency: 'btc' }, '{"times":47.8,"currency":"btc"}'],
    ['an array as JSON', [1, null, 2], '[1,null,2]'],
    ['JSON whose strings hold escapes, escaped once more', { name: 'a\tb\\c' }, '{"name":"a\\\\tb\\\\\\\\c"}'],
  ])('encodes %s', (_what, value, encoded) => {
    expect(copyTextValue(value)).toBe(encoded);
  });

  it('round-trips through COPY text decoding', () => {
    // PostgreSQL's decoding of the escapes copyTextValue produces.
    const decode = (text: string) =>
      text.replace(/\\(.)/g, (_m, c: string) => ({ t: '\t', n: '\n', r: '\r', '\\': '\\' })[c] ?? c);
    for (const value of ['plain', 'tab\there', 'new\nline', 'back\\slash\\', 'mixed \\t\t\r\n\\n', 'ünïcødé 🚀']) {
      expect(decode(copyTextValue(value))).toBe(value);
    }
    const record = { name: 'Quote "x"\tand \\ back', nested: { list: ['a\nb'] } };
    expect(JSON.parse(decode(copyTextValue(record)))).toEqual(record);
  });
});

describe(copyTextLine.name, () => {
  it('joins encoded values with tabs and ends the line', () => {
    expect(copyTextLine(['bitcoin', null, 42, 'a\tb', { k: 1 }])).toBe('bitcoin\t\\N\t42\ta\\tb\t{"k":1}\n');
  });

  it('keeps one line per row whatever the values contain', () => {
    const line = copyTextLine(['x\ny', 'z\r\n', '\t']);
    expect(line.split('\n')).toEqual([expect.any(String), '']);
    expect(line.split('\t')).toHaveLength(3);
  });
});
