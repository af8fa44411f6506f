import { startSimulator, type SimulatorHandle } from '../../simulator/server.js';
import { get, getJson, manualClock, PINNED_NOW } from './fixtures.js';

type Chart = { prices: [number, number][]; market_caps: [number, number][]; total_volumes: [number, number][] };

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

describe('API endpoints', () => {
  const clock = manualClock();
  let sim: SimulatorHandle;

  beforeAll(async () => {
    sim = await startSimulator({ coins: 1000, clock: clock.clock });
  });
  afterAll(() => sim.close());

  describe('GET /ping', () => {
    it('says (V3) To the Moon!', async () => {
      const res = await get(`${sim.url}/ping`);
      expect(res.status).toBe(200);
      expect(res.body).toBe('{"gecko_says":"(V3) To the Moon!"}');
    });
  });

  describe('GET /coins/list', () => {
    it('lists every active coin, sorted by id, without platforms by default', async () => {
      const { json } = await getJson<Record<string, unknown>[]>(`${sim.url}/coins/list`);
      expect(json).toHaveLength(1000);
      expect(Object.keys(json[0]!)).toEqual(['id', 'symbol', 'name']);
      const ids = json.map((c) => c.id as string);
      expect(ids).toEqual([...ids].sort());
    });

    it('adds platforms with include_platform: {} for native coins, addresses for tokens', async () => {
      const { json } = await getJson<{ id: string; platforms: Record<string, string> }[]>(
        `${sim.url}/coins/list?include_platform=true`,
      );
      const byId = new Map(json.map((c) => [c.id, c]));
      expect(byId.get('bitcoin')!.platforms).toEqual({});
      expect(byId.get('chainlink')!.platforms.ethereum).toMatch(/^0x[0-9a-f]{40}$/);
      expect(json.some((c) => /^[1-9A-HJ-NP-Za-km-z]{32,44}$/.test(c.platforms.solana ?? ''))).toBe(true);
      expect(json.filter((c) => Object.keys(c.platforms).length === 0).length).toBeGreaterThan(100);
    });

    it('lists a few inactive coins, none of them active, with status=inactive', async () => {
      const { json } = await getJson<{ id: string }[]>(`${sim.url}/coins/list?status=inactive`);
      expect(json.length).toBeGreaterThanOrEqual(5);
      const active = new Set(sim.control.universeIds());
      expect(json.filter((c) => active.has(c.id))).toEqual([]);
    });
  });

  describe('GET /simple/price', () => {
    it('returns the requested fields per coin and currency, omitting unknown ids', async () => {
      const url = `${sim.url}/simple/price?ids=bitcoin,nope,ethereum&vs_currencies=usd,eur&include_market_cap=true&include_24hr_vol=true&include_24hr_change=true&include_last_updated_at=true`;
      const { json } = await getJson<Record<string, Record<string, number>>>(url);
      expect(Object.keys(json)).toEqual(['bitcoin', 'ethereum']);
      expect(Object.keys(json.bitcoin!)).toEqual([
        'usd',
        'usd_market_cap',
        'usd_24h_vol',
        'usd_24h_change',
        'eur',
        'eur_market_cap',
        'eur_24h_vol',
        'eur_24h_change',
        'last_updated_at',
      ]);
      expect(Number.isInteger(json.bitcoin!.last_updated_at)).toBe(true);
      expect(json.bitcoin!.last_updated_at! * 1000).toBeLessThanOrEqual(PINNED_NOW);
      const [snapshot] = sim.control.marketsSnapshot(['bitcoin'], 'usd', PINNED_NOW);
      expect(json.bitcoin!.usd).toBeCloseTo(snapshot!.current_price as number, -1);
    });

    it('returns only prices without include flags, and {} when no id is known', async () => {
      const { json } = await getJson(`${sim.url}/simple/price?ids=bitcoin&vs_currencies=usd`);
      expect(Object.keys((json as Record<string, object>).bitcoin!)).toEqual(['usd']);
      expect((await get(`${sim.url}/simple/price?ids=nope&vs_currencies=usd`)).body).toBe('{}');
    });
  });

  describe('GET /coins/{id}/market_chart/range', () => {
    const range = (fromMs: number, toMs: number, id = 'bitcoin') =>
      getJson<Chart>(
        `${sim.url}/coins/${id}/market_chart/range?vs_currency=usd&from=${fromMs / 1000}&to=${toMs / 1000}`,
      );
    const steps = (chart: Chart) => chart.prices.slice(1).map(([t], i) => t - chart.prices[i]![0]);

    it('is 5-minutely for a span of up to one day, in parallel [ms, value] arrays', async () => {
      const to = PINNED_NOW - DAY;
      const { status, json } = await range(to - DAY, to);
      expect(status).toBe(200);
      expect(json.prices).toHaveLength(288);
      expect(new Set(steps(json))).toEqual(new Set([5 * 60_000]));
      expect(json.market_caps.map(([t]) => t)).toEqual(json.prices.map(([t]) => t));
      expect(json.total_volumes).toHaveLength(288);
    });

    it('is hourly from 2 to 90 days', async () => {
      const to = Math.floor(PINNED_NOW / HOUR) * HOUR - DAY;
      const { json } = await range(to - 30 * DAY, to);
      expect(json.prices).toHaveLength(30 * 24 + 1);
      expect(new Set(steps(json))).toEqual(new Set([HOUR]));
    });

    it('is daily at 00:00 UTC beyond 90 days, with a final point at now', async () => {
      const { json } = await range(PINNED_NOW - 200 * DAY, PINNED_NOW);
      const times = json.prices.map(([t]) => t);
      expect(times.slice(0, -1).every((t) => t % DAY === 0)).toBe(true);
      expect(times.at(-1)).toBe(PINNED_NOW);
      expect(times).toHaveLength(201);
    });

    it('agrees with itself: the same instant has the same price in any range', async () => {
      const t = Math.floor(PINNED_NOW / DAY) * DAY - 10 * DAY;
      const [hourly, daily] = await Promise.all([range(t - 5 * DAY, t + 5 * DAY), range(t - 100 * DAY, t + DAY)]);
      expect(hourly.json.prices.find(([x]) => x === t)).toEqual(daily.json.prices.find(([x]) => x === t));
    });

    it('answers an unknown coin with 404 {"error":"coin not found"}', async () => {
      const res = await get(`${sim.url}/coins/not-a-coin/market_chart/range?vs_currency=usd&from=1&to=2`);
      expect(res.status).toBe(404);
      expect(res.body).toBe('{"error":"coin not found"}');
    });

    it('answers demo requests older than 365 days with the nested 10012 body', async () => {
      const { status, json } = await getJson<{ error: { status: { error_code: number } } }>(
        `${sim.url}/coins/bitcoin/market_chart/range?vs_currency=usd&from=${(PINNED_NOW - 400 * DAY) / 1000}&to=${PINNED_NOW / 1000}`,
      );
      expect(status).toBe(401);
      expect(json.error.status.error_code).toBe(10012);
    });
  });

  describe('edge behaviour', () => {
    it('answers a request line longer than maxUrlBytes with 414 HTML', async () => {
      const ids = sim.control.universeIds().join(',');
      expect(ids.length).toBeGreaterThan(8192);
      const res = await get(`${sim.url}/coins/markets?vs_currency=usd&ids=${ids}`);
      expect(res.status).toBe(414);
      expect(res.headers.get('content-type')).toMatch(/^text\/html/);
      expect(sim.control.requests().at(-1)).toMatchObject({ path: '/coins/markets', status: 414 });
    });

    it('answers unknown paths with 404 {"error":"Not Found"}', async () => {
      const res = await get(`${sim.url}/coins/bitcoin/tickers`);
      expect(res.status).toBe(404);
      expect(res.body).toBe('{"error":"Not Found"}');
    });

    it('answers other methods than GET with 405', async () => {
      expect((await get(`${sim.url}/ping`, { method: 'POST' })).status).toBe(405);
    });
  });
});
