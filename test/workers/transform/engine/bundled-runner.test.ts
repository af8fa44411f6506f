import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { isDeepStrictEqual } from 'node:util';
import type pg from 'pg';
import winston from 'winston';
import type { AppConfig } from '../../../../core/config/index.js';
import { rootLogger, type Logger } from '../../../../core/log/logger.js';
import { BundledRunner } from '../../../../workers/transform/engine/bundled/bundled-runner.js';
import { dbtVars } from '../../../../workers/transform/engine/dbt-env.js';
import { executeTransformRun } from '../../../../workers/transform/engine/execute-run.js';
import { findProjectDir } from '../../../../workers/transform/engine/project-dir.js';
import { resolveTransformRunner } from '../../../../workers/transform/engine/resolve-runner.js';
import type { TransformRunSummary } from '../../../../workers/transform/engine/runner-types.js';
import { dropAgedRawPartitions } from '../../../../workers/transform/engine/retention.js';
import { testConfig } from '../../../helpers/config.js';
import { createTestDatabase, type TestDatabase } from '../../../helpers/database.js';
import { testPrefix } from '../../../helpers/redis.js';
import { waitFor } from '../../../helpers/wait-for.js';
import { MODES } from '../run-modes.js';
import { expectedCandles, insertSnapshots, martCandles, type RawSnapshot } from '../snapshots.js';

const MARTS = 'analytics_marts';
const signal = new AbortController().signal;

const asWorker = MODES[0]![1];

/** Three coins, two snapshots an hour for 03:00-05:59 on the given day. */
function hoursOf(day: string, coins = ['bitcoin', 'ethereum', 'solana']): RawSnapshot[] {
  return coins.flatMap((coinId, c) =>
    [3, 4, 5].flatMap((hour) =>
      [10, 40].map((minute) => ({
        coinId,
        at: `${day}T0${hour}:${minute}:00Z`,
        price: 100 * (c + 1) + hour * 3 + (minute === 40 ? -1.5 : 2),
        rank: c + 1,
      })),
    ),
  );
}

/** A logger that keeps the models the runner reports built ("model built", debug), in the order it reports them. */
function recordingLogger(): { log: Logger; built: string[] } {
  const built: string[] = [];
  const sink = new Writable({
    objectMode: true,
    write(info: { message?: unknown; model?: unknown }, _encoding, done) {
      if (info.message === 'model built') built.push(String(info.model));
      done();
    },
  });
  return {
    log: winston.createLogger({ level: 'debug', transports: [new winston.transports.Stream({ stream: sink })] }),
    built,
  };
}

/** The tables the bundled runner's connections wait to lock in this database: one entry per waiting connection. */
async function lockWaits(pool: pg.Pool): Promise<string[]> {
  const result = await pool.query<{ relation: string }>(
    `select n.nspname || '.' || c.relname as relation
       from pg_locks l
       join pg_stat_activity a on a.pid = l.pid
       join pg_class c on c.oid = l.relation
       join pg_namespace n on n.oid = c.relnamespace
      where not l.granted and l.locktype = 'relation'
        and l.database = (select oid from pg_database where datname = current_database())
        and a.datname = current_database() and a.application_name = 'cdp-transform-bundled'`,
  );
  return result.rows.map((r) => r.relation).sort();
}

describe(BundledRunner.name, () => {
  let db: TestDatabase;
  let config: AppConfig;
  const run = (options: { fullRefresh?: boolean; projectDir?: string; log?: Logger } = {}) =>
    asWorker(
      db.pool,
      new BundledRunner({ projectDir: options.projectDir ?? findProjectDir(), config, vars: dbtVars(config) }),
      { runId: 'mtest', fullRefresh: options.fullRefresh, log: options.log },
    );

  beforeAll(async () => {
    db = await createTestDatabase();
    config = testConfig({
      databaseUrl: db.url,
      prefix: testPrefix(),
      coingeckoUrl: 'http://127.0.0.1:9/api/v3',
      env: { TRANSFORM_RUNNER: 'bundled' },
    });
  });
  afterAll(() => db.drop());

  it('builds every model and passes every test on clean snapshots', async () => {
    await insertSnapshots(db.pool, hoursOf('2026-11-25'));
    const summary = await run();
    expect(summary.failureReason).toBeUndefined();
    expect(summary.status).toBe('success');
    const models = summary.nodes.filter((n) => n.resourceType === 'model');
    expect(models.map((m) => [m.name, m.status])).toEqual(
      expect.arrayContaining([
        ['dim_coins', 'success'],
        ['fct_price_anomalies', 'success'],
      ]),
    );
    expect(models.every((m) => m.status === 'success')).toBe(true);
    expect(
      summary.nodes.filter((n) => n.resourceType === 'test' && n.status !== 'pass' && n.status !== 'warn'),
    ).toEqual([]);
    expect(summary.nodes.find((n) => n.resourceType === 'source')).toMatchObject({
      name: 'coingecko.coin_market_snapshots',
      status: 'pass',
    });
    expect(await martCandles(db.pool, MARTS, 'hourly')).toEqual(await expectedCandles(db.pool, 'hour'));
    expect(await martCandles(db.pool, MARTS, 'daily')).toEqual(await expectedCandles(db.pool, 'day'));
  });

  it('builds dim_coin_freshness with the STALE_AFTER the worker is configured with', async () => {
    // Built the way the transform worker builds it: the runner TRANSFORM_RUNNER picks, vars from the configuration.
    const build = async (env: Record<string, string>) => {
      const configured = testConfig({
        databaseUrl: db.url,
        prefix: testPrefix(),
        coingeckoUrl: 'http://127.0.0.1:9/api/v3',
        env: { TRANSFORM_RUNNER: 'bundled', ...env },
      });
      const { summary } = await executeTransformRun(db.pool, resolveTransformRunner(configured, { PATH: '' }), {
        runId: 'mtest',
        signal,
        log: rootLogger,
      });
      expect(summary.status).toBe('success');
    };
    // Every coin's newest snapshot loaded 10 minutes ago, as the view sees it in a transaction rolled back.
    const tenMinutesOld = async () => {
      const client = await db.pool.connect();
      try {
        await client.query('begin');
        await client.query(`update ${MARTS}.dim_coins set loaded_at = now() - interval '10 minutes'`);
        return (await client.query(`select distinct stale_after_seconds, is_stale from ${MARTS}.dim_coin_freshness`))
          .rows;
      } finally {
        await client.query('rollback');
        client.release();
      }
    };
    await build({ STALE_AFTER: '7m' });
    expect(await tenMinutesOld()).toEqual([{ stale_after_seconds: 420, is_stale: true }]);
    await build({ STALE_AFTER: '20m' });
    expect(await tenMinutesOld()).toEqual([{ stale_after_seconds: 1200, is_stale: false }]);
  });

  it('corrects an hour already aggregated when a late batch arrives, and re-runs change nothing', async () => {
    // A new hour moves the watermark on; then a late snapshot lands inside 04:00, already aggregated.
    await insertSnapshots(db.pool, [{ coinId: 'bitcoin', at: '2026-11-25T06:05:00Z', price: 130 }]);
    await run();
    await insertSnapshots(db.pool, [{ coinId: 'bitcoin', at: '2026-11-25T04:59:00Z', price: 999, runId: 'mlate' }]);
    await run();
    // Later still, one observed before the hour's last snapshot (04:59): the hour is aggregated again.
    await insertSnapshots(db.pool, [{ coinId: 'bitcoin', at: '2026-11-25T04:25:00Z', price: 50, runId: 'mlater' }]);
    await run();
    await run();
    const hourly = await martCandles(db.pool, MARTS, 'hourly');
    expect(
      hourly.find(
        (c) => c.coin_id === 'bitcoin' && (c.bucket_start as Date).toISOString() === '2026-11-25T04:00:00.000Z',
      ),
    ).toMatchObject({ high_price: 999, low_price: 50, close_price: 999, snapshot_count: 4 });
    expect(hourly).toEqual(await expectedCandles(db.pool, 'hour'));
    expect(await martCandles(db.pool, MARTS, 'daily')).toEqual(await expectedCandles(db.pool, 'day'));
  });

  it('builds independent incremental models side by side, and one held back holds back only its own children', async () => {
    await insertSnapshots(db.pool, [{ coinId: 'ethereum', at: '2026-11-25T06:20:00Z', price: 250 }]);
    // Two tables locked by someone else: the daily candles' (a branch off the hourly candles), and the
    // anomaly scores' at the end of the hourly chain (candles -> returns -> anomalies, later in the plan).
    const DAILY = 'analytics_marts.fct_coin_candles_daily';
    const ANOMALIES = 'analytics_marts.fct_price_anomalies';
    const HOURLY_CHAIN = ['fct_coin_returns_hourly', 'fct_market_overview_hourly', 'fct_price_anomalies'];
    const dailyHolder = await db.pool.connect();
    const anomaliesHolder = await db.pool.connect();
    const { log, built } = recordingLogger();
    let running: Promise<TransformRunSummary> | undefined;
    let runDone = false;
    try {
      for (const [holder, table] of [
        [dailyHolder, DAILY],
        [anomaliesHolder, ANOMALIES],
      ] as const) {
        await holder.query('begin');
        await holder.query(`lock table ${table} in access exclusive mode`);
      }
      running = run({ log }).finally(() => {
        runDone = true;
      });
      // Side by side: the daily merge and the anomaly scores' merge both wait on their locks at once.
      // A runner building one node at a time would never start the second while the first waits.
      await waitFor('the daily and the anomaly merges waiting on their locks at once', async () =>
        isDeepStrictEqual(await lockWaits(db.pool), [DAILY, ANOMALIES].sort()),
      );
      await anomaliesHolder.query('commit');
      // The hourly chain then finishes while the daily merge still waits: held back, it holds back
      // nothing beside it.
      await waitFor('the runner to report the hourly chain built', async () =>
        HOURLY_CHAIN.every((name) => built.includes(name)),
      );
      expect(await lockWaits(db.pool)).toEqual([DAILY]);
      expect(built).not.toContain('fct_coin_candles_daily');
      expect(runDone).toBe(false);
      await dailyHolder.query('commit');
      const summary = await running;
      expect(summary.status).toBe('success');
      // The runner records each node as it finishes: the daily candles after the hourly chain; its
      // events said the same while it ran.
      const finished = summary.nodes
        .filter((n) => n.resourceType === 'model' && n.status === 'success')
        .map((n) => n.name);
      expect(finished).toEqual(built);
      const daily = finished.indexOf('fct_coin_candles_daily');
      for (const name of HOURLY_CHAIN) expect([name, finished.indexOf(name) < daily]).toEqual([name, true]);
    } finally {
      for (const holder of [dailyHolder, anomaliesHolder]) {
        await holder.query('rollback').catch(() => undefined);
        holder.release();
      }
      await running?.catch(() => undefined);
    }
    expect(await martCandles(db.pool, MARTS, 'daily')).toEqual(await expectedCandles(db.pool, 'day'));
  });

  it('leaves the incremental models (aggregates, latest state, returns, market overview, anomalies) equal to a full refresh', async () => {
    const tables = [
      'analytics_intermediate.int_coin_prices__hourly',
      'analytics_marts.dim_coins',
      'analytics_marts.fct_coin_returns_hourly',
      'analytics_marts.fct_market_overview_hourly',
      'analytics_marts.fct_price_anomalies',
    ];
    const snapshot = async () =>
      Promise.all(tables.map(async (t) => (await db.pool.query(`select * from ${t} order by 1, 2`)).rows));
    expect((await snapshot()).every((rows) => rows.length > 0)).toBe(true);
    const incremental = await snapshot();
    const refreshed = await run({ fullRefresh: true });
    expect(refreshed.status).toBe('success');
    expect(await snapshot()).toEqual(incremental);
  });

  it('fails the run naming the error-severity test a negative price breaks, and builds nothing downstream', async () => {
    const before = await martCandles(db.pool, MARTS, 'hourly');
    await insertSnapshots(db.pool, [{ coinId: 'solana', at: '2026-11-25T06:20:00Z', price: -5 }]);
    const summary = await run();
    expect(summary.status).toBe('error');
    expect(summary.failureReason).toMatch(/failing tests: assert_no_negative_prices \(1 rows\)/);
    expect(summary.nodes.find((n) => n.name === 'int_coin_prices__hourly')).toMatchObject({ status: 'skipped' });
    expect(await martCandles(db.pool, MARTS, 'hourly')).toEqual(before);
    await db.pool.query('delete from raw.coin_market_snapshots where current_price < 0');
  });

  it('records an upstream 24h range with high below low as a warning, not a failure', async () => {
    await insertSnapshots(db.pool, [
      { coinId: 'ethereum', at: '2026-11-25T06:25:00Z', price: 220, high24h: 200, low24h: 240 },
    ]);
    const summary = await run();
    expect(summary.status).toBe('success');
    expect(summary.nodes.find((n) => n.name === 'assert_snapshot_24h_range_consistent')).toMatchObject({
      status: 'warn',
      failures: 1,
    });
    expect(summary.detail).toMatch(/warnings: .*assert_snapshot_24h_range_consistent/);
  });

  describe('raw retention', () => {
    it('drops aged partitions whose candles exist and keeps those with unaggregated snapshots', async () => {
      // 2026-11-25 is aggregated above; 2026-11-20 arrives too late for the look-back window.
      await insertSnapshots(db.pool, [{ coinId: 'bitcoin', at: '2026-11-20T12:00:00Z', price: 90 }]);
      await run();
      const outcome = await dropAgedRawPartitions(db.pool, {
        retentionDays: 1,
        martsSchema: MARTS,
        vsCurrency: 'usd',
        lockTimeoutMs: 1000,
        now: new Date('2026-11-27T08:00:00Z'),
      });
      expect(outcome).toEqual({
        dropped: ['coin_market_snapshots_p20261125'],
        kept: ['coin_market_snapshots_p20261120'],
        busy: [],
      });
      const left = await db.pool.query(
        "select to_regclass('raw.coin_market_snapshots_p20261125') as gone, count(*)::int as n from raw.coin_market_snapshots",
      );
      expect(left.rows[0]).toEqual({ gone: null, n: 1 });
      // The marts keep the history the dropped partition held.
      expect(
        (await martCandles(db.pool, MARTS, 'hourly')).filter((c) =>
          (c.bucket_start as Date).toISOString().startsWith('2026-11-25'),
        ).length,
      ).toBeGreaterThan(9);
      expect((await run()).status).toBe('success');
    });

    it('keeps everything when retention is 0', async () => {
      expect(
        await dropAgedRawPartitions(db.pool, {
          retentionDays: 0,
          martsSchema: MARTS,
          vsCurrency: 'usd',
          lockTimeoutMs: 1000,
        }),
      ).toEqual({ dropped: [], kept: [], busy: [] });
    });
  });

  describe('unsupported constructs', () => {
    let copy: string;
    beforeEach(() => {
      copy = mkdtempSync(join(tmpdir(), 'cdp-dbt-copy-'));
      cpSync(findProjectDir(), copy, { recursive: true });
    });
    afterEach(() => rmSync(copy, { recursive: true, force: true }));

    it('rejects a model calling a macro, naming the file and the macro, before building anything', async () => {
      const model = join(copy, 'models/marts/market/fct_with_macro.sql');
      writeFileSync(model, "select {{ cents_to_dollars('price') }} as price_usd from {{ ref('dim_coins') }}\n");
      await expect(run({ projectDir: copy })).rejects.toThrow(
        /models\/marts\/market\/fct_with_macro\.sql: unsupported construct: macro or function 'cents_to_dollars'/,
      );
    });

    it('rejects a package macro', async () => {
      writeFileSync(
        join(copy, 'models/marts/market/fct_keyed.sql'),
        "select {{ dbt_utils.generate_surrogate_key(['coin_id']) }} as k from {{ ref('dim_coins') }}\n",
      );
      await expect(run({ projectDir: copy })).rejects.toThrow(
        /fct_keyed\.sql: unsupported construct: macro or function 'dbt_utils\.generate_surrogate_key'/,
      );
    });

    it('rejects what it does not support inside a project macro, naming the macro file and the construct', async () => {
      const cases: [macro: string, error: RegExp][] = [
        [
          '{% macro m() %}{% if execute %}select 1{% endif %}{% endmacro %}',
          /macros\/bad\.sql: unsupported construct: dbt's 'execute'/,
        ],
        [
          "{% macro m() %}{{ adapter.dispatch('m')() }}{% endmacro %}",
          /macros\/bad\.sql: unsupported construct: macro or function 'adapter\.dispatch'/,
        ],
        [
          "{% macro m() %}{% set rows = run_query('select 1') %}{{ rows }}{% endmacro %}",
          /macros\/bad\.sql: unsupported construct: macro or function 'run_query'/,
        ],
        [
          "{% macro m() %}{% call statement('x') %}select 1{% endcall %}{% endmacro %}",
          /macros\/bad\.sql: unsupported construct: \{% call %\} block/,
        ],
        [
          'select 1\n{% macro m() %}1{% endmacro %}',
          /macros\/bad\.sql: unsupported construct: 'select 1' outside a \{% macro %\} block/,
        ],
        [
          '{% macro generate_schema_name(custom, node) %}{{ custom }}{% endmacro %}',
          /macros\/bad\.sql: unsupported construct: macro 'generate_schema_name'/,
        ],
        // Only seen when rendering the model that calls it: the error still names the macro's file.
        [
          "\n\n{% macro m() %}\n  {{ dbt_utils.star(ref('dim_coins')) }}\n{% endmacro %}",
          /macros\/bad\.sql: unsupported construct: macro or function 'dbt_utils\.star'/,
        ],
      ];
      writeFileSync(
        join(copy, 'models/marts/market/fct_calls_m.sql'),
        "{{ config(materialized='table') }}\nselect {{ m() }} as x\n",
      );
      for (const [macro, error] of cases) {
        writeFileSync(join(copy, 'macros/bad.sql'), `${macro}\n`);
        await expect(run({ projectDir: copy })).rejects.toThrow(error);
      }
    });

    it("runs project macros from any model, in the calling model's context, across macro files", async () => {
      // dbt makes project macros global and renders them with the caller's this, is_incremental() and ref.
      writeFileSync(
        join(copy, 'macros/money.sql'),
        '{% macro cents_to_dollars(column, scale=100) -%}\n  ({{ column }}::numeric / {{ scale }})\n{%- endmacro %}\n',
      );
      writeFileSync(
        join(copy, 'macros/probe.sql'),
        [
          '{# The model that renders it, and how. #}',
          "{% macro build_label() -%}'{{ this.identifier }}:{{ 'incremental' if is_incremental() else 'full' }}:{{ cents_to_dollars(250) }}'{%- endmacro %}",
          "{% macro coins() %}{{ ref('dim_coins') }}{% endmacro %}",
          '',
        ].join('\n'),
      );
      writeFileSync(
        join(copy, 'models/marts/market/fct_macro_probe.sql'),
        [
          "{{ config(materialized='incremental', unique_key='coin_count') }}",
          "select count(*) as coin_count, {{ cents_to_dollars('12345') }} as dollars, {{ cents_to_dollars('12345', scale=1000) }} as thousandths,",
          '       {{ build_label() }} as label',
          'from {{ coins() }}',
          '',
        ].join('\n'),
      );
      const probe = async () =>
        (
          await db.pool.query(
            'select coin_count::int, dollars::float8, thousandths::float8, label from analytics_marts.fct_macro_probe',
          )
        ).rows;
      try {
        const first = await run({ projectDir: copy });
        expect(first.status).toBe('success');
        // The ref inside coins() orders the probe after dim_coins.
        const names = first.nodes.filter((n) => n.resourceType === 'model').map((n) => n.name);
        expect(names.indexOf('fct_macro_probe')).toBeGreaterThan(names.indexOf('dim_coins'));
        const coins = (await db.pool.query('select count(*)::int as n from analytics_marts.dim_coins')).rows[0]
          .n as number;
        expect(await probe()).toEqual([
          {
            coin_count: coins,
            dollars: 123.45,
            thousandths: 12.345,
            label: 'fct_macro_probe:full:(250::numeric / 100)',
          },
        ]);
        expect((await run({ projectDir: copy })).status).toBe('success');
        expect(await probe()).toEqual([
          expect.objectContaining({ label: 'fct_macro_probe:incremental:(250::numeric / 100)' }),
        ]);
      } finally {
        await db.pool.query('drop table if exists analytics_marts.fct_macro_probe');
      }
    });

    it('rejects another materialization and another incremental strategy', async () => {
      writeFileSync(
        join(copy, 'models/marts/market/fct_eph.sql'),
        "{{ config(materialized='ephemeral') }}\nselect 1 as x\n",
      );
      await expect(run({ projectDir: copy })).rejects.toThrow(
        /fct_eph\.sql: unsupported construct: materialized='ephemeral'/,
      );
      writeFileSync(
        join(copy, 'models/marts/market/fct_eph.sql'),
        "{{ config(materialized='incremental', incremental_strategy='merge', unique_key='x') }}\nselect 1 as x\n",
      );
      await expect(run({ projectDir: copy })).rejects.toThrow(
        /fct_eph\.sql: unsupported construct: incremental_strategy='merge'/,
      );
    });
  });
});

describe.each(MODES)(`${BundledRunner.name}: incremental returns and anomaly scores, %s`, (_mode, runAs) => {
  let db: TestDatabase;
  let config: AppConfig;
  const run = (fullRefresh = false) =>
    runAs(db.pool, new BundledRunner({ projectDir: findProjectDir(), config, vars: dbtVars(config) }), {
      runId: 'mreturns',
      fullRefresh,
    });
  const tables = [
    'analytics_intermediate.int_coin_prices__hourly',
    'analytics_marts.fct_coin_returns_hourly',
    'analytics_marts.fct_price_anomalies',
  ];
  const contents = async () =>
    Promise.all(tables.map(async (t) => (await db.pool.query(`select * from ${t} order by 1, 2`)).rows));

  /** Two snapshots an hour with prices no float sum rounds the same in every order. */
  const hour = (h: number, coins = ['bitcoin', 'ethereum', 'solana']): RawSnapshot[] =>
    coins.flatMap((coinId, c) =>
      [10, 40].map((minute) => ({
        coinId,
        at: new Date(Date.UTC(2026, 10, 20, h, minute)).toISOString(),
        price: 100 * (c + 1) * (1 + 0.03 * Math.sin(h * 0.7 + c + minute / 60) + (h === 30 && c === 0 ? 0.4 : 0)),
        rank: c + 1,
      })),
    );

  beforeAll(async () => {
    db = await createTestDatabase();
    config = testConfig({
      databaseUrl: db.url,
      prefix: testPrefix(),
      coingeckoUrl: 'http://127.0.0.1:9/api/v3',
      env: { TRANSFORM_RUNNER: 'bundled' },
    });
  });
  afterAll(() => db.drop());

  it('equal a full refresh after a day and a half of ticks, a late snapshot and a corrected close', async () => {
    for (let h = 0; h < 36; h += 2) {
      await insertSnapshots(db.pool, [...hour(h), ...hour(h + 1)]);
      expect((await run()).status).toBe('success');
      // A late snapshot inside the look-back window changes a close two hours back.
      if (h === 26) {
        await insertSnapshots(db.pool, [{ coinId: 'ethereum', at: '2026-11-21T01:55:00Z', price: 171.123456789 }]);
        expect((await run()).status).toBe('success');
      }
    }
    const incremental = await contents();
    const returns = incremental[1]!;
    // The test means something only if the rolling windows and the anomaly baseline filled up.
    expect(
      returns.filter((r) => r.volatility_24h !== null && Number(r.return_count_24h) === 24).length,
    ).toBeGreaterThan(20);
    expect(
      incremental[2]!.filter((r) => r.robust_z_score !== null && Number(r.observation_count) >= 12).length,
    ).toBeGreaterThan(20);
    expect(incremental[2]!.some((r) => r.is_anomaly === true)).toBe(true);
    expect((await run(true)).status).toBe('success');
    expect(await contents()).toEqual(incremental);
  });

  it('scores a price flat most hours (MAD 0) by the mean absolute deviation, in full and incremental runs', async () => {
    // A stablecoin: 1.0 every hour but every fifth, 1.002. Most of its returns are 0, so the median and
    // the MAD are 0 and the score falls back to (r - median) / (1.253314 * mean absolute deviation).
    const stable = (h: number) =>
      [10, 40].map((minute) => ({
        coinId: 'tether',
        at: new Date(Date.UTC(2026, 10, 20, h, minute)).toISOString(),
        price: h % 5 === 4 ? 1.002 : 1,
        rank: 4,
      }));
    await insertSnapshots(db.pool, Array.from({ length: 36 }, (_, h) => stable(h)).flat());
    expect((await run(true)).status).toBe('success');
    await insertSnapshots(db.pool, [...hour(36), ...stable(36), ...hour(37), ...stable(37)]);
    expect((await run()).status).toBe('success');

    const returns = (
      await db.pool.query(
        "select bucket_start, log_return_1h from analytics_marts.fct_coin_returns_hourly where coin_id = 'tether' and log_return_1h is not null order by bucket_start",
      )
    ).rows as { bucket_start: Date; log_return_1h: number }[];
    const scores = (
      await db.pool.query(
        "select bucket_start, median_log_return, mad_log_return, mean_abs_deviation, observation_count::int, robust_z_score from analytics_marts.fct_price_anomalies where coin_id = 'tether' order by bucket_start",
      )
    ).rows;
    const median = (xs: number[]) => {
      const s = [...xs].sort((a, b) => a - b);
      return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
    };
    // The baseline leaves the scored hour out: the returns of the 168 hours' window before it.
    const expected = returns.map(({ bucket_start, log_return_1h: r }) => {
      const window = returns
        .filter(
          (x) => x.bucket_start < bucket_start && x.bucket_start.getTime() > bucket_start.getTime() - 168 * 3_600_000,
        )
        .map((x) => x.log_return_1h);
      if (window.length === 0) return { bucket_start, median: null, mad: null, meanAd: null, count: 0, z: null };
      const m = median(window);
      const mad = median(window.map((x) => Math.abs(x - m)));
      const meanAd = window.reduce((sum, x) => sum + Math.abs(x - m), 0) / window.length;
      return {
        bucket_start,
        median: m,
        mad,
        meanAd,
        count: window.length,
        z: mad > 0 ? (0.6745 * (r - m)) / mad : meanAd > 0 ? (r - m) / (1.253314 * meanAd) : null,
      };
    });
    expect(scores.map((s) => s.bucket_start)).toEqual(expected.map((e) => e.bucket_start));
    // Hours whose score came from the fallback, among them the incrementally scored last two.
    const fallback = expected.filter((e) => e.mad === 0 && e.z !== null);
    expect(fallback.length).toBeGreaterThan(10);
    expect(fallback.map((e) => e.bucket_start)).toEqual(
      expect.arrayContaining([new Date('2026-11-21T12:00:00Z'), new Date('2026-11-21T13:00:00Z')]),
    );
    // The first return has an empty window: no baseline, no score.
    expect(expected[0]).toMatchObject({ count: 0, z: null });
    scores.forEach((s, i) => {
      const e = expected[i]!;
      const close = (v: number | null) => (v === null ? null : expect.closeTo(v, 12));
      expect([s.observation_count, s.median_log_return, s.mad_log_return, s.mean_abs_deviation]).toEqual([
        e.count,
        close(e.median),
        close(e.mad),
        close(e.meanAd),
      ]);
      if (e.z === null) expect(s.robust_z_score).toBeNull();
      else expect(s.robust_z_score).toBeCloseTo(e.z, 6);
    });
  });

  it('extends an hour tick by tick to the floats of a full refresh, and aggregates it again when a late snapshot falls before its last one', async () => {
    const at = (minute: number) => new Date(Date.UTC(2026, 10, 21, 13, minute)).toISOString();
    // Prices of different magnitudes: added up in another grouping their float sum differs (checked
    // below), so an extension that added a tick's sum to the stored one would not equal a full refresh.
    const ticks: [minute: number, price: number][][] = [
      [[5, 1e8 + 0.1]],
      [
        [15, 0.123456789],
        [20, 0.987654321],
      ],
      [[30, 12345.678901]],
      [[10, 0.00731]], // late: before 13:30, the last snapshot the hour holds
      [
        [45, 0.213],
        [50, 1e8 + 0.777],
        [55, 3.3001],
      ],
    ];
    const inOrder = ticks
      .flat()
      .sort((a, b) => a[0] - b[0])
      .map(([, price]) => price);
    const fold = inOrder.reduce((sum, price) => sum + price);
    expect(
      inOrder.slice(0, 5).reduce((sum, price) => sum + price) + ticks[4]!.reduce((sum, [, price]) => sum + price, 0),
    ).not.toBe(fold);
    const daily = async () =>
      (
        await db.pool.query(
          "select price_sum, avg_price, point_count::int from analytics_marts.fct_coin_candles_daily where coin_id = 'cardano'",
        )
      ).rows;
    for (const tick of ticks) {
      await insertSnapshots(
        db.pool,
        tick.map(([minute, price]) => ({ coinId: 'cardano', at: at(minute), price, rank: 5 })),
      );
      const summary = await run();
      expect(summary.status).toBe('success');
      // Only cardano's hour is written. By hand, the hours the loaded_lookback_minutes overlap touches
      // again (the tether test's, loaded seconds ago) hold every one of their snapshots and are left as
      // they are; the worker's runs do not read them at all.
      expect(summary.nodes.find((n) => n.name === 'int_coin_prices__hourly')).toMatchObject({
        status: 'success',
        rowsAffected: 1,
      });
    }
    const cardano = async () =>
      (await db.pool.query("select * from analytics_intermediate.int_coin_prices__hourly where coin_id = 'cardano'"))
        .rows;
    expect(await cardano()).toEqual([
      expect.objectContaining({
        open_price: 1e8 + 0.1,
        high_price: 1e8 + 0.777,
        low_price: 0.00731,
        close_price: 3.3001,
        price_sum: fold,
        avg_price: fold / 8,
        snapshot_count: 8,
        first_observed_at: new Date(at(5)),
        last_observed_at: new Date(at(55)),
      }),
    ]);
    // The day rolls up its hours' price_sum in hour order: the hour's float, not a re-added one.
    expect(await daily()).toEqual([{ price_sum: fold, avg_price: fold / 8, point_count: 8 }]);
    const incremental = await contents();
    expect((await run(true)).status).toBe('success');
    expect(await contents()).toEqual(incremental);

    // The next tick extends the stored row: a value planted in it stays (aggregated again, it would not).
    await db.pool.query(
      "update analytics_intermediate.int_coin_prices__hourly set open_price = 42 where coin_id = 'cardano'",
    );
    await insertSnapshots(db.pool, [{ coinId: 'cardano', at: at(58), price: 7.5, rank: 5 }]);
    expect((await run()).status).toBe('success');
    expect(await cardano()).toEqual([
      expect.objectContaining({ open_price: 42, close_price: 7.5, price_sum: fold + 7.5, snapshot_count: 9 }),
    ]);
    expect((await run(true)).status).toBe('success');
    expect(await cardano()).toEqual([
      expect.objectContaining({ open_price: 1e8 + 0.1, price_sum: fold + 7.5, snapshot_count: 9 }),
    ]);
  });

  it('re-scores the newest hour against its stored baseline, and computes the baseline again when an earlier hour changes', async () => {
    const newest = "coin_id = 'bitcoin' and bucket_start = '2026-11-21T13:00:00Z'";
    const row = async () =>
      (
        await db.pool.query(
          `select log_return_1h, median_log_return, mad_log_return, mean_abs_deviation, observation_count::int, robust_z_score from analytics_marts.fct_price_anomalies where ${newest}`,
        )
      ).rows[0];
    const computed = await row();
    expect(computed.observation_count).toBe(36); // 01:00 on the 20th to 12:00 on the 21st: the hour itself left out
    // A baseline planted in the row: a tick inside the hour moves its close and return, and the score
    // uses the stored baseline (it depends only on earlier hours, which did not change).
    await db.pool.query(
      `update analytics_marts.fct_price_anomalies set median_log_return = 0.5, mad_log_return = 0.01 where ${newest}`,
    );
    await insertSnapshots(db.pool, [{ coinId: 'bitcoin', at: '2026-11-21T13:50:00Z', price: 103.25, rank: 1 }]);
    expect((await run()).status).toBe('success');
    const rescored = await row();
    expect(rescored.log_return_1h).not.toBe(computed.log_return_1h);
    expect(rescored).toMatchObject({ median_log_return: 0.5, mad_log_return: 0.01, observation_count: 36 });
    expect(rescored.robust_z_score).toBeCloseTo((0.6745 * (rescored.log_return_1h - 0.5)) / 0.01, 9);
    // A late snapshot changes 12:00's close, so its return and 13:00's: 13:00's window changed, and its
    // baseline is computed again (the planted one goes), equal to a full refresh.
    await insertSnapshots(db.pool, [{ coinId: 'bitcoin', at: '2026-11-21T12:55:00Z', price: 98.5, rank: 1 }]);
    expect((await run()).status).toBe('success');
    const recomputed = await row();
    expect(recomputed.median_log_return).not.toBe(0.5);
    expect(recomputed.mad_log_return).not.toBe(0.01);
    const incremental = await contents();
    expect((await run(true)).status).toBe('success');
    expect(await contents()).toEqual(incremental);
  });
});
