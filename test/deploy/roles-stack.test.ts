/**
 * The stack as compose.yaml wires it, run for real without Docker: every process kind connects as the
 * database role its compose service's DATABASE_URL names (read from compose.yaml, not restated here),
 * and real ticks go end to end: universe refresh, fetch, COPY load, the bundled dbt run, the dashboard
 * reading the marts. A grant missing for any kind shows up as a failed job or a "permission denied".
 *
 * Locally the test logs in as the superuser and switches role at connect (`options=-c role=…`): the
 * privilege checks are the role's, which is what the compose passwords would give.
 */
import { testEnv } from '../helpers/config.js';
import { urlAsRole } from '../helpers/database.js';
import { InProcessPipeline } from '../helpers/pipeline.js';
import { PipelineProcess } from '../helpers/processes.js';
import { createScenario, refreshUniverse, runTick, type Scenario } from '../helpers/scenario.js';
import { environmentOf, loadCompose } from './compose-file.js';

const KIND_OF_SERVICE = {
  scheduler: 'scheduler',
  'fetch-worker': 'fetch',
  'load-worker': 'load',
  'transform-worker': 'transform',
  dashboard: 'dashboard',
} as const;
type Service = keyof typeof KIND_OF_SERVICE;

/** The role each app service logs in as, from compose.yaml (with placeholder secrets interpolated). */
function composeRoles(): Record<Service, string> {
  const { compose } = loadCompose();
  const secrets = Object.fromEntries(
    [
      'POSTGRES_PASSWORD',
      'REDIS_PASSWORD',
      'CDP_LOADER_PASSWORD',
      'CDP_TRANSFORMER_PASSWORD',
      'CDP_READER_PASSWORD',
      'COINGECKO_API_KEY',
      'DASHBOARD_PASSWORD',
    ].map((k) => [k, 'x']),
  );
  return Object.fromEntries(
    Object.keys(KIND_OF_SERVICE).map((service) => [
      service,
      new URL(environmentOf(compose.services[service]!, secrets).DATABASE_URL!).username,
    ]),
  ) as Record<Service, string>;
}

describe('every process kind under the database role compose.yaml gives it', () => {
  const roles = composeRoles();
  let scenario: Scenario;
  let client: InProcessPipeline;
  const processes = new Map<Service, PipelineProcess>();

  // A pinned market clock moved a minute per tick, so every tick brings every coin a new snapshot.
  let now = Date.UTC(2026, 10, 27, 9, 0);

  beforeAll(async () => {
    scenario = await createScenario({ coins: 400, stepMs: 1000, staleFraction: 0, clock: () => now });
  });
  afterAll(async () => {
    await Promise.all([...processes.values()].map((p) => p.kill('SIGTERM')));
    await client?.stop();
    await scenario.teardown();
  });

  it('uses a least-privilege role for every long-running kind', () => {
    expect(roles).toEqual({
      scheduler: 'cdp_loader',
      'fetch-worker': 'cdp_loader',
      'load-worker': 'cdp_loader',
      'transform-worker': 'cdp_transformer',
      dashboard: 'cdp_reader',
    });
  });

  it('runs real ticks end to end, builds the marts as cdp_transformer, and serves them as cdp_reader', async () => {
    const base = testEnv({
      databaseUrl: scenario.db.url,
      prefix: scenario.prefix,
      coingeckoUrl: scenario.simulator.url,
    });
    for (const [service, kind] of Object.entries(KIND_OF_SERVICE) as [Service, (typeof KIND_OF_SERVICE)[Service]][]) {
      processes.set(
        service,
        new PipelineProcess(kind, {
          ...base,
          DATABASE_URL: urlAsRole(scenario.db.url, roles[service]),
          LOG_LEVEL: 'info',
          TRACK_TOP_N: '400',
          SCHEDULE_ENABLED: 'false',
          TRANSFORM_RUNNER: 'bundled',
          DASHBOARD_PORT: '0',
          DASHBOARD_HOST: '127.0.0.1',
        }),
      );
    }
    await Promise.all(
      (['scheduler', 'fetch-worker', 'load-worker', 'transform-worker'] as const).map((s) =>
        processes.get(s)!.waitForLog(s === 'scheduler' ? 'scheduler started' : `${KIND_OF_SERVICE[s]} worker started`),
      ),
    );
    await processes.get('dashboard')!.waitForLog('dashboard listening');

    client = new InProcessPipeline(scenario.config({ TRACK_TOP_N: '400' }));
    await refreshUniverse(client.runtime);
    // Two ticks: the first builds every model, the second runs the incremental path over them.
    for (let i = 0; i < 2; i++) {
      now += 60_000;
      const { run, transform } = await runTick(client.runtime, scenario.db);
      expect({
        status: run.status,
        rows: run.rows_loaded,
        transform: await transform.getState(),
        reason: transform.failedReason,
      }).toEqual({
        status: 'loaded',
        rows: 400,
        transform: 'completed',
        reason: undefined,
      });
    }

    const pool = scenario.db.pool;
    // What the transformer built is its own, so the reader's default privileges applied to it.
    const owners = (
      await pool.query<{ owner: string; n: number }>(
        `select tableowner as owner, count(*)::int as n from pg_tables where schemaname like 'analytics%' group by 1`,
      )
    ).rows;
    expect(owners).toEqual([{ owner: 'cdp_transformer', n: expect.any(Number) }]);
    expect((await pool.query(`select count(*)::int as n from raw.coin_market_snapshots`)).rows[0].n).toBe(800);

    const port = new URL(
      processes
        .get('dashboard')!
        .logs()
        .find((l) => l.message === 'dashboard listening')!.url as string,
    ).port;
    const get = async (path: string) => {
      const response = await fetch(`http://127.0.0.1:${port}${path}`);
      return { path, status: response.status, body: await response.text() };
    };
    expect(await get('/readyz')).toMatchObject({ status: 200 });
    for (const path of [
      '/api/v1/market/overview',
      '/api/v1/coins?pageSize=5',
      '/api/v1/coins/bitcoin',
      '/api/v1/coins/bitcoin/candles?interval=hourly&range=24h',
      '/api/v1/pipeline/transform-runs',
      '/api/v1/pipeline/freshness',
      '/api/v1/runs',
      '/',
    ]) {
      const response = await get(path);
      expect({ path, status: response.status }).toEqual({ path, status: 200 });
    }
    expect(JSON.parse((await get('/api/v1/coins/bitcoin')).body)).toMatchObject({ coin: { id: 'bitcoin' } });

    for (const [service, process] of processes) {
      const denied = process.lines.filter((line) => /permission denied|must be owner/i.test(line));
      expect({ service, denied }).toEqual({ service, denied: [] });
    }
  });
});
