import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ConfigError,
  environmentWithDotenv,
  loadConfig,
  secretValues,
  type ConfigProblem,
  type LoadConfigOptions,
} from '../../../core/config/index.js';

const API_KEY = 'CG-abcdefgh12345678';

/** Runs loadConfig and returns the ConfigError it throws (fails the test when it does not throw). */
function configError(env: Record<string, string>, options?: LoadConfigOptions): ConfigError {
  try {
    loadConfig(env, options);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error(`expected loadConfig(${JSON.stringify(env)}) to throw a ConfigError`);
}

const names = (problems: readonly ConfigProblem[]) => problems.map((p) => p.name);

describe(loadConfig.name, () => {
  describe('defaults', () => {
    it('turns an empty environment into a complete development configuration', () => {
      const config = loadConfig({});
      expect(config).toMatchObject({
        env: 'development',
        logLevel: 'info',
        postgres: {
          url: 'postgres://postgres@127.0.0.1:5432/crypto_pipeline',
          poolMax: 4,
          statementTimeoutMs: 120_000,
        },
        redis: { url: 'redis://127.0.0.1:6379', prefix: 'cdp' },
        coingecko: {
          plan: 'public',
          baseUrl: 'https://api.coingecko.com/api/v3',
          apiKey: undefined,
          rateLimitPerMin: 5,
          timeoutMs: 20_000,
          maxIdsPerCall: 250,
          maxUrlBytes: 4000,
          rateLimitWaitMs: 60_000,
          vsCurrency: 'usd',
        },
        universe: { topN: 1000, coinIds: undefined, refreshIntervalMs: 3_600_000, waitMs: 300_000 },
        tick: { intervalMs: 60_000 },
        history: { backfillDays: 30, gapThresholdMs: 150_000, gapLookbackMs: 86_400_000, gapRepairMaxCoins: 250 },
        fetch: { concurrency: 4, attempts: 6 },
        load: { concurrency: 2, attempts: 8, payloadTtlMs: 21_600_000, partitionDaysAhead: 3 },
        transform: { runner: 'auto', attempts: 3 },
        retry: { baseDelayMs: 1000, maxDelayMs: 120_000 },
        jobs: {
          lockDurationMs: 10_000,
          stalledIntervalMs: 3_000,
          maxStalledCount: 3,
          keepCompletedMs: 86_400_000,
          keepFailedMs: 604_800_000,
          shutdownTimeoutMs: 25_000,
        },
        metrics: { enabled: true, port: 9464, host: '0.0.0.0' },
        dashboard: { port: 3000, host: '0.0.0.0', credentials: undefined },
      });
    });

    it('freezes the configuration all the way down', () => {
      const config = loadConfig({
        COIN_IDS: 'bitcoin,ethereum',
        DASHBOARD_USER: 'admin',
        DASHBOARD_PASSWORD: 'a-long-password',
      });
      for (const part of [
        config,
        config.postgres,
        config.coingecko,
        config.universe,
        config.universe.coinIds,
        config.dashboard,
        config.dashboard.credentials,
      ]) {
        expect(Object.isFrozen(part)).toBe(true);
      }
      expect(() => {
        (config.coingecko as { plan: string }).plan = 'pro';
      }).toThrow(TypeError);
      expect(() => (config.universe.coinIds as string[]).push('tether')).toThrow(TypeError);
    });

    it('treats empty and blank variables as unset', () => {
      const config = loadConfig({ LOG_LEVEL: '', DATABASE_POOL_MAX: '   ', COINGECKO_API_KEY: '' });
      expect(config.logLevel).toBe('info');
      expect(config.postgres.poolMax).toBe(4);
      expect(config.coingecko.apiKey).toBeUndefined();
    });

    it('parses given values into their types', () => {
      const config = loadConfig({
        NODE_ENV: 'test',
        TICK_INTERVAL: '90s',
        METRICS_ENABLED: 'no',
        COIN_IDS: 'ethereum, bitcoin,ethereum',
        JOB_KEEP_FAILED: '2d',
        DATABASE_POOL_MAX: '12',
        STALE_AFTER: '20m',
      });
      expect(config.env).toBe('test');
      expect(config.tick.intervalMs).toBe(90_000);
      expect(config.freshness.staleAfterSeconds).toBe(1200);
      expect(config.metrics.enabled).toBe(false);
      expect(config.universe.coinIds).toEqual(['ethereum', 'bitcoin']);
      expect(config.jobs.keepFailedMs).toBe(172_800_000);
      expect(config.postgres.poolMax).toBe(12);
    });
  });

  describe('errors', () => {
    it('lists every bad variable in one error, with its value and what was expected', () => {
      const error = configError({
        DATABASE_POOL_MAX: '0',
        TICK_INTERVAL: 'every minute',
        LOG_LEVEL: 'verbose',
        METRICS_ENABLED: 'maybe',
        COIN_IDS: 'bitcoin,Not An Id',
        COINGECKO_BASE_URL: 'ftp://mirror.example.com/api/v3',
        DASHBOARD_PORT: '70000',
      });
      const expected: ConfigProblem[] = [
        { name: 'LOG_LEVEL', value: 'verbose', expected: 'one of error, warn, info, debug' },
        { name: 'DATABASE_POOL_MAX', value: '0', expected: 'an integer from 1 to 100' },
        {
          name: 'COINGECKO_BASE_URL',
          value: 'ftp://mirror.example.com/api/v3',
          expected: 'a URL (http:// or https://)',
        },
        { name: 'COIN_IDS', value: 'bitcoin,Not An Id', expected: 'a comma-separated list of CoinGecko coin ids' },
        {
          name: 'TICK_INTERVAL',
          value: 'every minute',
          expected: 'a duration like 500ms, 30s, 5m, 1h (or plain milliseconds), at least 1000ms',
        },
        { name: 'METRICS_ENABLED', value: 'maybe', expected: 'true or false (also 1/0, yes/no)' },
        { name: 'DASHBOARD_PORT', value: '70000', expected: 'an integer from 0 to 65535' },
      ];
      expect(error.problems).toHaveLength(expected.length);
      expect(error.problems).toEqual(expect.arrayContaining(expected));
      expect(error.message).toMatch(/^Invalid configuration \(7 problems\):/);
      for (const problem of expected) {
        expect(error.message).toContain(
          `  - ${problem.name}=${JSON.stringify(problem.value)}: expected ${problem.expected}`,
        );
      }
    });

    it('says "1 problem" for a single problem', () => {
      expect(configError({ FETCH_ATTEMPTS: '0' }).message).toMatch(
        /^Invalid configuration \(1 problem\):\n {2}- FETCH_ATTEMPTS="0": expected an integer from 1 to 50$/,
      );
    });

    it.each([
      ['COINGECKO_API_KEY', 'has spaces $ecret!', { COINGECKO_PLAN: 'demo' }],
      ['DASHBOARD_PASSWORD', 'short$ecret', { DASHBOARD_USER: 'admin' }],
      ['DATABASE_URL', 'mysql://app:hunter2-secret@db/x', {}],
      ['REDIS_URL', 'http://:redis-secret@cache:6379', {}],
    ])('shows a bad %s as <redacted>, never its value', (name, value, others) => {
      const error = configError({ ...others, [name]: value });
      expect(error.problems).toContainEqual(expect.objectContaining({ name, value: '<redacted>' }));
      expect(error.message).toContain(`${name}="<redacted>"`);
      expect(error.message).not.toContain(value);
      expect(error.message).not.toMatch(/secret|\$ecret/);
    });
  });

  describe('CoinGecko plan', () => {
    it.each([
      ['public', undefined, 'https://api.coingecko.com/api/v3', 5],
      ['demo', API_KEY, 'https://api.coingecko.com/api/v3', 30],
      ['pro', API_KEY, 'https://pro-api.coingecko.com/api/v3', 500],
    ])('uses the %s plan defaults', (plan, apiKey, baseUrl, rateLimitPerMin) => {
      const config = loadConfig({ COINGECKO_PLAN: plan, ...(apiKey ? { COINGECKO_API_KEY: apiKey } : {}) });
      expect(config.coingecko).toMatchObject({ plan, apiKey, baseUrl, rateLimitPerMin });
    });

    it.each(['demo', 'pro'])(
      'requires COINGECKO_API_KEY on the %s plan from a process that calls CoinGecko',
      (plan) => {
        const error = configError({ COINGECKO_PLAN: plan }, { needs: ['coingecko-api'] });
        expect(error.problems).toEqual([
          { name: 'COINGECKO_API_KEY', value: undefined, expected: `an API key: COINGECKO_PLAN=${plan} requires one` },
        ]);
      },
    );

    it.each(['demo', 'pro'])(
      'does not require COINGECKO_API_KEY on the %s plan from a process that never calls CoinGecko',
      (plan) => {
        const config = loadConfig({ COINGECKO_PLAN: plan });
        expect(config.coingecko).toMatchObject({ plan, apiKey: undefined });
        expect(loadConfig({ COINGECKO_PLAN: plan }, { needs: [] }).coingecko.apiKey).toBeUndefined();
      },
    );

    it('lists the missing key together with every other problem when the process needs it', () => {
      const error = configError(
        { COINGECKO_PLAN: 'pro', FETCH_CONCURRENCY: '0', DASHBOARD_USER: 'admin' },
        { needs: ['coingecko-api'] },
      );
      expect(names(error.problems).sort()).toEqual(['COINGECKO_API_KEY', 'DASHBOARD_PASSWORD', 'FETCH_CONCURRENCY']);
      expect(error.message).toMatch(/^Invalid configuration \(3 problems\):/);
    });

    it('still refuses a malformed key, and a key on the public plan, in a process that does not need one', () => {
      expect(names(configError({ COINGECKO_PLAN: 'pro', COINGECKO_API_KEY: 'short' }).problems)).toEqual([
        'COINGECKO_API_KEY',
      ]);
      expect(names(configError({ COINGECKO_API_KEY: API_KEY }).problems)).toEqual(['COINGECKO_PLAN']);
    });

    it('accepts a key on the demo and pro plans whether or not the process needs it', () => {
      for (const needs of [[], ['coingecko-api']] as const) {
        expect(loadConfig({ COINGECKO_PLAN: 'pro', COINGECKO_API_KEY: API_KEY }, { needs }).coingecko.apiKey).toBe(
          API_KEY,
        );
      }
    });

    it('rejects an API key on the public plan', () => {
      const error = configError({ COINGECKO_API_KEY: API_KEY });
      expect(names(error.problems)).toEqual(['COINGECKO_PLAN']);
      expect(error.message).toContain('public plan sends no key');
      expect(error.message).not.toContain(API_KEY);
    });

    it('lets COINGECKO_RATE_LIMIT_PER_MIN override the plan default, 0 included', () => {
      expect(
        loadConfig({ COINGECKO_PLAN: 'demo', COINGECKO_API_KEY: API_KEY, COINGECKO_RATE_LIMIT_PER_MIN: '100' })
          .coingecko.rateLimitPerMin,
      ).toBe(100);
      expect(loadConfig({ COINGECKO_RATE_LIMIT_PER_MIN: '0' }).coingecko.rateLimitPerMin).toBe(0);
    });

    it.each([
      ['http://127.0.0.1:8484/api/v3/', 'http://127.0.0.1:8484/api/v3'],
      ['http://127.0.0.1:8484/api/v3///', 'http://127.0.0.1:8484/api/v3'],
      ['https://proxy.example.com/coingecko', 'https://proxy.example.com/coingecko'],
    ])('lets COINGECKO_BASE_URL %j override the plan URL (as %j)', (given, baseUrl) => {
      expect(
        loadConfig({ COINGECKO_PLAN: 'pro', COINGECKO_API_KEY: API_KEY, COINGECKO_BASE_URL: given }).coingecko.baseUrl,
      ).toBe(baseUrl);
    });
  });

  describe('coverage gaps', () => {
    it('count as a gap 2.5 ticks without a load unless GAP_THRESHOLD says otherwise', () => {
      expect(loadConfig({ TICK_INTERVAL: '2s' }).history.gapThresholdMs).toBe(5000);
      expect(loadConfig({ TICK_INTERVAL: '2s', GAP_THRESHOLD: '10m' }).history.gapThresholdMs).toBe(600_000);
    });
  });

  describe('dashboard credentials', () => {
    it('are absent when neither variable is set', () => {
      expect(loadConfig({}).dashboard.credentials).toBeUndefined();
    });

    it('are built from DASHBOARD_USER and DASHBOARD_PASSWORD together', () => {
      expect(
        loadConfig({ DASHBOARD_USER: 'admin', DASHBOARD_PASSWORD: 'correct horse battery' }).dashboard.credentials,
      ).toEqual({
        user: 'admin',
        password: 'correct horse battery',
      });
    });

    it.each([
      [{ DASHBOARD_USER: 'admin' }, 'DASHBOARD_PASSWORD'],
      [{ DASHBOARD_PASSWORD: 'correct horse battery' }, 'DASHBOARD_USER'],
    ])('given only %j, reports the missing %s', (env, missing) => {
      const error = configError(env);
      expect(error.problems).toEqual([
        { name: missing, value: undefined, expected: expect.stringContaining('set together') },
      ]);
      expect(error.message).not.toContain('correct horse battery');
    });
  });

  describe('NODE_ENV=production', () => {
    it('requires explicit DATABASE_URL and REDIS_URL', () => {
      const error = configError({ NODE_ENV: 'production' });
      expect(names(error.problems)).toEqual(['DATABASE_URL', 'REDIS_URL']);
      expect(error.message).toContain('NODE_ENV=production does not fall back to the development default');
    });

    it('accepts them when given', () => {
      const config = loadConfig({
        NODE_ENV: 'production',
        DATABASE_URL: 'postgres://app@db/prod',
        REDIS_URL: 'rediss://cache:6380',
      });
      expect(config.postgres.url).toBe('postgres://app@db/prod');
      expect(config.redis.url).toBe('rediss://cache:6380');
    });

    // A blank value means "unset" everywhere, so it must not satisfy the production check either.
    it('does not accept a blank DATABASE_URL as explicit', () => {
      const error = configError({ NODE_ENV: 'production', DATABASE_URL: '   ', REDIS_URL: 'redis://cache:6379' });
      expect(names(error.problems)).toEqual(['DATABASE_URL']);
    });
  });

  describe('retry delays', () => {
    it('requires RETRY_MAX_DELAY >= RETRY_BASE_DELAY', () => {
      const error = configError({ RETRY_BASE_DELAY: '10s', RETRY_MAX_DELAY: '5s' });
      expect(error.problems).toEqual([
        { name: 'RETRY_MAX_DELAY', value: undefined, expected: 'at least RETRY_BASE_DELAY (10000ms)' },
      ]);
    });

    it('accepts equal delays', () => {
      expect(loadConfig({ RETRY_BASE_DELAY: '5s', RETRY_MAX_DELAY: '5000' }).retry).toEqual({
        baseDelayMs: 5000,
        maxDelayMs: 5000,
      });
    });
  });
});

describe(environmentWithDotenv.name, () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'cdp-dotenv-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('adds the variables of <cwd>/.env, and the real environment wins', () => {
    writeFileSync(join(dir, '.env'), '# comment\nLOG_LEVEL=debug\nTICK_INTERVAL=30s\nQUEUE_PREFIX="from-file"\n');
    const env = environmentWithDotenv({ TICK_INTERVAL: '2m' }, dir);
    expect(env).toMatchObject({ LOG_LEVEL: 'debug', TICK_INTERVAL: '2m', QUEUE_PREFIX: 'from-file' });
    expect(loadConfig(env)).toMatchObject({
      logLevel: 'debug',
      tick: { intervalMs: 120_000 },
      redis: { prefix: 'from-file' },
    });
  });

  it('reads the file named by ENV_FILE instead of <cwd>/.env', () => {
    writeFileSync(join(dir, '.env'), 'LOG_LEVEL=debug\n');
    writeFileSync(join(dir, 'staging.env'), 'LOG_LEVEL=warn\n');
    expect(environmentWithDotenv({ ENV_FILE: join(dir, 'staging.env') }, dir).LOG_LEVEL).toBe('warn');
  });

  it('returns the environment unchanged when there is no file', () => {
    const env = { LOG_LEVEL: 'error' };
    expect(environmentWithDotenv(env, dir)).toBe(env);
    expect(environmentWithDotenv({ ENV_FILE: join(dir, 'missing.env') }, dir)).toEqual({
      ENV_FILE: join(dir, 'missing.env'),
    });
  });
});

describe(secretValues.name, () => {
  it('is empty for the default configuration', () => {
    expect(secretValues(loadConfig({}))).toEqual([]);
  });

  it('collects the API key, the dashboard password and the connection passwords, raw and URL-decoded', () => {
    const config = loadConfig({
      COINGECKO_PLAN: 'pro',
      COINGECKO_API_KEY: API_KEY,
      DASHBOARD_USER: 'admin',
      DASHBOARD_PASSWORD: 'correct horse battery',
      DATABASE_URL: 'postgres://app:p%40ss%3Aword@db:5432/x',
      REDIS_URL: 'redis://:redis-pass@cache:6379',
    });
    expect(secretValues(config).sort()).toEqual(
      [API_KEY, 'correct horse battery', 'p%40ss%3Aword', 'p@ss:word', 'redis-pass'].sort(),
    );
  });

  it('lists a password once when encoding does not change it, and skips ones shorter than 4 characters', () => {
    const config = loadConfig({ DATABASE_URL: 'postgres://app:plainpass@db/x', REDIS_URL: 'redis://:abc@cache:6379' });
    expect(secretValues(config)).toEqual(['plainpass']);
  });

  // A lone '%' is not an escape: decoding must not throw at boot.
  it('does not throw on a password with a literal percent sign', () => {
    const config = loadConfig({ DATABASE_URL: 'postgres://app:100%pass@db/x' });
    expect(secretValues(config)).toContain('100%pass');
  });
});
