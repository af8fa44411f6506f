import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { parseFaultPatch, parseSimulatorEnv, SimulatorOptionsError } from '../../simulator/options.js';
import { startSimulator } from '../../simulator/server.js';

describe(parseSimulatorEnv.name, () => {
  it('uses the documented defaults, with port 8484 for the standalone process', () => {
    expect(parseSimulatorEnv({})).toMatchObject({
      host: '127.0.0.1',
      port: 8484,
      seed: 42,
      coins: 15_000,
      stepMs: 10_000,
      staleFraction: 0,
      faultSeed: 42,
      apiKey: null,
      plan: 'demo',
      rateLimit: 0,
      rateWindowMs: 60_000,
      retryAfter: true,
      maxUrlBytes: 8192,
      errorStatus: 503,
      hangMs: 120_000,
      throttleStyle: 'json',
      failNext: [],
    });
  });

  it('reads every kind of SIM_* variable', () => {
    const options = parseSimulatorEnv({
      SIM_SEED: '7',
      SIM_PLAN: 'pro',
      SIM_API_KEY: 'k',
      SIM_RETRY_AFTER: 'false',
      SIM_ERROR_RATE: '0.25',
      SIM_INVALID_COIN_IDS: 'bitcoin, ethereum',
      SIM_BAD_HISTORY_COIN_IDS: 'solana',
      SIM_RENAME_FIELDS: 'current_price:price',
      SIM_EXTRA_FIELDS: '{"x":1}',
      SIM_FAIL_NEXT: '[{"count":2,"kind":"503"}]',
    });
    expect(options).toMatchObject({
      seed: 7,
      faultSeed: 7,
      plan: 'pro',
      apiKey: 'k',
      retryAfter: false,
      errorRate: 0.25,
      invalidCoinIds: ['bitcoin', 'ethereum'],
      badHistoryCoinIds: ['solana'],
      renameFields: { current_price: 'price' },
      extraFields: { x: 1 },
      failNext: [{ count: 2, kind: '503' }],
    });
  });

  it('lists every invalid variable at once, with what it expects', () => {
    const attempt = () => parseSimulatorEnv({ SIM_PORT: 'abc', SIM_ERROR_RATE: '1.5', SIM_PLAN: 'free' });
    expect(attempt).toThrow(SimulatorOptionsError);
    try {
      attempt();
    } catch (error) {
      expect((error as SimulatorOptionsError).problems).toEqual([
        'SIM_PORT="abc": expected an integer from 0 to 65535',
        'SIM_PLAN="free": expected one of public, demo, pro',
        'SIM_ERROR_RATE="1.5": expected a number from 0 to 1',
      ]);
    }
  });
});

describe(parseFaultPatch.name, () => {
  it('rejects unknown keys and wrong types', () => {
    expect(() => parseFaultPatch({ failNext: [{ count: 0, kind: '503' }] })).toThrow(/failNext/);
    expect(() => parseFaultPatch({ seed: 1 })).toThrow(/seed: unknown setting/);
    expect(parseFaultPatch({ outage: true })).toEqual({ outage: true });
  });
});

describe('startSimulator', () => {
  it('rejects invalid options before listening', async () => {
    await expect(startSimulator({ coins: 0 })).rejects.toThrow(/coins/);
  });
});

describe('simulator/main.ts', () => {
  it('logs its URL as one JSON line and exits 0 on SIGTERM', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'simulator/main.ts'], {
      cwd: new URL('../..', import.meta.url).pathname,
      env: { ...process.env, NODE_OPTIONS: '', SIM_PORT: '0', SIM_COINS: '200' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const lines = createInterface({ input: child.stdout! });
    const [line] = await lines[Symbol.asyncIterator]()
      .next()
      .then((r) => [r.value as string]);
    const { url } = JSON.parse(line!) as { url: string };
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/api\/v3$/);
    expect((await fetch(`${url}/ping`)).status).toBe(200);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  }, 20_000);
});
