/**
 * Jest runs TypeScript as native ESM (got is ESM-only; see README "Development").
 *
 * Two projects, both run by plain `jest` (`npm test`):
 * - unit: the files in UNIT_TESTS, which need no PostgreSQL, Redis, simulator, Chromium or child
 *   process, so no global setup either (`npm run check` runs them in seconds);
 * - integration: every other test file, with the global setup that builds the migrated template
 *   database (test/global-setup.mjs, which needs `npm run build` first).
 * A new test file is integration unless it is listed here. eslint.config.js keeps the listed files
 * from importing the database, Redis, process or simulator helpers directly.
 *
 * test/stack/ (the container stack test) is in neither: jest.stack.config.mjs runs it
 * (`npm run test:stack`).
 */

/** Test files (relative to the repository root, globs allowed) that run without any server. */
export const UNIT_TESTS = [
  'test/bench/report.test.ts',
  'test/core/coingecko/error-body.test.ts',
  'test/core/coingecko/json-array-items.test.ts',
  'test/core/coingecko/market-record.test.ts',
  'test/core/config/*.test.ts',
  'test/core/db/copy-text.test.ts',
  'test/core/jobs/backoff.test.ts',
  'test/core/log/logger.test.ts',
  'test/core/queues/build-job.test.ts',
  'test/core/handoff/parked-batch.test.ts',
  'test/core/history/history-points.test.ts',
  'test/core/history/plan-history.test.ts',
  'test/dashboard/client/price-format.test.ts',
  'test/dashboard/client/screener-values.test.ts',
  'test/dashboard/api/openapi.test.ts',
  'test/dashboard/api/query-schemas.test.ts',
  'test/dbt/project-conventions.test.ts',
  'test/deploy/compose.test.ts',
  'test/deploy/dockerfile.test.ts',
  'test/deploy/kubernetes.test.ts',
  'test/producers/run-identity.test.ts',
  'test/producers/tick/call-budget.test.ts',
  'test/producers/tick/plan-batches.test.ts',
  'test/scripts/backfill/*.test.ts',
  'test/scripts/lib/entry-points.test.ts',
  'test/workers/fetch/rate-limiter.test.ts',
  'test/workers/load/schema-drift-labels.test.ts',
];

/** What every project shares: how TypeScript test files are compiled and resolved. */
export const base = {
  preset: 'ts-jest/presets/default-esm',
  testEnvironment: 'node',
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: { '^.+\\.ts$': ['ts-jest', { useESM: true, diagnostics: false }] },
  slowTestThreshold: 30,
};

const rooted = (pattern) => `<rootDir>/${pattern}`;

export default {
  // A global option in Jest 30 (jest-circus reads only the global one), so it holds for both projects.
  testTimeout: 120000,
  projects: [
    {
      ...base,
      displayName: 'unit',
      testMatch: UNIT_TESTS.map(rooted),
    },
    {
      ...base,
      displayName: 'integration',
      // Jest puts the root directory only in front of a pattern, so the negated ones spell it out.
      testMatch: [
        rooted('test/**/*.test.ts'),
        ...[...UNIT_TESTS, 'test/stack/**'].map((p) => `!${import.meta.dirname}/${p}`),
      ],
      globalSetup: '<rootDir>/test/global-setup.mjs',
    },
  ],
};
