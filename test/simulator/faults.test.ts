import { startSimulator, type SimulatorHandle } from '../../simulator/server.js';
import { get, getJson, manualClock, PINNED_NOW } from './fixtures.js';

describe('fault injection', () => {
  const clock = manualClock();
  let sim: SimulatorHandle;
  const marketsUrl = () => `${sim.url}/coins/markets?vs_currency=usd&per_page=20`;

  beforeAll(async () => {
    sim = await startSimulator({ coins: 500, hangMs: 300, clock: clock.clock });
  });
  afterAll(() => sim.close());
  beforeEach(() => sim.control.reset());

  describe('failNext', () => {
    it('answers the next N requests with a 503 Cloudflare page, then serves normally', async () => {
      sim.control.setFaults({ failNext: [{ count: 2, kind: '503', retryAfterSec: 7 }] });
      for (let i = 0; i < 2; i++) {
        const res = await get(marketsUrl());
        expect(res.status).toBe(503);
        expect(res.headers.get('content-type')).toMatch(/^text\/html/);
        expect(res.headers.get('retry-after')).toBe('7');
        expect(res.body).toContain('cloudflare');
      }
      expect((await get(marketsUrl())).status).toBe(200);
    });

    it('sends a 200 with an HTML body for kind html', async () => {
      sim.control.setFaults({ failNext: [{ count: 1, kind: 'html' }] });
      const res = await get(marketsUrl());
      expect(res.status).toBe(200);
      expect(() => JSON.parse(res.body)).toThrow();
      expect(res.body).toMatch(/^<!DOCTYPE html>/);
    });

    it('cuts the JSON body in the middle for kind truncated', async () => {
      sim.control.setFaults({ failNext: [{ count: 1, kind: 'truncated' }] });
      const truncated = await get(marketsUrl());
      const whole = await get(marketsUrl());
      expect(truncated.status).toBe(200);
      expect(() => JSON.parse(truncated.body)).toThrow();
      expect(whole.body.startsWith(truncated.body)).toBe(true);
      expect(truncated.body.length).toBeLessThan(whole.body.length);
    });

    it('never answers a timed-out request and destroys its socket after hangMs', async () => {
      sim.control.setFaults({ failNext: [{ count: 1, kind: 'timeout' }] });
      const started = Date.now();
      await expect(fetch(marketsUrl())).rejects.toThrow();
      expect(Date.now() - started).toBeGreaterThanOrEqual(250);
      expect((await get(marketsUrl())).status).toBe(200);
    });

    it('sends the 429 JSON body or the Throttled text for kinds 429 and throttled-text', async () => {
      sim.control.setFaults({
        failNext: [
          { count: 1, kind: '429', retryAfterSec: 3 },
          { count: 1, kind: 'throttled-text' },
        ],
      });
      const json = await get(marketsUrl());
      expect(json.status).toBe(429);
      expect(JSON.parse(json.body)).toMatchObject({ status: { error_code: 429 } });
      expect(json.headers.get('retry-after')).toBe('3');
      const text = await get(marketsUrl());
      expect(text.status).toBe(429);
      expect(text.body).toBe('Throttled\n');
    });

    it('leaves /ping alone unless the fault names its path', async () => {
      sim.control.setFaults({ failNext: [{ count: 1, kind: '500' }] });
      expect((await get(`${sim.url}/ping`)).status).toBe(200);
      expect((await get(marketsUrl())).status).toBe(500);
      sim.control.setFaults({ failNext: [{ count: 1, kind: '503', path: '/ping' }] });
      expect((await get(`${sim.url}/ping`)).status).toBe(503);
    });

    it('only hits requests whose path starts with the given path', async () => {
      sim.control.setFaults({ failNext: [{ count: 1, kind: '503', path: '/simple' }] });
      expect((await get(marketsUrl())).status).toBe(200);
      expect((await get(`${sim.url}/simple/price?ids=bitcoin&vs_currencies=usd`)).status).toBe(503);
      expect((await get(`${sim.url}/simple/price?ids=bitcoin&vs_currencies=usd`)).status).toBe(200);
    });
  });

  describe('random rates', () => {
    it('injects errors at about errorRate, reproducibly for one fault seed', async () => {
      const statuses = async (s: SimulatorHandle) => {
        const out: number[] = [];
        for (let i = 0; i < 60; i++)
          out.push((await get(`${s.url}/simple/price?ids=bitcoin&vs_currencies=usd`)).status);
        return out;
      };
      const a = await startSimulator({ coins: 100, errorRate: 0.3, errorStatus: 502, faultSeed: 99 });
      const b = await startSimulator({ coins: 100, errorRate: 0.3, errorStatus: 502, faultSeed: 99 });
      try {
        const first = await statuses(a);
        expect(await statuses(b)).toEqual(first);
        const errors = first.filter((s) => s === 502).length;
        expect(errors).toBeGreaterThan(5);
        expect(errors).toBeLessThan(35);
        expect(first.every((s) => s === 200 || s === 502)).toBe(true);
      } finally {
        await Promise.all([a.close(), b.close()]);
      }
    });

    it('delays responses by latencyMs', async () => {
      sim.control.setFaults({ latencyMs: 150 });
      const started = Date.now();
      expect((await get(`${sim.url}/ping`)).status).toBe(200);
      expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    });
  });

  describe('outage', () => {
    it('answers every API request, /ping included, with a 503 HTML page', async () => {
      sim.control.setFaults({ outage: true });
      for (const path of ['/ping', '/coins/markets?vs_currency=usd', '/coins/list']) {
        const res = await get(`${sim.url}${path}`);
        expect(res.status).toBe(503);
        expect(res.headers.get('content-type')).toMatch(/^text\/html/);
      }
    });
  });

  describe('history points', () => {
    type Chart = { prices: [number, number | null][]; market_caps: [number, number][] };
    const HOUR = 3_600_000;
    const to = Math.floor(PINNED_NOW / HOUR) * HOUR - 24 * HOUR;
    const range = (id: string) =>
      getJson<Chart>(
        `${sim.url}/coins/${id}/market_chart/range?vs_currency=usd&from=${(to - 10 * HOUR) / 1000}&to=${to / 1000}`,
      );

    it('sends the badHistoryCoinIds a null price, a duplicated and an out-of-order timestamp, the rest as usual', async () => {
      const clean = (await range('ethereum')).json;
      sim.control.setFaults({ badHistoryCoinIds: ['ethereum'] });
      const bad = (await range('ethereum')).json;
      const p = clean.prices;
      expect(bad.prices).toEqual([p[0], [p[1]![0], null], p[2], [p[2]![0], p[2]![1]! * 2], p[4], p[3], ...p.slice(5)]);
      expect(bad.market_caps).toEqual(clean.market_caps);
      expect((await range('bitcoin')).json).toEqual((await range('bitcoin')).json);
      expect((await range('bitcoin')).json.prices.every(([, v]) => typeof v === 'number')).toBe(true);
    });
  });

  describe('records', () => {
    it('corrupts exactly the invalidCoinIds with a string current_price', async () => {
      sim.control.setFaults({ invalidCoinIds: ['ethereum', 'solana'] });
      const { json } = await getJson<Record<string, unknown>[]>(marketsUrl());
      const bad = json.filter((i) => typeof i.current_price !== 'number').map((i) => i.id);
      expect(bad.sort()).toEqual(['ethereum', 'solana']);
      expect(json.find((i) => i.id === 'ethereum')!.current_price).toBe('n/a');
    });

    it('serves the inactiveCoins with the old last_updated they were frozen at, and refuses a timestamp that is not UTC ISO', async () => {
      sim.control.setFaults({ inactiveCoins: { ethereum: '2021-03-10T08:14:02.000Z' } });
      const { json } = await getJson<Record<string, unknown>[]>(marketsUrl());
      expect(json.find((i) => i.id === 'ethereum')!.last_updated).toBe('2021-03-10T08:14:02.000Z');
      expect(json.filter((i) => String(i.last_updated).startsWith('2021')).map((i) => i.id)).toEqual(['ethereum']);
      expect(() => sim.control.setFaults({ inactiveCoins: { ethereum: 'last year' } })).toThrow(/inactiveCoins/);
    });

    it('corrupts about invalidRecordRate of the records, the same ones within a step', async () => {
      sim.control.setFaults({ invalidRecordRate: 0.2 });
      const url = `${sim.url}/coins/markets?vs_currency=usd&per_page=250`;
      const isValid = (i: Record<string, unknown>) =>
        typeof i.id === 'string' &&
        typeof i.current_price === 'number' &&
        (i.market_cap === null || typeof i.market_cap === 'number') &&
        !Number.isNaN(Date.parse(i.last_updated as string));
      const first = (await getJson<Record<string, unknown>[]>(url)).json;
      const again = (await getJson<Record<string, unknown>[]>(url)).json;
      expect(again).toEqual(first);
      const invalid = first.filter((i) => !isValid(i)).length;
      expect(invalid).toBeGreaterThan(20);
      expect(invalid).toBeLessThan(80);
    });

    it('applies schema drift: renamed, stringified and extra fields', async () => {
      sim.control.setFaults({
        renameFields: { current_price: 'price' },
        stringifyFields: ['market_cap'],
        extraFields: { sponsored: true },
      });
      const { json } = await getJson<Record<string, unknown>[]>(`${sim.url}/coins/markets?vs_currency=usd&ids=bitcoin`);
      const item = json[0]!;
      expect(Object.keys(item)[4]).toBe('price');
      expect(item).not.toHaveProperty('current_price');
      expect(typeof item.market_cap).toBe('string');
      expect(item.sponsored).toBe(true);
    });
  });
});
