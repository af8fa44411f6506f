import { startSimulator, type SimulatorHandle } from '../../simulator/server.js';
import { get, manualClock } from './fixtures.js';

const RATE_LIMIT_BODY =
  '{"status":{"error_code":429,"error_message":"You\'ve exceeded the Rate Limit. Please visit https://www.coingecko.com/en/api/pricing to subscribe to our API plans for higher rate limits."}}';

describe('rate limiting', () => {
  // 300 ms into a one-second window that ends at 12:00:06 UTC.
  const windowStart = Date.UTC(2025, 2, 14, 12, 0, 5);
  const clock = manualClock();
  let sim: SimulatorHandle;
  const ping = (headers?: Record<string, string>) => get(`${sim.url}/ping`, { headers });

  beforeAll(async () => {
    sim = await startSimulator({ coins: 100, rateLimit: 5, rateWindowMs: 1000, clock: clock.clock });
  });
  afterAll(() => sim.close());
  beforeEach(() => {
    sim.control.reset();
    clock.set(windowStart + 300);
  });

  it('serves 5 calls in a window with the limit headers counting down', async () => {
    for (let i = 1; i <= 5; i++) {
      const res = await ping();
      expect(res.status).toBe(200);
      expect(res.headers.get('x-ratelimit-limit')).toBe('5');
      expect(res.headers.get('x-ratelimit-remaining')).toBe(String(5 - i));
      expect(res.headers.get('x-ratelimit-reset')).toBe('2025-03-14 12:00:06 +0000');
    }
  });

  it("answers the 6th call with CoinGecko's exact 429 body, headers and retry-after", async () => {
    for (let i = 0; i < 5; i++) await ping();
    const res = await get(`${sim.url}/coins/markets?vs_currency=usd`);
    expect(res.status).toBe(429);
    expect(res.body).toBe(RATE_LIMIT_BODY);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(res.headers.get('retry-after')).toBe('1');
    expect(res.headers.get('x-ratelimit-remaining')).toBe('0');
    expect(res.headers.get('x-ratelimit-reset')).toBe('2025-03-14 12:00:06 +0000');
    expect(sim.control.stats().rateLimited).toBe(1);
  });

  it('serves again in the next window, since rejected calls do not count', async () => {
    for (let i = 0; i < 8; i++) await ping();
    clock.set(windowStart + 1000);
    const res = await ping();
    expect(res.status).toBe(200);
    expect(res.headers.get('x-ratelimit-remaining')).toBe('4');
  });

  it('counts each API key separately', async () => {
    for (let i = 0; i < 5; i++) await ping({ 'x-cg-demo-api-key': 'alice' });
    expect((await ping({ 'x-cg-demo-api-key': 'alice' })).status).toBe(429);
    expect((await ping({ 'x-cg-demo-api-key': 'bob' })).status).toBe(200);
  });

  it('omits retry-after when retryAfter is off', async () => {
    sim.control.setFaults({ retryAfter: false });
    for (let i = 0; i < 5; i++) await ping();
    const res = await ping();
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBeNull();
  });

  it.each([
    ['text', /^text\/plain/, 'Throttled\n'],
    ['html', /^text\/html/, expect.stringContaining('<html')],
  ] as const)('throttles with a %s body when throttleStyle says so', async (style, type, body) => {
    sim.control.setFaults({ throttleStyle: style });
    for (let i = 0; i < 5; i++) await ping();
    const res = await ping();
    expect(res.status).toBe(429);
    expect(res.headers.get('content-type')).toMatch(type);
    expect(res.body).toEqual(body);
  });
});

describe('rate limiting on the real clock', () => {
  it('rounds retry-after up to the window end and lets a client that waits through', async () => {
    const sim = await startSimulator({ coins: 100, rateLimit: 2, rateWindowMs: 500 });
    try {
      let rejected;
      for (let i = 0; i < 10 && rejected === undefined; i++) {
        const res = await get(`${sim.url}/ping`);
        if (res.status === 429) rejected = res;
      }
      expect(rejected?.headers.get('retry-after')).toBe('1');
      await new Promise((resolve) => setTimeout(resolve, 550));
      expect((await get(`${sim.url}/ping`)).status).toBe(200);
    } finally {
      await sim.close();
    }
  });
});
