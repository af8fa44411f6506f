import { startSimulator, type SimulatorHandle } from '../../simulator/server.js';
import { controlUrl, get, getJson, post } from './fixtures.js';

describe('control API under /__sim', () => {
  let sim: SimulatorHandle;
  let control: string;

  beforeAll(async () => {
    sim = await startSimulator({ coins: 300, rateLimit: 2, rateWindowMs: 60_000 });
    control = controlUrl(sim.url);
  });
  afterAll(() => sim.close());
  beforeEach(() => post(`${control}/reset`));

  it('counts requests by status and endpoint, and is itself never rate limited', async () => {
    await get(`${sim.url}/coins/markets?vs_currency=usd&ids=bitcoin,ethereum,nope`);
    await get(`${sim.url}/coins/bitcoin/market_chart/range?vs_currency=usd&from=1&to=2`);
    await get(`${sim.url}/ping`);
    for (let i = 0; i < 5; i++) expect((await get(`${control}/stats`)).status).toBe(200);
    const { json } = await getJson(`${control}/stats`);
    expect(json).toEqual({
      requests: 3,
      byStatus: { '200': 1, '401': 1, '429': 1 },
      byEndpoint: { '/coins/markets': 1, '/coins/{id}/market_chart/range': 1, '/ping': 1 },
      rateLimited: 1,
      served: 1,
    });
  });

  it('logs requests with path, status and the number of ids', async () => {
    const before = Date.now();
    await get(`${sim.url}/coins/markets?vs_currency=usd&ids=bitcoin,ethereum,nope`);
    const { json } = await getJson<unknown[]>(`${control}/requests?since=${before}`);
    expect(json).toEqual([{ t: expect.any(Number), path: '/coins/markets', status: 200, ids: 3 }]);
    expect((await getJson<unknown[]>(`${control}/requests?since=${Date.now() + 60_000}`)).json).toEqual([]);
  });

  it('merges POSTed fault settings, appends failNext, and GET /faults shows them', async () => {
    await post(`${control}/faults`, { failNext: [{ count: 1, kind: '503' }] });
    const res = await post(`${control}/faults`, {
      rateLimit: 0,
      failNext: [{ count: 2, kind: 'html', path: '/coins' }],
    });
    expect(res.status).toBe(200);
    const { json } = await getJson<Record<string, unknown>>(`${control}/faults`);
    expect(json.rateLimit).toBe(0);
    expect(json.failNext).toEqual([
      { count: 1, kind: '503' },
      { count: 2, kind: 'html', path: '/coins' },
    ]);
    expect((await get(`${sim.url}/coins/list`)).status).toBe(503);
    expect((await get(`${sim.url}/coins/list`)).body).toMatch(/^<!DOCTYPE html>/);
    const stats = (await getJson<{ byStatus: Record<string, number> }>(`${control}/stats`)).json;
    expect(stats.byStatus).toEqual({ '503': 1, '200': 1 });
  });

  it('rejects invalid settings with 400 listing the problems', async () => {
    const res = await post(`${control}/faults`, { errorRate: 2, retryAftr: true });
    expect(res.status).toBe(400);
    const body = JSON.parse(res.body) as { problems: string[] };
    expect(body.problems).toHaveLength(2);
    expect(body.problems.join('\n')).toMatch(/errorRate/);
    expect(body.problems.join('\n')).toMatch(/retryAftr: unknown setting/);
  });

  it('resets faults to the start options and zeroes stats', async () => {
    await post(`${control}/faults`, { outage: true, rateLimit: 0 });
    await get(`${sim.url}/ping`);
    await post(`${control}/reset`);
    const { json } = await getJson<Record<string, unknown>>(`${control}/faults`);
    expect(json).toMatchObject({ outage: false, rateLimit: 2 });
    expect(sim.control.stats().requests).toBe(0);
    expect(sim.control.requests()).toEqual([]);
  });

  it('exposes the universe in a stable order, well-known coins first', () => {
    const ids = sim.control.universeIds();
    expect(ids).toHaveLength(300);
    expect(ids.slice(0, 3)).toEqual(['bitcoin', 'ethereum', 'tether']);
    expect(new Set(ids).size).toBe(300);
    for (const id of ids) expect(id).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
  });
});
