import { boolean, duration, integer, list, oneOf, text, url, type Parser } from '../../../core/config/parsers.js';

function accepts<T>(parser: Parser<T>, input: string): T {
  const result = parser.parse(input);
  if (!result.ok) throw new Error(`expected ${JSON.stringify(input)} to be accepted (${parser.expects})`);
  return result.value;
}

describe(integer.name, () => {
  const port = integer({ min: 0, max: 65_535 });

  it.each([
    ['0', 0],
    ['65535', 65_535],
    [' 42 ', 42],
  ])('accepts %j as %d', (input, value) => {
    expect(accepts(port, input)).toBe(value);
  });

  it.each(['', 'abc', '1.5', '12x', '0x10', '1e3', '-1', '65536'])(
    'rejects %j (wrong type or out of range)',
    (input) => {
      expect(port.parse(input).ok).toBe(false);
    },
  );

  it('rejects integers beyond the safe range even without bounds', () => {
    expect(integer().parse('9007199254740993').ok).toBe(false);
    expect(accepts(integer(), '-9007199254740991')).toBe(-9_007_199_254_740_991);
  });

  it.each([
    [{ min: 1, max: 100 }, 'an integer from 1 to 100'],
    [{ min: 0 }, 'an integer >= 0'],
    [{ max: 9 }, 'an integer <= 9'],
    [{}, 'an integer'],
  ])('describes the range %j as %j', (opts, expects) => {
    expect(integer(opts).expects).toBe(expects);
  });
});

describe(duration.name, () => {
  const timeout = duration({ minMs: 100, maxMs: 600_000 });

  it.each([
    ['100ms', 100],
    ['20s', 20_000],
    ['10m', 600_000],
    ['1500', 1500],
  ])('accepts %j as %d ms', (input, ms) => {
    expect(accepts(timeout, input)).toBe(ms);
  });

  it.each(['99ms', '11m', 'fast', '-1s', ''])('rejects %j (bad duration or out of range)', (input) => {
    expect(timeout.parse(input).ok).toBe(false);
  });

  it('mentions the minimum only when there is one', () => {
    expect(timeout.expects).toContain('at least 100ms');
    expect(duration().expects).not.toContain('at least');
  });

  it('takes only whole seconds when asked to, and says so', () => {
    const threshold = duration({ minMs: 60_000, wholeSeconds: true });
    expect(accepts(threshold, '15m')).toBe(900_000);
    expect(accepts(threshold, '61000')).toBe(61_000);
    for (const input of ['90500ms', '60001', '59s']) expect(threshold.parse(input).ok).toBe(false);
    expect(threshold.expects).toContain('whole seconds');
    expect(timeout.expects).not.toContain('whole seconds');
  });
});

describe(oneOf.name, () => {
  const level = oneOf(['error', 'warn', 'info'] as const);

  it('accepts a listed value, ignoring surrounding spaces', () => {
    expect(accepts(level, ' warn ')).toBe('warn');
  });

  it.each(['verbose', 'INFO', ''])('rejects %j', (input) => {
    expect(level.parse(input).ok).toBe(false);
  });

  it('lists the choices', () => {
    expect(level.expects).toBe('one of error, warn, info');
  });
});

describe(boolean.name, () => {
  it.each([
    ['true', true],
    ['1', true],
    ['YES', true],
    ['on', true],
    ['false', false],
    ['0', false],
    ['No', false],
    [' off ', false],
  ])('reads %j as %s', (input, value) => {
    expect(accepts(boolean(), input)).toBe(value);
  });

  it.each(['maybe', '2', 'truthy', ''])('rejects %j', (input) => {
    expect(boolean().parse(input).ok).toBe(false);
  });
});

describe(url.name, () => {
  const postgres = url(['postgres:', 'postgresql:']);

  it('accepts the listed protocols and trims the value', () => {
    expect(accepts(postgres, ' postgres://u:p@db:5432/x ')).toBe('postgres://u:p@db:5432/x');
    expect(accepts(postgres, 'postgresql://db/x')).toBe('postgresql://db/x');
  });

  it.each([
    ['a URL with another protocol', 'mysql://db/x'],
    ['an http URL', 'http://db/x'],
    ['a URL without host', 'postgres://'],
    ['a non-URL', 'not a url'],
    ['a bare host', 'db:5432'],
  ])('rejects %s', (_what, input) => {
    expect(postgres.parse(input).ok).toBe(false);
  });

  it('names the accepted protocols', () => {
    expect(url(['http:', 'https:']).expects).toBe('a URL (http:// or https://)');
  });
});

describe(text.name, () => {
  it('trims and requires at least one character by default', () => {
    expect(accepts(text(), '  0.0.0.0 ')).toBe('0.0.0.0');
    expect(text().parse('   ').ok).toBe(false);
  });

  it('enforces minLength and pattern', () => {
    const password = text({ minLength: 12, describe: 'at least 12 characters' });
    expect(password.parse('elevenchars').ok).toBe(false);
    expect(accepts(password, 'twelve chars')).toBe('twelve chars');
    const code = text({ pattern: /^[a-z]{2,10}$/ });
    expect(code.parse('USD').ok).toBe(false);
    expect(accepts(code, 'usd')).toBe('usd');
  });

  it('uses its description as the expectation', () => {
    expect(text({ describe: 'a currency code' }).expects).toBe('a currency code');
    expect(text().expects).toBe('a non-empty string');
  });
});

describe(list.name, () => {
  const ids = list({ pattern: /^[a-z0-9-]+$/, describe: 'coin ids', maxItems: 3 });

  it('splits on commas, trims, drops empty items and duplicates, keeps order', () => {
    expect(accepts(ids, ' ethereum, bitcoin,,ethereum , tether ')).toEqual(['ethereum', 'bitcoin', 'tether']);
  });

  it.each([
    ['an empty list', ' , ,'],
    ['one bad item among good ones', 'bitcoin,Ether Eum,tether'],
    ['more than maxItems distinct items', 'a,b,c,d'],
  ])('rejects %s', (_what, input) => {
    expect(ids.parse(input).ok).toBe(false);
  });

  it('counts maxItems after de-duplication', () => {
    expect(accepts(ids, 'a,b,a,c,b')).toEqual(['a', 'b', 'c']);
  });

  it('describes the items', () => {
    expect(ids.expects).toBe('a comma-separated list of coin ids');
  });
});
