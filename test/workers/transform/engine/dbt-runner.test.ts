import { readFileSync, rmSync } from 'node:fs';
import { delimiter } from 'node:path';
import { PermanentError } from '../../../../core/errors.js';
import { rootLogger } from '../../../../core/log/logger.js';
import { BundledRunner } from '../../../../workers/transform/engine/bundled/bundled-runner.js';
import { DbtRunner } from '../../../../workers/transform/engine/dbt-runner.js';
import { resolveTransformRunner } from '../../../../workers/transform/engine/resolve-runner.js';
import { testConfig } from '../../../helpers/config.js';
import { installFakeDbt } from './fake-dbt.js';

// dbt cannot be installed here (no PyPI): these tests run the dbt runner against a stand-in
// executable (fake-dbt.ts) that writes run_results.json / sources.json the way dbt 1.x does.
const config = (env: Record<string, string> = {}) =>
  testConfig({
    databaseUrl: 'postgres://reader:s3cret%21@db.internal:6543/warehouse',
    prefix: 'cdp-unused',
    coingeckoUrl: 'http://127.0.0.1:9/api/v3',
    env: { TRANSFORM_RUNNER: 'dbt', TICK_INTERVAL: '5m', STALE_AFTER: '7m', ...env },
  });

describe(DbtRunner.name, () => {
  let fake: ReturnType<typeof installFakeDbt>;
  const path = () => `${fake.dir}${delimiter}${process.env.PATH}`;
  const run = (env: Record<string, string> = {}) =>
    resolveTransformRunner(config(), { ...process.env, PATH: path(), ...env }).run({
      runId: 'mtest',
      signal: new AbortController().signal,
      log: rootLogger,
    });
  const calls = () =>
    readFileSync(fake.callsFile, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { args: string[]; env: Record<string, string> });

  beforeEach(() => {
    fake = installFakeDbt();
  });
  afterEach(() => rmSync(fake.dir, { recursive: true, force: true }));

  it('runs source freshness then build with the project, profile, vars and a connection from DATABASE_URL', async () => {
    const summary = await run();
    expect(summary.status).toBe('success');
    const [freshness, build] = calls();
    expect(freshness!.args.slice(0, 2)).toEqual(['source', 'freshness']);
    expect(build!.args[0]).toBe('build');
    expect(build!.args).toEqual(expect.arrayContaining(['--project-dir', '--profiles-dir', '--target-path', '--vars']));
    expect(JSON.parse(build!.args[build!.args.indexOf('--vars') + 1]!)).toEqual({
      tick_interval_minutes: 5,
      vs_currency: 'usd',
      stale_after_seconds: 420,
    });
    expect(build!.env).toMatchObject({
      DBT_HOST: 'db.internal',
      DBT_PORT: '6543',
      DBT_USER: 'reader',
      DBT_PASSWORD: 's3cret!',
      DBT_DATABASE: 'warehouse',
      DBT_SCHEMA: 'analytics',
    });
    // The same session settings as the bundled runner: JIT compiling cost more than these small queries.
    expect(build!.env.PGOPTIONS).toMatch(/-c jit=off/);
  });

  it('records every node of run_results.json and sources.json with status, timing, rows and failures', async () => {
    const summary = await run();
    expect(summary.nodes).toEqual([
      expect.objectContaining({
        uniqueId: 'source.crypto_pipeline.coingecko.coin_market_snapshots',
        resourceType: 'source',
        name: 'coingecko.coin_market_snapshots',
        status: 'pass',
      }),
      expect.objectContaining({
        resourceType: 'model',
        name: 'stg_coingecko__coin_markets',
        status: 'success',
        executionTimeMs: 100,
      }),
      expect.objectContaining({
        resourceType: 'model',
        name: 'int_coin_prices__hourly',
        rowsAffected: 120,
        startedAt: new Date('2026-11-27T10:00:02Z'),
        completedAt: new Date('2026-11-27T10:00:02.500Z'),
      }),
      expect.objectContaining({
        resourceType: 'test',
        name: 'not_null_dim_coins_coin_id',
        status: 'pass',
        failures: 0,
      }),
      expect.objectContaining({
        resourceType: 'test',
        name: 'assert_snapshot_24h_range_consistent',
        status: 'warn',
        failures: 2,
      }),
    ]);
    expect(summary.detail).toMatch(/2 models built, 1 tests passed, 1 warned, 0 failed/);
  });

  it('fails permanently naming the failing error-severity test when dbt exits 1', async () => {
    const summary = await run({ FAKE_DBT_FAIL_TEST: 'assert_no_negative_prices' });
    expect(summary).toMatchObject({ status: 'error', retryable: false });
    expect(summary.failureReason).toBe('dbt build failed: failing tests: assert_no_negative_prices (1 rows)');
  });

  it('asks for a retry when dbt crashes with exit 2 and leaves no results', async () => {
    const summary = await run({ FAKE_DBT_BUILD_EXIT: '2' });
    expect(summary).toMatchObject({ status: 'error', retryable: true });
    expect(summary.failureReason).toMatch(/wrote no run_results\.json \(exit 2\).*connection refused/);
  });
});

describe(resolveTransformRunner.name, () => {
  it('picks dbt under auto when dbt is on PATH, the bundled runner otherwise', () => {
    const fake = installFakeDbt();
    try {
      expect(resolveTransformRunner(config({ TRANSFORM_RUNNER: 'auto' }), { PATH: fake.dir })).toBeInstanceOf(
        DbtRunner,
      );
      expect(resolveTransformRunner(config({ TRANSFORM_RUNNER: 'auto' }), { PATH: '/nonexistent' })).toBeInstanceOf(
        BundledRunner,
      );
      expect(resolveTransformRunner(config({ TRANSFORM_RUNNER: 'bundled' }), { PATH: fake.dir })).toBeInstanceOf(
        BundledRunner,
      );
    } finally {
      rmSync(fake.dir, { recursive: true, force: true });
    }
  });

  it('refuses dbt when it is not installed, and none as today', () => {
    expect(() => resolveTransformRunner(config(), { PATH: '/nonexistent' })).toThrow(/no dbt executable is on PATH/);
    expect(() => resolveTransformRunner(config({ TRANSFORM_RUNNER: 'none' }))).toThrow(PermanentError);
  });
});
