import { VARIABLES, type Variable } from '../../../core/config/variables.js';

const entries = Object.entries(VARIABLES) as [string, Variable][];

describe('VARIABLES', () => {
  it('keys every variable by its own name', () => {
    for (const [key, variable] of entries) expect(variable.name).toBe(key);
  });

  it.each(entries.filter(([, v]) => v.default !== undefined).map(([name, v]) => [name, v.default!, v] as const))(
    'has a default for %s (%j) that its own parser accepts',
    (_name, fallback, variable) => {
      expect(variable.parser.parse(fallback).ok).toBe(true);
    },
  );

  it('marks exactly the variables that carry credentials as secret', () => {
    expect(
      entries
        .filter(([, v]) => v.secret)
        .map(([name]) => name)
        .sort(),
    ).toEqual(['COINGECKO_API_KEY', 'DASHBOARD_PASSWORD', 'DATABASE_URL', 'REDIS_URL']);
  });

  it('gives secrets no default that holds a password', () => {
    for (const [, variable] of entries.filter(([, v]) => v.secret && v.default !== undefined)) {
      expect(new URL(variable.default!).password).toBe('');
    }
  });

  it('describes every variable and what it expects', () => {
    for (const [, variable] of entries) {
      expect(variable.description.trim().length).toBeGreaterThan(10);
      expect(variable.parser.expects.trim().length).toBeGreaterThan(5);
    }
  });
});
