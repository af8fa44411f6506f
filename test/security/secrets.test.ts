import type { Redis } from 'ioredis';
import { testEnv } from '../helpers/config.js';
import { PipelineProcess } from '../helpers/processes.js';
import { createScenario, refreshUniverse, runTick, type Scenario } from '../helpers/scenario.js';
import { InProcessPipeline } from '../helpers/pipeline.js';

// Sentinel secrets: if any of these strings shows up anywhere observable, a secret leaked.
const SECRETS = {
  apiKey: 'sentinelApiKey_7f3a9c2e1b',
  dbPassword: 'sentinelDbPass_4e8d2a',
  redisPassword: 'sentinelRedisPass_9b1c',
  dashboardPassword: 'sentinelDashPass_5f6e7d',
};

/** Every value stored under `prefix` in Redis, whatever the key type, as text. */
async function dumpPrefix(redis: Redis, prefix: string): Promise<string[]> {
  const out: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
    cursor = next;
    for (const key of keys) {
      out.push(key);
      const type = await redis.type(key);
      if (type === 'string') out.push((await redis.get(key)) ?? '');
      else if (type === 'hash') out.push(JSON.stringify(await redis.hgetall(key)));
      else if (type === 'list') out.push(JSON.stringify(await redis.lrange(key, 0, -1)));
      else if (type === 'set') out.push(JSON.stringify(await redis.smembers(key)));
      else if (type === 'zset') out.push(JSON.stringify(await redis.zrange(key, 0, -1)));
      else if (type === 'stream') out.push(JSON.stringify(await redis.xrange(key, '-', '+')));
    }
  } while (cursor !== '0');
  return out;
}

describe('secrets never leak', () => {
  let scenario: Scenario;
  let client: InProcessPipeline;
  const processes: PipelineProcess[] = [];

  beforeAll(async () => {
    scenario = await createScenario({ coins: 300, stepMs: 500, apiKey: SECRETS.apiKey, plan: 'demo' });
  });
  afterAll(async () => {
    await Promise.all(processes.map((p) => p.kill('SIGTERM')));
    await client?.stop();
    await scenario.teardown();
  });

  it('appear in no log line, Redis record, job, metric or HTTP response during real ticks', async () => {
    const databaseUrl = new URL(scenario.db.url);
    databaseUrl.password = SECRETS.dbPassword; // trust auth here: accepted, and still a secret to hide
    const env = {
      ...testEnv({
        databaseUrl: databaseUrl.toString(),
        prefix: scenario.prefix,
        coingeckoUrl: scenario.simulator.url,
      }),
      REDIS_URL: `redis://:${SECRETS.redisPassword}@127.0.0.1:6379`,
      COINGECKO_PLAN: 'demo',
      COINGECKO_API_KEY: SECRETS.apiKey,
      DASHBOARD_USER: 'admin',
      DASHBOARD_PASSWORD: SECRETS.dashboardPassword,
      TRACK_TOP_N: '300',
      SCHEDULE_ENABLED: 'false',
      TRANSFORM_RUNNER: 'bundled',
      LOG_LEVEL: 'debug',
      METRICS_ENABLED: 'true',
      METRICS_PORT: '0',
      METRICS_HOST: '127.0.0.1',
      DASHBOARD_PORT: '0',
      DASHBOARD_HOST: '127.0.0.1',
    };
    for (const kind of ['scheduler', 'fetch', 'load', 'transform', 'dashboard'] as const)
      processes.push(new PipelineProcess(kind, env));
    await Promise.all(
      processes
        .slice(0, 4)
        .map((p, i) => p.waitForLog(`${['scheduler', 'fetch worker', 'load worker', 'transform worker'][i]} started`)),
    );
    await processes[4]!.waitForLog('dashboard listening');

    client = new InProcessPipeline(
      scenario.config({ COINGECKO_PLAN: 'demo', COINGECKO_API_KEY: SECRETS.apiKey, TRACK_TOP_N: '300' }),
    );
    await refreshUniverse(client.runtime);
    // One clean tick, one with CoinGecko errors on the way (error paths build messages from responses).
    await runTick(client.runtime, scenario.db);
    scenario.simulator.control.setFaults({
      failNext: [
        { count: 2, kind: '503' },
        { count: 1, kind: '429', retryAfterSec: 1 },
      ],
    });
    const { run } = await runTick(client.runtime, scenario.db);
    expect(run.status).toBe('loaded');

    const observed: string[] = [];
    for (const p of processes) observed.push(...p.lines);
    observed.push(...(await dumpPrefix(client.runtime.redis, scenario.prefix)));
    const dashboardUrl = new URL(processes[4]!.logs().find((l) => l.message === 'dashboard listening')!.url as string);
    const base = `http://127.0.0.1:${dashboardUrl.port}`;
    const auth = { authorization: `Basic ${Buffer.from(`admin:${SECRETS.dashboardPassword}`).toString('base64')}` };
    for (const path of [
      '/',
      '/healthz',
      '/readyz',
      '/metrics',
      '/api/v1/runs',
      '/queues',
      '/queues/api/queues',
      '/queues/api/queues?activeQueue=fetch&status=completed',
    ]) {
      const response = await fetch(`${base}${path}`, { headers: auth });
      observed.push(`${path} ${response.status} ${JSON.stringify([...response.headers])} ${await response.text()}`);
    }
    const metricsPorts = processes
      .slice(0, 4)
      .map((p) => p.logs().find((l) => l.message === 'metrics endpoint listening')!.port as number);
    for (const port of metricsPorts) observed.push(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text());

    // The scan saw real material: logs of every kind, jobs in Redis, pages.
    expect(observed.join('\n')).toContain('job completed');
    expect(observed.join('\n')).toContain('cdp_jobs_total');
    expect(observed.length).toBeGreaterThan(100);
    for (const [name, secret] of Object.entries(SECRETS)) {
      const leaks = observed.filter((text) => text.includes(secret));
      expect({ name, leaks: leaks.map((l) => l.slice(0, 300)) }).toEqual({ name, leaks: [] });
    }
  });
});
