import {
  ConfigError,
  loadConfig,
  VARIABLES,
  type ConfigNeed,
  type LoadConfigOptions,
  type Variable,
  type VariableName,
} from '../../../core/config/index.js';

/**
 * Every variable in core/config/variables.ts, refused the ways it can be wrong: a value of the wrong
 * kind, a value just outside the parser's bounds (derived from the parser, so a new bound is tried
 * at once), and missing where something requires it. CASES must name every variable: a new variable
 * without a row fails "has a case for every variable" (and type-checking).
 */

type Env = Record<string, string>;

interface Case {
  /** Text that is not the kind of value the variable takes. */
  readonly wrong: string;
  /** Valid settings the variable's cases run with, so its own value is the one problem. */
  readonly context?: Env;
  /**
   * Unset: 'default' (its default applies), 'optional' (nothing requires it), or what makes it
   * required and what the message then says it expected.
   */
  readonly missing: 'default' | 'optional' | Required;
}

interface Required {
  readonly when: Env;
  readonly needs?: readonly ConfigNeed[];
  readonly expected: string;
  /** Unset and not required in the default environment as well (false: it has a default then). */
  readonly otherwise: 'default' | 'optional';
}

const PASSWORD = 'a-long-enough-password';
const API_KEY = 'CG-abcdefgh12345678';
const PRODUCTION_DEFAULT = 'an explicit value: NODE_ENV=production does not fall back to the development default';
const PARTNER = 'to be set together with its partner (DASHBOARD_USER and DASHBOARD_PASSWORD)';

const CASES: Record<VariableName, Case> = {
  NODE_ENV: { wrong: 'staging', missing: 'default' },
  LOG_LEVEL: { wrong: 'verbose', missing: 'default' },
  DATABASE_URL: {
    wrong: 'mysql://app:db-secret-pw@db/x',
    missing: {
      when: { NODE_ENV: 'production', REDIS_URL: 'redis://cache:6379' },
      expected: PRODUCTION_DEFAULT,
      otherwise: 'default',
    },
  },
  DATABASE_POOL_MAX: { wrong: 'four', missing: 'default' },
  DATABASE_STATEMENT_TIMEOUT: { wrong: 'two minutes', missing: 'default' },
  REDIS_URL: {
    wrong: 'http://:redis-secret-pw@cache:6379',
    missing: {
      when: { NODE_ENV: 'production', DATABASE_URL: 'postgres://db/x' },
      expected: PRODUCTION_DEFAULT,
      otherwise: 'default',
    },
  },
  QUEUE_PREFIX: { wrong: 'cdp:prod', missing: 'default' },
  COINGECKO_PLAN: { wrong: 'enterprise', missing: 'default' },
  COINGECKO_API_KEY: {
    wrong: 'key with $ecret spaces',
    context: { COINGECKO_PLAN: 'demo' },
    missing: {
      when: { COINGECKO_PLAN: 'pro' },
      needs: ['coingecko-api'],
      expected: 'an API key: COINGECKO_PLAN=pro requires one',
      otherwise: 'optional',
    },
  },
  COINGECKO_BASE_URL: { wrong: 'ftp://mirror.example.com/api/v3', missing: 'optional' },
  COINGECKO_RATE_LIMIT_PER_MIN: { wrong: '30/min', missing: 'optional' },
  COINGECKO_TIMEOUT: { wrong: 'forever', missing: 'default' },
  COINGECKO_MAX_IDS_PER_CALL: { wrong: '250.5', missing: 'default' },
  COINGECKO_MAX_URL_BYTES: { wrong: '4kb', missing: 'default' },
  COINGECKO_RATE_LIMIT_WAIT: { wrong: '-5s', missing: 'default' },
  VS_CURRENCY: { wrong: 'US Dollar', missing: 'default' },
  TICK_INTERVAL: { wrong: 'soon', missing: 'default' },
  SCHEDULE_ENABLED: { wrong: 'maybe', missing: 'default' },
  TRACK_TOP_N: { wrong: '1e3', missing: 'default' },
  COIN_IDS: { wrong: 'bitcoin,Not An Id', missing: 'optional' },
  UNIVERSE_REFRESH_INTERVAL: { wrong: 'hourly', missing: 'default' },
  UNIVERSE_WAIT: { wrong: '5 minutes', missing: 'default' },
  STALE_AFTER: { wrong: '90500ms', missing: 'default' },
  BACKFILL_DAYS: { wrong: '-1', missing: 'default' },
  GAP_THRESHOLD: { wrong: 'three ticks', missing: 'optional' },
  GAP_REPAIR_LOOKBACK: { wrong: 'a day', missing: 'default' },
  GAP_REPAIR_MAX_COINS: { wrong: 'all', missing: 'default' },
  FETCH_CONCURRENCY: { wrong: 'max', missing: 'default' },
  FETCH_ATTEMPTS: { wrong: 'six', missing: 'default' },
  LOAD_CONCURRENCY: { wrong: '2x', missing: 'default' },
  LOAD_ATTEMPTS: { wrong: 'true', missing: 'default' },
  RETRY_BASE_DELAY: { wrong: '1 second', missing: 'default' },
  // At its lower bound (1ms) it is valid only if the base delay is no longer.
  RETRY_MAX_DELAY: { wrong: 'P2M', context: { RETRY_BASE_DELAY: '1ms' }, missing: 'default' },
  PAYLOAD_TTL: { wrong: '6 hours', missing: 'default' },
  PARTITION_DAYS_AHEAD: { wrong: 'three', missing: 'default' },
  TRANSFORM_RUNNER: { wrong: 'spark', missing: 'default' },
  TRANSFORM_THREADS: { wrong: '0', missing: 'default' },
  TRANSFORM_ATTEMPTS: { wrong: '3.0', missing: 'default' },
  TRANSFORM_SCHEMA: { wrong: 'Analytics-Prod', missing: 'default' },
  TRANSFORM_RAW_RETENTION_DAYS: { wrong: '30d', missing: 'default' },
  TRANSFORM_RAW_RETENTION_LOCK_TIMEOUT: { wrong: 'briefly', missing: 'default' },
  JOB_LOCK_DURATION: { wrong: '30 secs', missing: 'default' },
  JOB_STALLED_INTERVAL: { wrong: 'often', missing: 'default' },
  JOB_MAX_STALLED: { wrong: 'none', missing: 'default' },
  JOB_KEEP_COMPLETED: { wrong: '1w', missing: 'default' },
  JOB_KEEP_FAILED: { wrong: 'a week', missing: 'default' },
  SHUTDOWN_TIMEOUT: { wrong: 'graceful', missing: 'default' },
  METRICS_PORT: { wrong: 'http', missing: 'default' },
  METRICS_HOST: { wrong: '0.0.0.0:9464', missing: 'default' },
  METRICS_ENABLED: { wrong: 'enabled', missing: 'default' },
  DASHBOARD_PORT: { wrong: '3000/tcp', missing: 'default' },
  DASHBOARD_HOST: { wrong: 'http://0.0.0.0', missing: 'default' },
  DASHBOARD_USER: {
    wrong: 'ad min',
    context: { DASHBOARD_PASSWORD: PASSWORD },
    missing: { when: { DASHBOARD_PASSWORD: PASSWORD }, expected: PARTNER, otherwise: 'optional' },
  },
  DASHBOARD_PASSWORD: {
    wrong: 'pw $ecret',
    context: { DASHBOARD_USER: 'admin' },
    missing: { when: { DASHBOARD_USER: 'admin' }, expected: PARTNER, otherwise: 'optional' },
  },
};

const NAMES = Object.keys(VARIABLES) as VariableName[];
const variable = (name: VariableName): Variable => VARIABLES[name];
const isSecret = (name: VariableName) => variable(name).secret === true;

/** Values just outside each bound the parser enforces, and the bound itself (which must pass). */
function boundaryValues(name: VariableName): Array<{ value: string; inside: boolean; label: string }> {
  const { kind, bounds } = variable(name).parser;
  if (!bounds) return [];
  const render: Partial<Record<typeof kind, (n: number) => string>> = {
    integer: (n) => String(n),
    duration: (n) => `${n}ms`,
    text: (n) => 'p'.repeat(n),
    list: (n) => Array.from({ length: n }, (_, i) => `coin-${i}`).join(','),
  };
  const write = render[kind];
  if (!write) throw new Error(`${name}: no boundary values for a ${kind} parser with bounds; add them here`);
  const values: Array<{ value: string; inside: boolean; label: string }> = [];
  if (bounds.min !== undefined)
    values.push(
      { value: write(bounds.min - 1), inside: false, label: `below min ${bounds.min}` },
      { value: write(bounds.min), inside: true, label: `at min ${bounds.min}` },
    );
  if (bounds.max !== undefined)
    values.push(
      { value: write(bounds.max + 1), inside: false, label: `above max ${bounds.max}` },
      { value: write(bounds.max), inside: true, label: `at max ${bounds.max}` },
    );
  return values;
}

function configError(env: Env, options?: LoadConfigOptions): ConfigError {
  try {
    loadConfig(env, options);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error(`expected loadConfig to refuse ${Object.keys(env).join(', ')}`);
}

/** The line the one message must hold for a bad value: the value itself, or <redacted> for a secret. */
const line = (name: VariableName, value: string) =>
  `  - ${name}=${isSecret(name) ? '"<redacted>"' : JSON.stringify(value)}: expected ${variable(name).parser.expects}`;

/** The raw value must not appear anywhere in the message of a secret (nor its password part). */
function expectRedacted(message: string, value: string): void {
  expect(message).not.toContain(value);
  expect(message).not.toMatch(/secret|\$ecret/);
}

describe('every variable in core/config/variables.ts', () => {
  it('has a case for every variable, and no case for a variable that does not exist', () => {
    expect(Object.keys(CASES).sort()).toEqual([...NAMES].sort());
  });

  it('says of each variable whether it has a default, as variables.ts does', () => {
    for (const name of NAMES) {
      const missing = CASES[name].missing;
      const unset = typeof missing === 'string' ? missing : missing.otherwise;
      expect({ name, unset }).toEqual({ name, unset: variable(name).default === undefined ? 'optional' : 'default' });
    }
  });

  it('has a parser that every boundary case can be derived for', () => {
    for (const name of NAMES) expect(() => boundaryValues(name)).not.toThrow();
    // The derivation is not vacuous: these are bounded, and each yields values on both sides.
    const bounded = NAMES.filter((name) => boundaryValues(name).length > 0);
    expect(bounded).toEqual(
      expect.arrayContaining([
        'DATABASE_POOL_MAX',
        'TICK_INTERVAL',
        'COINGECKO_TIMEOUT',
        'COIN_IDS',
        'DASHBOARD_PASSWORD',
      ]),
    );
  });

  describe.each(NAMES)('%s', (name) => {
    const { wrong, context = {}, missing } = CASES[name];

    it(`refuses a value of the wrong kind, alone in one message${isSecret(name) ? ', redacted' : ''}`, () => {
      const error = configError({ ...context, [name]: wrong });
      expect(error.problems).toEqual([
        { name, value: isSecret(name) ? '<redacted>' : wrong, expected: variable(name).parser.expects },
      ]);
      expect(error.message).toBe(`Invalid configuration (1 problem):\n${line(name, wrong)}`);
      if (isSecret(name)) expectRedacted(error.message, wrong);
    });

    const boundaries = boundaryValues(name);
    if (boundaries.length > 0) {
      it.each(boundaries)('$label: $inside accepted', ({ value, inside }) => {
        const env = { ...context, [name]: value };
        if (inside) {
          expect(() => loadConfig(env)).not.toThrow();
          return;
        }
        const error = configError(env);
        expect(error.problems.map((p) => p.name)).toEqual([name]);
        expect(error.message).toBe(`Invalid configuration (1 problem):\n${line(name, value)}`);
        if (isSecret(name)) expectRedacted(error.message, value);
      });
    }

    if (typeof missing === 'string') {
      it(`may be missing (${missing === 'default' ? 'its default applies' : 'nothing requires it'})`, () => {
        const config = loadConfig({ ...context });
        const fallback = variable(name).default;
        if (fallback !== undefined) expect(config).toEqual(loadConfig({ ...context, [name]: fallback }));
      });
    } else {
      it('is refused missing where it is required', () => {
        const error = configError(missing.when, { needs: missing.needs });
        expect(error.problems).toEqual([{ name, value: undefined, expected: missing.expected }]);
        expect(error.message).toBe(`Invalid configuration (1 problem):\n  - ${name}: expected ${missing.expected}`);
        // ...and given, the same environment is fine.
        const valid = {
          DATABASE_URL: 'postgres://db/x',
          REDIS_URL: 'redis://cache:6379',
          COINGECKO_API_KEY: API_KEY,
          DASHBOARD_USER: 'admin',
          DASHBOARD_PASSWORD: PASSWORD,
        };
        expect(() =>
          loadConfig({ ...missing.when, [name]: valid[name as keyof typeof valid] }, { needs: missing.needs }),
        ).not.toThrow();
        // ...and without the condition it may be missing.
        expect(() => loadConfig({})).not.toThrow();
      });
    }
  });

  it('lists every variable in one message when every one has a wrong value', () => {
    const env = Object.fromEntries(NAMES.map((name) => [name, CASES[name].wrong]));
    const error = configError(env, { needs: ['coingecko-api'] });
    expect(error.problems.map((p) => p.name).sort()).toEqual([...NAMES].sort());
    expect(error.message.split('\n')[0]).toBe(`Invalid configuration (${NAMES.length} problems):`);
    for (const name of NAMES) expect(error.message).toContain(line(name, CASES[name].wrong));
    for (const name of NAMES.filter(isSecret)) expectRedacted(error.message, CASES[name].wrong);
  });

  it('lists every missing required variable and every out-of-range value together in one message', () => {
    // Everything that can be required at once: production URLs, the fetch worker's key on the pro
    // plan, and one of the dashboard pair (the other is the condition, so it stays given).
    const when: Env = { NODE_ENV: 'production', COINGECKO_PLAN: 'pro', DASHBOARD_PASSWORD: PASSWORD };
    const missing = ['DATABASE_URL', 'REDIS_URL', 'COINGECKO_API_KEY', 'DASHBOARD_USER'];
    const required = NAMES.filter((name) => typeof CASES[name].missing !== 'string');
    expect(required.sort()).toEqual([...missing, 'DASHBOARD_PASSWORD'].sort()); // a new requirement belongs here too
    const outOfRange = Object.fromEntries(
      NAMES.filter((name) => !(name in when) && !missing.includes(name)).flatMap((name) =>
        boundaryValues(name)
          .filter((b) => !b.inside)
          .slice(0, 1)
          .map((b) => [name, b.value]),
      ),
    );
    const error = configError({ ...when, ...outOfRange }, { needs: ['coingecko-api'] });
    const expected = [...missing, ...Object.keys(outOfRange)].sort();
    expect(Object.keys(outOfRange).length).toBeGreaterThan(20);
    expect(error.problems.map((p) => p.name).sort()).toEqual(expected);
    expect(error.message.split('\n')[0]).toBe(`Invalid configuration (${expected.length} problems):`);
    for (const name of missing) expect(error.message).toMatch(new RegExp(`^  - ${name}: expected `, 'm'));
    for (const [name, value] of Object.entries(outOfRange))
      expect(error.message).toContain(line(name as VariableName, value));
  });
});

describe('listen hosts (METRICS_HOST, DASHBOARD_HOST)', () => {
  it.each(['0.0.0.0', '127.0.0.1', 'localhost', 'dashboard.internal', '::', '::1', 'fe80::1'])('accept %s', (host) => {
    expect(loadConfig({ METRICS_HOST: host, DASHBOARD_HOST: host }).dashboard.host).toBe(host);
  });

  it.each(['0.0.0.0:3000', 'localhost:9464', '[::1]', 'http://localhost', 'my host', '-leading-dash'])(
    'refuse %s',
    (host) => {
      expect(configError({ METRICS_HOST: host, DASHBOARD_HOST: host }).problems.map((p) => p.name)).toEqual([
        'METRICS_HOST',
        'DASHBOARD_HOST',
      ]);
    },
  );
});
