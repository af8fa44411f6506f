import http from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  CoinGeckoClient,
  requestTarget,
  type CoinGeckoClientOptions,
  type CoinGeckoRequest,
} from '../../../core/coingecko/client.js';
import type { CoinGeckoPlan } from '../../../core/coingecko/plans.js';
import { PermanentError, RateLimitedError, RetryableError } from '../../../core/errors.js';
import { startSimulator, type SimulatorHandle } from '../../../simulator/server.js';

const KEY = 'right-key-123';

describe(requestTarget.name, () => {
  it('asks /coins/markets for exactly the given ids, one page sized to them', () => {
    expect(requestTarget({ endpoint: 'markets', vsCurrency: 'usd', ids: ['bitcoin', 'ethereum', 'tether'] })).toEqual({
      path: '/coins/markets',
      searchParams: {
        vs_currency: 'usd',
        ids: 'bitcoin,ethereum,tether',
        per_page: '3',
        page: '1',
        price_change_percentage: '1h,24h,7d',
      },
    });
  });

  it.each([
    [1, '1'],
    [250, '250'],
  ])('sets per_page to the id count (%d ids → %s)', (count, perPage) => {
    const ids = Array.from({ length: count }, (_, i) => `coin-${i}`);
    expect(requestTarget({ endpoint: 'markets', vsCurrency: 'eur', ids }).searchParams.per_page).toBe(perPage);
  });

  it('asks for one page of the market-cap ranking', () => {
    expect(requestTarget({ endpoint: 'markets-page', vsCurrency: 'eur', page: 3, perPage: 250 })).toEqual({
      path: '/coins/markets',
      searchParams: { vs_currency: 'eur', order: 'market_cap_desc', per_page: '250', page: '3' },
    });
  });

  it('asks for the coin list and ping without parameters', () => {
    expect(requestTarget({ endpoint: 'coins-list' })).toEqual({ path: '/coins/list', searchParams: {} });
    expect(requestTarget({ endpoint: 'ping' })).toEqual({ path: '/ping', searchParams: {} });
  });
});

/** A bare HTTP server that records what the client sent and answers `[]`. */
async function recordingServer() {
  const seen: { url: string; headers: http.IncomingHttpHeaders }[] = [];
  const server = http.createServer((req, res) => {
    seen.push({ url: req.url ?? '', headers: req.headers });
    res.writeHead(200, { 'content-type': 'application/json' }).end('[]');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/api/v3`,
    seen,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const ALL_REQUESTS: CoinGeckoRequest[] = [
  { endpoint: 'markets', vsCurrency: 'usd', ids: ['bitcoin', 'ethereum'] },
  { endpoint: 'markets-page', vsCurrency: 'usd', page: 1, perPage: 250 },
  { endpoint: 'coins-list' },
  { endpoint: 'ping' },
];

describe(CoinGeckoClient.name, () => {
  describe('API key', () => {
    let server: Awaited<ReturnType<typeof recordingServer>>;
    beforeAll(async () => {
      server = await recordingServer();
    });
    afterAll(() => server.close());
    beforeEach(() => {
      server.seen.length = 0;
    });

    it.each<[CoinGeckoPlan, string, string | undefined]>([
      ['demo', 'only in the x-cg-demo-api-key header', 'x-cg-demo-api-key'],
      ['pro', 'only in the x-cg-pro-api-key header', 'x-cg-pro-api-key'],
      ['public', 'nowhere', undefined],
    ])('on the %s plan travels %s, never in the URL', async (plan, _where, header) => {
      const client = new CoinGeckoClient({
        baseUrl: server.url,
        plan,
        apiKey: KEY,
        timeoutMs: 2000,
        rateLimitWaitMs: 1000,
      });
      for (const request of ALL_REQUESTS) await client.call(request);
      expect(server.seen).toHaveLength(ALL_REQUESTS.length);
      for (const { url, headers } of server.seen) {
        expect(url).not.toContain(KEY);
        expect(url).not.toMatch(/api_key/i);
        const keyHeaders = Object.entries(headers).filter(([, value]) => String(value).includes(KEY));
        expect(keyHeaders).toEqual(header ? [[header, KEY]] : []);
      }
      expect(server.seen.map((s) => s.url)).toEqual([
        '/api/v3/coins/markets?vs_currency=usd&ids=bitcoin%2Cethereum&per_page=2&page=1&price_change_percentage=1h%2C24h%2C7d',
        '/api/v3/coins/markets?vs_currency=usd&order=market_cap_desc&per_page=250&page=1',
        '/api/v3/coins/list',
        '/api/v3/ping',
      ]);
    });
  });

  describe('against the simulator', () => {
    let sim: SimulatorHandle;
    const options = (overrides: Partial<CoinGeckoClientOptions> = {}): CoinGeckoClientOptions => ({
      baseUrl: sim.url,
      plan: 'demo',
      apiKey: undefined,
      timeoutMs: 2000,
      rateLimitWaitMs: 4321,
      ...overrides,
    });
    const markets: CoinGeckoRequest = { endpoint: 'markets', vsCurrency: 'usd', ids: ['bitcoin', 'ethereum'] };

    /** The error a call rejects with (fails the test when the call succeeds). */
    async function failure(request: CoinGeckoRequest, overrides: Partial<CoinGeckoClientOptions> = {}): Promise<Error> {
      const outcome = await new CoinGeckoClient(options(overrides)).call(request).then(
        () => undefined,
        (error: unknown) => error as Error,
      );
      if (!outcome) throw new Error('expected the call to fail');
      return outcome;
    }

    beforeAll(async () => {
      sim = await startSimulator({ coins: 300, hangMs: 2000 });
    });
    afterAll(() => sim.close());
    beforeEach(() => sim.control.reset());

    it('returns the body, its JSON and its size on success', async () => {
      const response = await new CoinGeckoClient(options()).call(markets);
      expect(response).toMatchObject({
        endpoint: '/coins/markets',
        status: 200,
        bytes: Buffer.byteLength(response.body),
      });
      expect((response.json as { id: string }[]).map((r) => r.id).sort()).toEqual(['bitcoin', 'ethereum']);
      expect(JSON.parse(response.body)).toEqual(response.json);
    });

    it('maps a 429 to RateLimitedError waiting as long as retry-after says', async () => {
      sim.control.setFaults({ failNext: [{ count: 1, kind: '429', retryAfterSec: 3 }] });
      const error = await failure(markets);
      expect(error).toBeInstanceOf(RateLimitedError);
      expect((error as RateLimitedError).retryAfterMs).toBe(3000);
      expect(error.message).toContain("You've exceeded the Rate Limit");
    });

    it('maps a plain-text 429 without retry-after to RateLimitedError waiting rateLimitWaitMs', async () => {
      sim.control.setFaults({ failNext: [{ count: 1, kind: 'throttled-text' }] });
      const error = await failure(markets);
      expect(error).toBeInstanceOf(RateLimitedError);
      expect((error as RateLimitedError).retryAfterMs).toBe(4321);
      expect(error.message).toContain('Throttled');
    });

    it('maps the rate limiter of the simulator to RateLimitedError', async () => {
      sim.control.setFaults({ rateLimit: 1 });
      const client = new CoinGeckoClient(options());
      await client.call(markets);
      const error = await client.call(markets).catch((e: unknown) => e as Error);
      expect(error).toBeInstanceOf(RateLimitedError);
      expect((error as RateLimitedError).retryAfterMs).toBeGreaterThan(0);
      expect((error as RateLimitedError).retryAfterMs).toBeLessThanOrEqual(60_000);
    });

    it.each([
      ['503', 'Service unavailable'],
      ['500', 'Internal server error'],
    ] as const)('maps a %s Cloudflare page to RetryableError', async (kind, title) => {
      sim.control.setFaults({ failNext: [{ count: 1, kind, retryAfterSec: 2 }] });
      const error = await failure(markets);
      expect(error).toBeInstanceOf(RetryableError);
      expect(error.message).toContain(`HTTP ${kind}`);
      expect(error.message).toContain(title);
      expect((error as RetryableError).retryAfterMs).toBe(2000);
    });

    it('maps a random 5xx HTML error to RetryableError', async () => {
      sim.control.setFaults({ errorRate: 1, errorStatus: 502 });
      const error = await failure(markets);
      expect(error).toBeInstanceOf(RetryableError);
      expect(error.message).toMatch(/^GET \/coins\/markets: HTTP 502 <!DOCTYPE html>/);
    });

    it.each([
      ['a failNext html fault', { failNext: [{ count: 1, kind: 'html' as const }] }],
      ['malformedRate 1', { malformedRate: 1 }],
    ])('maps a 200 with an HTML body (%s) to RetryableError quoting the body', async (_what, faults) => {
      sim.control.setFaults(faults);
      const error = await failure(markets);
      expect(error).toBeInstanceOf(RetryableError);
      expect(error.message).toContain('body is not JSON (HTTP 200, text/html');
      expect(error.message).toContain('<!DOCTYPE html><html><head><title>Just a moment...</title>');
    });

    it('maps a truncated JSON body to RetryableError', async () => {
      sim.control.setFaults({ failNext: [{ count: 1, kind: 'truncated' }] });
      const error = await failure(markets);
      expect(error).toBeInstanceOf(RetryableError);
      expect(error.message).toContain('body is not JSON (HTTP 200, application/json');
    });

    it('maps a request that never answers to RetryableError after timeoutMs', async () => {
      sim.control.setFaults({ failNext: [{ count: 1, kind: 'timeout' }] });
      const started = Date.now();
      const error = await failure(markets, { timeoutMs: 300 });
      expect(error).toBeInstanceOf(RetryableError);
      expect(error.message).toBe('GET /coins/markets: timed out after 300ms');
      expect(Date.now() - started).toBeLessThan(1500);
    });

    it('maps a refused connection to RetryableError', async () => {
      const error = await failure(markets, { baseUrl: 'http://127.0.0.1:1/api/v3' });
      expect(error).toBeInstanceOf(RetryableError);
      expect(error.message).toContain('ECONNREFUSED');
    });

    it("maps a 400 for a bad vs_currency to PermanentError with CoinGecko's message", async () => {
      const error = await failure({ endpoint: 'markets', vsCurrency: 'usdt', ids: ['bitcoin'] });
      expect(error).toBeInstanceOf(PermanentError);
      expect(error.message).toBe('GET /coins/markets: HTTP 400: invalid vs_currency');
    });

    it('maps a too-long URL (414) to PermanentError', async () => {
      sim.control.setFaults({ maxUrlBytes: 512 });
      const ids = Array.from({ length: 40 }, (_, i) => `a-rather-long-coin-id-number-${i}`);
      const error = await failure({ endpoint: 'markets', vsCurrency: 'usd', ids });
      expect(error).toBeInstanceOf(PermanentError);
      expect(error.message).toContain('HTTP 414');
    });

    describe('with a key-checking simulator', () => {
      beforeEach(() => sim.control.setFaults({ apiKey: KEY, plan: 'demo' }));

      it('succeeds with the right key', async () => {
        const response = await new CoinGeckoClient(options({ apiKey: KEY })).call({ endpoint: 'ping' });
        expect(response.json).toEqual({ gecko_says: '(V3) To the Moon!' });
      });

      it('maps a 401 for a wrong key to PermanentError that never shows the key', async () => {
        const wrongKey = 'wrong-key-987654';
        for (const request of ALL_REQUESTS) {
          const error = await failure(request, { apiKey: wrongKey });
          expect(error).toBeInstanceOf(PermanentError);
          expect(error.message).toContain('HTTP 401 error_code 10002: API Key Missing');
          expect(error.message).not.toContain(wrongKey);
          expect(error.message).not.toContain(KEY);
          expect(String(error.stack)).not.toContain(wrongKey);
        }
      });

      it('maps a pro key sent to the demo host to PermanentError 10010', async () => {
        const error = await failure(markets, { plan: 'pro', apiKey: 'some-pro-key-1234' });
        expect(error).toBeInstanceOf(PermanentError);
        expect(error.message).toContain('HTTP 400 error_code 10010');
        expect(error.message).not.toContain('some-pro-key-1234');
      });
    });
  });
});
