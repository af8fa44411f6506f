import { testEnv } from '../helpers/config.js';
import { PipelineProcess, ENTRY_POINTS } from '../helpers/processes.js';
import { createScenario, type Scenario } from '../helpers/scenario.js';

/** Only the fetch worker calls CoinGecko, so only it must have an API key on the demo and pro plans. */
const CALLS_COINGECKO: ReadonlySet<string> = new Set(['fetch']);

describe('starting a process with bad configuration', () => {
  it.each(Object.keys(ENTRY_POINTS).filter((k) => k !== 'simulator') as (keyof typeof ENTRY_POINTS)[])(
    '%s stops with exit code 78 and one message listing every bad variable',
    async (kind) => {
      const child = new PipelineProcess(kind, {
        TICK_INTERVAL: 'soon',
        FETCH_CONCURRENCY: '0',
        DATABASE_URL: 'mysql://db/x',
        COINGECKO_PLAN: 'pro',
        DASHBOARD_PASSWORD: 'correct-horse-battery-staple',
      });
      const { code } = await child.exited;
      expect(code).toBe(78);
      const output = child.lines.join('\n');
      const needsKey = CALLS_COINGECKO.has(kind);
      expect(output).toContain(`Invalid configuration (${needsKey ? 5 : 4} problems)`);
      expect(output).toMatch(/TICK_INTERVAL="soon": expected a duration/);
      expect(output).toMatch(/FETCH_CONCURRENCY="0": expected an integer from 1 to 256/);
      expect(output).toMatch(/DATABASE_URL="<redacted>": expected a URL \(postgres:\/\/ or postgresql:\/\/\)/);
      expect(output).toMatch(/DASHBOARD_USER: expected to be set together with its partner/);
      if (needsKey) expect(output).toMatch(/COINGECKO_API_KEY: expected an API key: COINGECKO_PLAN=pro requires one/);
      else expect(output).not.toContain('COINGECKO_API_KEY');
      // Secrets are never echoed, not even in the error.
      expect(output).not.toContain('correct-horse-battery-staple');
      expect(output).not.toContain('mysql://db/x');
    },
  );
});

describe('COINGECKO_PLAN=pro without COINGECKO_API_KEY', () => {
  let scenario: Scenario;
  let env: Record<string, string>;
  const started: PipelineProcess[] = [];

  beforeAll(async () => {
    scenario = await createScenario({ coins: 10 });
    env = {
      ...testEnv({ databaseUrl: scenario.db.url, prefix: scenario.prefix, coingeckoUrl: scenario.simulator.url }),
      LOG_LEVEL: 'info',
      COINGECKO_PLAN: 'pro',
    };
  });
  afterAll(async () => {
    await Promise.all(started.map((p) => p.kill('SIGTERM')));
    await scenario?.teardown();
  });

  it('starts a load worker, which never calls CoinGecko', async () => {
    const load = new PipelineProcess('load', env);
    started.push(load);
    await load.waitForLog('load worker started');
    expect(load.lines.join('\n')).not.toContain('COINGECKO_API_KEY');
    expect((await load.kill('SIGTERM')).code).toBe(0);
  });

  it('stops a fetch worker with exit code 78 naming COINGECKO_API_KEY as the one problem', async () => {
    const fetcher = new PipelineProcess('fetch', env);
    started.push(fetcher);
    const { code } = await fetcher.exited;
    expect(code).toBe(78);
    const output = fetcher.lines.join('\n');
    expect(output).toContain(
      'fetch-worker: Invalid configuration (1 problem):\n  - COINGECKO_API_KEY: expected an API key: COINGECKO_PLAN=pro requires one',
    );
  });
});
