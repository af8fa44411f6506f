import { expectPanelShape } from './panel-shape.js';
import type { TransformRunner, TransformRunSummary } from '../../workers/transform/engine/runner-types.js';
import { InProcessPipeline } from '../helpers/pipeline.js';
import { createScenario, refreshUniverse, runTick, type Scenario } from '../helpers/scenario.js';
import { alertRules, readsMarts, sqlQueries, type SqlQuery } from './grafana-files.js';
import { expandMacros } from './grafana-macros.js';

/**
 * Every SQL query of the dashboards and alert rules that reads the pipeline's own tables, macros
 * expanded as Grafana would, against a warehouse filled by real ticks (bundled dbt runner), with
 * quarantined records and, for the last ticks, a failing dbt test, so that every panel has rows to
 * show. Queries on the dbt marts need hours of history: market-queries.test.ts runs those.
 */

/** A transform run whose dbt test failed, as a runner reports it (drives the test-failure panel and rule). */
const failingTestRunner = (): TransformRunner => ({
  name: 'bundled',
  async run(): Promise<TransformRunSummary> {
    const now = new Date();
    return {
      runner: 'bundled',
      status: 'error',
      detail: '1 test failed',
      failureReason: 'test not_null_stg_coingecko__coin_markets_coin_id failed: 3 rows',
      nodes: [
        {
          uniqueId: 'test.crypto_data_pipeline.not_null_stg_coingecko__coin_markets_coin_id',
          resourceType: 'test',
          name: 'not_null_stg_coingecko__coin_markets_coin_id',
          status: 'fail',
          startedAt: now,
          completedAt: now,
          executionTimeMs: 5,
          rowsAffected: null,
          failures: 3,
          message: 'Got 3 results',
        },
      ],
    };
  },
});

let scenario: Scenario;
let loaders: InProcessPipeline;
const env = { TRACK_TOP_N: '300', TRANSFORM_RUNNER: 'bundled', TRANSFORM_ATTEMPTS: '1' };

async function withTransform<T>(runner: (() => TransformRunner) | undefined, work: () => Promise<T>): Promise<T> {
  const transform = await new InProcessPipeline(scenario.config(env)).start(['transform'], runner);
  try {
    return await work();
  } finally {
    await transform.stop();
  }
}

async function run(query: SqlQuery) {
  const sql = expandMacros(query.sql, { from: new Date(Date.now() - 3600_000), to: new Date(Date.now() + 60_000) });
  return scenario.db.pool.query(sql);
}

const testFailureRule = () => alertRules().find((r) => r.uid === 'cdp-transform-test-failures')!;
async function ruleValue(): Promise<number> {
  const result = await run({ source: 'rule', sql: testFailureRule().query.rawSql!, format: 'time_series' });
  return Number(result.rows[0].failures);
}

beforeAll(async () => {
  scenario = await createScenario({ coins: 300, invalidRecordRate: 0.05 });
  loaders = await new InProcessPipeline(scenario.config(env)).start(['planner', 'fetch', 'load']);
  await refreshUniverse(loaders.runtime);
  await withTransform(undefined, async () => {
    await runTick(loaders.runtime, scenario.db);
    await runTick(loaders.runtime, scenario.db);
  });
}, 90_000);

afterAll(async () => {
  await loaders?.stop();
  await scenario?.teardown();
});

it('expands the Grafana macros the queries use into Postgres SQL', () => {
  const range = { from: new Date('2026-01-01T00:00:00Z'), to: new Date('2026-01-01T01:00:00Z') };
  expect(expandMacros("select $__timeGroupAlias(t, '5m'), x from y where $__timeFilter(t)", range)).toBe(
    "select floor(extract(epoch from t)/300)*300 AS \"time\", x from y where t BETWEEN '2026-01-01T00:00:00.000Z' AND '2026-01-01T01:00:00.000Z'",
  );
  expect(() => expandMacros('select $__unixEpochFilter(t)', range)).toThrow(/not supported/);
});

it('fires the dbt test-failure rule on a run with a failing test, and clears it after a passing run', async () => {
  const rule = testFailureRule();
  expect(await ruleValue()).toBe(0);
  await withTransform(failingTestRunner, () => runTick(loaders.runtime, scenario.db));
  const failing = await ruleValue();
  expect(rule.threshold.type === 'gt' && failing > rule.threshold.value).toBe(true);
  await withTransform(undefined, () => runTick(loaders.runtime, scenario.db));
  expect(await ruleValue()).toBe(0);
});

// Runs after the test above (jest keeps declaration order): the failing-tests panel reads its run.
describe.each(
  sqlQueries()
    .filter((q) => !readsMarts(q.sql))
    .map((q) => [q.source, q] as const),
)('%s', (_source, query) => {
  it(`returns rows shaped for ${query.format === 'time_series' ? 'a time series: a time column, numeric values, sorted by time' : 'a table'}`, async () => {
    const result = await run(query);
    expectPanelShape(result, query.format);
  });
});
