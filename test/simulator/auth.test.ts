import { startSimulator, type SimulatorHandle } from '../../simulator/server.js';
import { get, getJson } from './fixtures.js';

const KEY_MISSING = {
  status: {
    error_code: 10002,
    error_message: "API Key Missing. Please make sure you're using the right authentication method.",
  },
};

describe('API key checks', () => {
  describe('demo plan', () => {
    let sim: SimulatorHandle;
    beforeAll(async () => {
      sim = await startSimulator({ coins: 100, apiKey: 'demo-key', plan: 'demo' });
    });
    afterAll(() => sim.close());

    it('accepts the key in the x-cg-demo-api-key header', async () => {
      const res = await getJson(`${sim.url}/ping`, { headers: { 'x-cg-demo-api-key': 'demo-key' } });
      expect(res).toMatchObject({ status: 200, json: { gecko_says: '(V3) To the Moon!' } });
    });

    it('accepts the key in the x_cg_demo_api_key query parameter', async () => {
      expect((await get(`${sim.url}/coins/markets?vs_currency=usd&per_page=1&x_cg_demo_api_key=demo-key`)).status).toBe(
        200,
      );
    });

    it.each([
      ['no key', {}],
      ['a wrong key', { 'x-cg-demo-api-key': 'nope' }],
    ])('answers %s with 401 and error_code 10002, also on /ping', async (_, headers) => {
      const res = await getJson(`${sim.url}/ping`, { headers });
      expect(res.status).toBe(401);
      expect(res.json).toEqual(KEY_MISSING);
    });

    it('answers a pro key header with 400 and error_code 10010 inside status', async () => {
      const res = await getJson<{ status: { error_code: number; error_message: string } }>(
        `${sim.url}/coins/markets?vs_currency=usd`,
        {
          headers: { 'x-cg-pro-api-key': 'demo-key' },
        },
      );
      expect(res.status).toBe(400);
      expect(res.json.status.error_code).toBe(10010);
      expect(res.json.status.error_message).toMatch(/pro-api\.coingecko\.com/);
    });
  });

  describe('pro plan', () => {
    let sim: SimulatorHandle;
    beforeAll(async () => {
      sim = await startSimulator({ coins: 100, apiKey: 'pro-key', plan: 'pro' });
    });
    afterAll(() => sim.close());

    it('accepts the key in the x-cg-pro-api-key header or x_cg_pro_api_key parameter', async () => {
      expect((await get(`${sim.url}/ping`, { headers: { 'x-cg-pro-api-key': 'pro-key' } })).status).toBe(200);
      expect((await get(`${sim.url}/ping?x_cg_pro_api_key=pro-key`)).status).toBe(200);
    });

    it('answers a demo key header with 400 and a top-level error_code 10011', async () => {
      const res = await getJson<Record<string, unknown>>(`${sim.url}/ping`, {
        headers: { 'x-cg-demo-api-key': 'pro-key' },
      });
      expect(res.status).toBe(400);
      expect(Object.keys(res.json)).toEqual(['timestamp', 'error_code', 'status']);
      expect(res.json.error_code).toBe(10011);
      expect(res.json.timestamp).toMatch(/\+00:00$/);
    });
  });

  it('checks nothing when no key is configured', async () => {
    const sim = await startSimulator({ coins: 100 });
    try {
      expect((await get(`${sim.url}/ping`)).status).toBe(200);
      expect((await get(`${sim.url}/ping`, { headers: { 'x-cg-pro-api-key': 'x' } })).status).toBe(200);
    } finally {
      await sim.close();
    }
  });
});
