import { expectPanelShape, NUMERIC, TIMESTAMPTZ } from './panel-shape.js';
import { InProcessPipeline } from '../helpers/pipeline.js';
import { createScenario, refreshUniverse, runTick, type Scenario } from '../helpers/scenario.js';
import { insertSnapshots } from '../workers/transform/snapshots.js';
import {
  alertRules,
  expandSqlVariables,
  MARTS_SCHEMA,
  readsMarts,
  sqlQueries,
  templateVariables,
  type SqlQuery,
} from './grafana-files.js';
import { expandMacros } from './grafana-macros.js';

/**
 * The Market dashboard and the price-anomaly rule against marts built by real ticks: 18 hourly ticks
 * of 40 coins (the simulator's market moves with the test's clock, so the marts hold 18 hours of
 * candles, returns and anomaly scores), the bundled dbt runner after each tick, and one price jump
 * written straight into the raw snapshots, as a bad record or a real spike would arrive.
 * The clock is fixed, so prices, and which hours are anomalies, are the same on every run.
 */
const COINS = 40;
const HOUR = 3_600_000;
const START = Date.parse('2026-11-20T00:20:00Z');
/** The hour whose close jumps (the 15th): bitcoin has 13 hourly returns before it, its baseline (the hour left out); the anomaly rule needs 12. */
const JUMP_HOUR = 14;

let now = START;
let scenario: Scenario;
let pipeline: InProcessPipeline;
const q = async (sql: string, params: unknown[] = []) => (await scenario.db.pool.query(sql, params)).rows;

async function tickAt(hour: number): Promise<void> {
  now = START + hour * HOUR;
  const { transform } = await runTick(pipeline.runtime, scenario.db);
  expect(transform.failedReason).toBeUndefined();
}

const anomalyRule = () => alertRules().find((r) => r.uid === 'cdp-price-anomalies')!;

/**
 * The rule's query as Grafana runs it when it evaluates at `at`. The rule measures its window with
 * now() (provisioning.test.ts keeps `$` out of rule SQL), so "at" is that instant in place of now().
 */
async function ruleValueAt(at: number): Promise<number> {
  const { rawSql } = anomalyRule().query;
  expect(rawSql).toContain('now()');
  const sql = rawSql!.replaceAll('now()', `'${new Date(at).toISOString()}'::timestamptz`);
  const { rows, fields } = await scenario.db.pool.query(sql);
  // One point of a time series, as Grafana's alerting needs from SQL.
  expect(
    fields.map((f) => [f.name, f.name === 'time' ? f.dataTypeID === TIMESTAMPTZ : NUMERIC.has(f.dataTypeID)]),
  ).toEqual([
    ['time', true],
    ['anomalies', true],
  ]);
  expect(rows).toHaveLength(1);
  return Number(rows[0].anomalies);
}
const firing = async (at: number) => {
  const { threshold } = anomalyRule();
  const value = await ruleValueAt(at);
  return threshold.type === 'gt' ? value > threshold.value : value < threshold.value;
};

beforeAll(async () => {
  scenario = await createScenario({ coins: COINS, clock: () => now });
  pipeline = await new InProcessPipeline(
    scenario.config({
      TRACK_TOP_N: String(COINS),
      TRANSFORM_RUNNER: 'bundled',
      TRANSFORM_ATTEMPTS: '1',
      TRANSFORM_RAW_RETENTION_DAYS: '0',
    }),
  ).start();
  await refreshUniverse(pipeline.runtime);
  for (let hour = 0; hour <= JUMP_HOUR; hour++) await tickAt(hour);
}, 120_000);

afterAll(async () => {
  await pipeline?.stop();
  await scenario?.teardown();
});

describe('the price-anomaly alert rule', () => {
  it('stays below its threshold over hours of ordinary price moves', async () => {
    expect(
      await q(
        `select count(distinct bucket_start)::int as hours from ${MARTS_SCHEMA}.fct_price_anomalies where coin_id = 'bitcoin'`,
      ),
    ).toEqual([{ hours: JUMP_HOUR }]);
    expect(await firing(now + 60_000)).toBe(false);
  });

  it("crosses it once a 25% jump in one coin's price is transformed, naming the coin-hour in the mart", async () => {
    const [last] = await q(
      `select current_price, market_cap from raw.coin_market_snapshots where coin_id = 'bitcoin' order by last_updated desc limit 1`,
    );
    await insertSnapshots(scenario.db.pool, [
      {
        coinId: 'bitcoin',
        at: new Date(START + JUMP_HOUR * HOUR + 35 * 60_000).toISOString(),
        price: last.current_price * 1.25,
        marketCap: last.market_cap * 1.25,
        rank: 1,
      },
    ]);
    await tickAt(JUMP_HOUR + 1);
    expect(await firing(now + 60_000)).toBe(true);
    const flagged = await q(
      `select coin_id, bucket_start, anomaly_direction from ${MARTS_SCHEMA}.fct_price_anomalies where is_anomaly order by bucket_start`,
    );
    expect(flagged).toEqual(
      expect.arrayContaining([
        {
          coin_id: 'bitcoin',
          bucket_start: new Date(START - 20 * 60_000 + JUMP_HOUR * HOUR),
          anomaly_direction: 'spike',
        },
        // The next hour's close is back on the simulator's path: the fall back is flagged too.
        {
          coin_id: 'bitcoin',
          bucket_start: new Date(START - 20 * 60_000 + (JUMP_HOUR + 1) * HOUR),
          anomaly_direction: 'drop',
        },
      ]),
    );
  });

  it('clears once the flagged hours are older than its two-hour window, with ticks still arriving', async () => {
    await tickAt(JUMP_HOUR + 2);
    expect(await firing(now + 60_000)).toBe(true); // the drop hour is still in the window
    await tickAt(JUMP_HOUR + 3);
    expect(await firing(now + 60_000)).toBe(false);
    // Cleared by the window, not by the data: the mart still flags both hours.
    expect(
      await q(
        `select count(*)::int as n from ${MARTS_SCHEMA}.fct_price_anomalies where is_anomaly and coin_id = 'bitcoin'`,
      ),
    ).toEqual([{ n: 2 }]);
  });
});

// Everything below runs after the rule's tests (jest keeps declaration order), on all 18 hours.
const marketQueries = sqlQueries().filter((query) => readsMarts(query.sql));
const variables = templateVariables().filter((v) => v.dashboard === 'market.json');
/** Every panel over the whole test history, for bitcoin and for each candle interval. */
const variableSets = variables
  .find((v) => v.name === 'interval')!
  .values.map((interval) => ({ coin: 'bitcoin', interval }));

async function runPanel(query: SqlQuery, values: Record<string, string>) {
  const range = { from: new Date(START - HOUR), to: new Date(now + HOUR) };
  return scenario.db.pool.query(expandMacros(expandSqlVariables(query.sql, values), range));
}

it("has the Market dashboard's queries and the anomaly rule to test", () => {
  expect(marketQueries.map((query) => query.source)).toEqual(expect.arrayContaining(['alert cdp-price-anomalies']));
  expect(marketQueries.filter((query) => query.source.startsWith('market.json')).length).toBeGreaterThanOrEqual(10);
  expect(variables.map((v) => v.name).sort()).toEqual(['coin', 'interval']);
});

it('offers every coin of dim_coins in the coin variable, by name, largest first', async () => {
  const sql = variables.find((v) => v.name === 'coin')!.sql!;
  const result = await scenario.db.pool.query(expandMacros(sql, { from: new Date(START), to: new Date(now) }));
  expect(result.fields.map((f) => f.name).sort()).toEqual(['__text', '__value']);
  expect(result.rows).toHaveLength(COINS);
  expect(result.rows[0]).toEqual({ __value: 'bitcoin', __text: 'Bitcoin (BTC)' });
});

describe.each(
  marketQueries.filter((query) => !query.source.startsWith('alert ')).map((query) => [query.source, query] as const),
)('%s', (_source, query) => {
  it.each(variableSets)(
    `returns ${query.format === 'time_series' ? 'a time series: a time column, numeric values, sorted by time' : 'table rows'} (coin $coin, interval $interval)`,
    async (values) => {
      const result = await runPanel(query, values);
      const names = expectPanelShape(result, query.format);
      if (query.panelType === 'candlestick') {
        // The candlestick panel finds its fields by these names; a candle's body lies within its wick.
        expect(names).toEqual(['time', 'open', 'high', 'low', 'close', 'volume']);
        for (const c of result.rows)
          expect(c.low <= Math.min(c.open, c.close) && Math.max(c.open, c.close) <= c.high).toBe(true);
        expect(result.rows.length).toBe(values.interval === 'hourly' ? JUMP_HOUR + 4 : 1);
      }
      if (query.panelType === 'stat') {
        expect(result.fields.filter((f) => NUMERIC.has(f.dataTypeID)).length).toBeGreaterThan(0);
      }
      if (query.panelType === 'piechart') {
        // One slice per row: a label and a value.
        expect(result.fields.map((f) => NUMERIC.has(f.dataTypeID))).toEqual([false, true]);
      }
    },
  );
});
