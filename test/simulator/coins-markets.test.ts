import { startSimulator, type SimulatorHandle } from '../../simulator/server.js';
import { get, getJson, manualClock, PINNED_NOW } from './fixtures.js';

type Item = Record<string, unknown>;

const FIELD_ORDER = [
  'id',
  'symbol',
  'name',
  'image',
  'current_price',
  'market_cap',
  'market_cap_rank',
  'fully_diluted_valuation',
  'total_volume',
  'high_24h',
  'low_24h',
  'price_change_24h',
  'price_change_percentage_24h',
  'market_cap_change_24h',
  'market_cap_change_percentage_24h',
  'circulating_supply',
  'total_supply',
  'max_supply',
  'ath',
  'ath_change_percentage',
  'ath_date',
  'atl',
  'atl_change_percentage',
  'atl_date',
  'roi',
  'last_updated',
];
const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

describe('GET /coins/markets', () => {
  const clock = manualClock();
  let sim: SimulatorHandle;
  let ids: string[];
  const markets = (query: string) => getJson<Item[]>(`${sim.url}/coins/markets?${query}`);

  beforeAll(async () => {
    sim = await startSimulator({ seed: 7, coins: 3000, stepMs: 10_000, clock: clock.clock });
    ids = sim.control.universeIds();
  });
  afterAll(() => sim.close());
  beforeEach(() => clock.set(PINNED_NOW));

  describe('determinism', () => {
    it('gives byte-identical bodies from two simulators with the same seed at the same time', async () => {
      const twin = await startSimulator({ seed: 7, coins: 3000, clock: clock.clock });
      try {
        const query = `vs_currency=usd&ids=${ids.slice(0, 120).join(',')}&per_page=250&sparkline=true&price_change_percentage=1h,7d`;
        const [a, b] = await Promise.all([
          get(`${sim.url}/coins/markets?${query}`),
          get(`${twin.url}/coins/markets?${query}`),
        ]);
        expect(a.status).toBe(200);
        expect(a.body).toBe(b.body);
      } finally {
        await twin.close();
      }
    });

    it('gives different prices with a different seed', async () => {
      const other = await startSimulator({ seed: 8, coins: 3000, clock: clock.clock });
      try {
        const query = 'vs_currency=usd&ids=bitcoin,ethereum,solana';
        const [a, b] = await Promise.all([markets(query), getJson<Item[]>(`${other.url}/coins/markets?${query}`)]);
        expect(a.json.map((i) => i.current_price)).not.toEqual(b.json.map((i) => i.current_price));
      } finally {
        await other.close();
      }
    });

    it('returns identical data for two requests within one step', async () => {
      const first = await get(`${sim.url}/coins/markets?vs_currency=usd&per_page=50`);
      clock.advance(4_000);
      const second = await get(`${sim.url}/coins/markets?vs_currency=usd&per_page=50`);
      expect(second.body).toBe(first.body);
    });

    it('matches control.marketsSnapshot for the same ids and time', async () => {
      const some = ids.slice(100, 140);
      const { json } = await markets(`vs_currency=eur&ids=${some.join(',')}`);
      expect(json).toEqual(sim.control.marketsSnapshot(some, 'eur', PINNED_NOW));
    });
  });

  describe('items', () => {
    it('carry the 26 documented fields in CoinGecko key order with their types', async () => {
      const { json } = await markets('vs_currency=usd&per_page=250');
      expect(json).toHaveLength(250);
      for (const item of json) {
        expect(Object.keys(item)).toEqual(FIELD_ORDER);
        expect(typeof item.id).toBe('string');
        expect(item.symbol).toMatch(/^[a-z0-9]+$/);
        expect(item.image).toMatch(/^https:\/\/coin-images\.coingecko\.com\/coins\/images\/\d+\/large\//);
        expect(typeof item.current_price).toBe('number');
        expect(item.last_updated).toMatch(ISO_MS);
        expect(new Date(item.last_updated as string).getTime()).toBeLessThanOrEqual(PINNED_NOW);
        for (const field of ['fully_diluted_valuation', 'total_supply', 'max_supply']) {
          expect(item[field] === null || typeof item[field] === 'number').toBe(true);
        }
        if (item.roi !== null) expect(Object.keys(item.roi as object)).toEqual(['times', 'currency', 'percentage']);
        expect(item.ath_date).toMatch(ISO_MS);
        expect(item.atl_date).toMatch(ISO_MS);
      }
    });

    it('puts bitcoin first with a market cap of the right magnitude', async () => {
      const { json } = await markets('vs_currency=usd&per_page=1');
      expect(json[0]).toMatchObject({ id: 'bitcoin', symbol: 'btc', market_cap_rank: 1 });
      expect(json[0]!.current_price).toBeGreaterThan(40_000);
      expect(json[0]!.current_price).toBeLessThan(150_000);
    });

    it('includes nulls where CoinGecko sends them: FDV, supplies, roi and unranked coins', async () => {
      const all = sim.control.marketsSnapshot(ids);
      expect(all.some((i) => i.fully_diluted_valuation === null)).toBe(true);
      expect(all.some((i) => i.max_supply === null)).toBe(true);
      expect(all.some((i) => i.total_supply === null)).toBe(true);
      expect(all.filter((i) => i.roi !== null).length).toBeGreaterThan(0);
      expect(all.filter((i) => i.roi === null).length).toBeGreaterThan(all.length / 2);
      const unranked = all.filter((i) => i.market_cap_rank === null);
      expect(unranked.length).toBeGreaterThan(0);
      expect(unranked.every((i) => i.market_cap === null || i.market_cap === 0)).toBe(true);
      // Unranked coins sort after every ranked one.
      expect(all.findIndex((i) => i.market_cap_rank === null)).toBe(all.length - unranked.length);
    });

    it('serialises tiny prices in exponent notation and includes supplies above 1e15', async () => {
      const tiny = sim.control
        .marketsSnapshot(ids)
        .filter((i) => (i.current_price as number) < 1e-5)
        .map((i) => i.id as string);
      expect(tiny.length).toBeGreaterThan(0);
      const res = await get(`${sim.url}/coins/markets?vs_currency=usd&ids=${tiny.slice(0, 100).join(',')}`);
      expect(res.body).toMatch(/"current_price":\d(\.\d+)?e-\d\d,/);
      const huge = sim.control.marketsSnapshot(ids).filter((i) => (i.circulating_supply as number) > 1e15);
      expect(huge.length).toBeGreaterThan(0);
    });

    it('adds a 168-point sparkline and only the requested price change fields', async () => {
      const { json } = await markets('vs_currency=usd&ids=bitcoin&sparkline=true&price_change_percentage=1h,30d');
      const item = json[0]!;
      expect((item.sparkline_in_7d as { price: number[] }).price).toHaveLength(168);
      expect(Object.keys(item).slice(26)).toEqual([
        'sparkline_in_7d',
        'price_change_percentage_1h_in_currency',
        'price_change_percentage_30d_in_currency',
      ]);
      expect(typeof item.price_change_percentage_30d_in_currency).toBe('number');
    });

    it('converts with fixed rates per vs_currency', async () => {
      const [usd, jpy] = await Promise.all([
        markets('vs_currency=usd&ids=ethereum'),
        markets('vs_currency=jpy&ids=ethereum'),
      ]);
      const ratio = (jpy.json[0]!.market_cap as number) / (usd.json[0]!.market_cap as number);
      expect(ratio).toBeCloseTo(151.4, 3);
    });
  });

  describe('ids, order and pagination', () => {
    it('drops unknown ids silently and returns [] when none are known', async () => {
      const { json } = await markets('vs_currency=usd&ids=bitcoin,no-such-coin,ethereum');
      expect(json.map((i) => i.id)).toEqual(['bitcoin', 'ethereum']);
      expect((await markets('vs_currency=usd&ids=no-such-coin,nor-this')).json).toEqual([]);
    });

    it('filters by ids, then orders, then paginates', async () => {
      const some = ids.slice(200, 260);
      const byId = [...some].sort();
      const page2 = await markets(`vs_currency=usd&ids=${some.join(',')}&order=id_asc&per_page=25&page=2`);
      expect(page2.json.map((i) => i.id)).toEqual(byId.slice(25, 50));
      const desc = await markets(`vs_currency=usd&ids=${some.join(',')}&order=id_desc&per_page=250`);
      expect(desc.json.map((i) => i.id)).toEqual([...byId].reverse());
    });

    it.each([
      ['market_cap_desc', 'market_cap', -1],
      ['market_cap_asc', 'market_cap', 1],
      ['volume_desc', 'total_volume', -1],
      ['volume_asc', 'total_volume', 1],
    ] as const)('orders by %s', async (order, field, direction) => {
      const { json } = await markets(`vs_currency=usd&ids=${ids.slice(0, 300).join(',')}&order=${order}&per_page=250`);
      const values = json.map((i) => i[field]).filter((v): v is number => typeof v === 'number' && v > 0);
      expect(values.length).toBeGreaterThan(200);
      for (let i = 1; i < values.length; i++)
        expect(Math.sign(values[i]! - values[i - 1]!) || direction).toBe(direction);
    });

    it('defaults to 100 per page and clamps per_page above 250 to 250', async () => {
      expect((await markets('vs_currency=usd')).json).toHaveLength(100);
      expect((await markets('vs_currency=usd&per_page=1000')).json).toHaveLength(250);
    });

    it('pages by market cap rank', async () => {
      const { json } = await markets('vs_currency=usd&per_page=100&page=2');
      expect(json.map((i) => i.market_cap_rank)).toEqual(Array.from({ length: 100 }, (_, i) => 101 + i));
    });

    it('returns [] past the last page', async () => {
      const res = await get(`${sim.url}/coins/markets?vs_currency=usd&per_page=250&page=13`);
      expect(res.status).toBe(200);
      expect(res.body).toBe('[]');
    });

    it.each([
      ['vs_currency=usdt', 'invalid vs_currency'],
      ['per_page=10', 'invalid vs_currency'],
      ['vs_currency=usd&per_page=0', 'invalid per_page'],
      ['vs_currency=usd&per_page=1.5', 'invalid per_page'],
      ['vs_currency=usd&per_page=ten', 'invalid per_page'],
      ['vs_currency=usd&order=gecko_desc', 'invalid order'],
    ])('answers %s with 400 {"error":"%s"}', async (query, message) => {
      const res = await get(`${sim.url}/coins/markets?${query}`);
      expect(res.status).toBe(400);
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      expect(res.body).toBe(JSON.stringify({ error: message }));
    });
  });

  describe('steps', () => {
    it('gives every coin a new last_updated in the next step', async () => {
      const before = (await markets('vs_currency=usd&order=id_asc&per_page=250')).json;
      clock.advance(10_000);
      const after = (await markets('vs_currency=usd&order=id_asc&per_page=250')).json;
      expect(after.map((i) => i.id)).toEqual(before.map((i) => i.id));
      after.forEach((item, k) =>
        expect(Date.parse(item.last_updated as string)).toBeGreaterThan(Date.parse(before[k]!.last_updated as string)),
      );
    });

    it('shifts some market cap ranks over a few steps', async () => {
      const rankById = () =>
        new Map(sim.control.marketsSnapshot(ids, 'usd', clock.clock()).map((i) => [i.id, i.market_cap_rank]));
      const before = rankById();
      clock.advance(5 * 10_000);
      const after = rankById();
      const moved = ids.filter((id) => before.get(id) !== after.get(id));
      expect(moved.length).toBeGreaterThan(0);
    });
  });
});

describe('staleFraction', () => {
  it('makes that share of coins update only every 10 steps', async () => {
    const clock = manualClock(Math.floor(PINNED_NOW / 100_000) * 100_000 + 5_000);
    const sim = await startSimulator({ coins: 1000, stepMs: 10_000, staleFraction: 0.3, clock: clock.clock });
    try {
      const ids = sim.control.universeIds();
      const stamps = () =>
        new Map(sim.control.marketsSnapshot(ids, 'usd', clock.clock()).map((i) => [i.id, i.last_updated]));
      const before = stamps();
      clock.advance(10_000);
      const after = stamps();
      const unchanged = ids.filter((id) => before.get(id) === after.get(id)).length;
      expect(unchanged / ids.length).toBeGreaterThan(0.2);
      expect(unchanged / ids.length).toBeLessThan(0.4);
    } finally {
      await sim.close();
    }
  });
});
