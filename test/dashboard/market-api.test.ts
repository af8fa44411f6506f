import { MAX_SEARCH_LENGTH } from '../../dashboard/api/params.js';
import { QUEUE_KEYS } from '../../core/queues/registry.js';
import { call } from './http.js';
import { startMarketFixture, type MarketFixture } from './market-fixture.js';

const COINS = 30;
const TICKS = 4;
const MARTS = 'analytics_marts';
let f: MarketFixture;
const get = (path: string) => call(`${f.url}/api/v1${path}`);

beforeAll(async () => {
  f = await startMarketFixture({ coins: COINS, ticks: TICKS, events: { pollMs: 100 } });
  await f.pipeline.stop(); // nothing changes under the assertions below (the live test adds its own run)
});
afterAll(() => f?.close());

describe('GET /api/v1/market/overview', () => {
  it('reports the newest hour of the market with dominance, movers and 7 days of totals', async () => {
    const reply = await get('/market/overview');
    expect(reply.status).toBe(200);
    const { overview } = reply.json();
    const [latest] = await f.q(
      `select total_market_cap::float8 as cap, coin_count::int, bitcoin_dominance_pct::float8 as btc from ${MARTS}.fct_market_overview_hourly order by bucket_start desc limit 1`,
    );
    expect(overview).toMatchObject({
      totalMarketCap: latest.cap,
      coinCount: latest.coin_count,
      bitcoinDominancePct: latest.btc,
    });
    expect(overview.coinCount).toBe(COINS - 1); // the invalid coin's records are all quarantined
    expect(overview.history).toHaveLength(TICKS);
    expect(overview.gainers24h.length).toBeGreaterThan(0);
    const change = (m: { changePct24h: number }) => m.changePct24h;
    const gainers = overview.gainers24h.map(change);
    const losers = overview.losers24h.map(change);
    expect(gainers).toEqual([...gainers].sort((a, b) => b - a)); // biggest gain first
    expect(losers).toEqual([...losers].sort((a, b) => a - b)); // biggest loss first
    expect(Math.min(...gainers)).toBeGreaterThan(Math.max(...losers));
  });
});

describe('GET /api/v1/coins', () => {
  it('pages dim_coins by rank by default, each coin with its 7-day sparkline', async () => {
    const { coins, total, page, pages, pageSize, sort, order } = (await get('/coins')).json();
    expect({ total, page, pages, pageSize, sort, order }).toEqual({
      total: COINS - 1,
      page: 1,
      pages: 2,
      pageSize: 25,
      sort: 'rank',
      order: 'asc',
    });
    const ranks = coins.map((c: { rank: number }) => c.rank);
    expect(ranks).toEqual([...ranks].sort((a, b) => a - b));
    expect(coins[0]).toMatchObject({
      id: expect.any(String),
      price: expect.any(Number),
      marketCap: expect.any(Number),
    });
    for (const coin of coins) expect(coin.sparkline7d).toHaveLength(TICKS);
  });

  it('sorts by any column either way, in SQL', async () => {
    const byPrice = (await get('/coins?sort=price&order=desc&pageSize=100'))
      .json()
      .coins.map((c: { price: number }) => c.price);
    expect(byPrice).toHaveLength(COINS - 1);
    expect(byPrice).toEqual([...byPrice].sort((a, b) => b - a));
    const byName = (await get('/coins?sort=name&pageSize=100'))
      .json()
      .coins.map((c: { name: string }) => c.name.toLowerCase());
    expect(byName).toEqual([...byName].sort());
  });

  it('searches names, symbols and ids, with LIKE wildcards taken literally', async () => {
    const { coins, total } = (await get('/coins?q=BITCOIN')).json();
    expect(total).toBeGreaterThanOrEqual(1);
    expect(coins.map((c: { id: string }) => c.id)).toContain('bitcoin');
    for (const c of coins) expect(`${c.id} ${c.name} ${c.symbol}`.toLowerCase()).toContain('bitcoin');
    expect((await get('/coins?q=%25')).json()).toMatchObject({ total: 0, coins: [] });
  });

  it('pages: page 2 of 10 continues where page 1 ended', async () => {
    const all = (await get('/coins?pageSize=20')).json().coins.map((c: { id: string }) => c.id);
    const second = (await get('/coins?pageSize=10&page=2')).json();
    expect(second.coins.map((c: { id: string }) => c.id)).toEqual(all.slice(10, 20));
    expect((await get('/coins?page=99')).json()).toMatchObject({ coins: [], total: COINS - 1 });
  });
});

describe('GET /api/v1/coins/:id and /candles', () => {
  it("returns the coin's latest state and volatility", async () => {
    const reply = await get('/coins/bitcoin');
    expect(reply.status).toBe(200);
    const [dim] = await f.q(`select price::float8, market_cap_rank from ${MARTS}.dim_coins where coin_id = 'bitcoin'`);
    expect(reply.json().coin).toMatchObject({
      id: 'bitcoin',
      price: dim.price,
      rank: dim.market_cap_rank,
      volatility24h: expect.any(Number),
      anomalyCount: 0,
    });
  });

  it('returns the hourly and daily candles of the mart, within the range', async () => {
    const hourly = (await get('/coins/bitcoin/candles?interval=hourly&range=all')).json();
    const mart = await f.q(
      `select extract(epoch from bucket_start)::float8 as time, close_price::float8 as close, source, point_count::int as "pointCount"
         from ${MARTS}.fct_coin_candles_hourly where coin_id = 'bitcoin' order by 1`,
    );
    type Row = { time: number; close: number; source: string; pointCount: number };
    expect(
      hourly.candles.map(({ time, close, source, pointCount }: Row) => ({ time, close, source, pointCount })),
    ).toEqual(mart);
    // Every candle here was built from live ticks (test/dashboard/history-candles.test.ts adds history).
    expect(mart.every((c: Row) => c.source === 'snapshots' && c.pointCount >= 1)).toBe(true);
    expect(hourly.candles).toHaveLength(TICKS);
    expect(hourly.volatility24h.length).toBeGreaterThan(0);
    const daily = (await get('/coins/bitcoin/candles?interval=daily&range=30d')).json();
    expect(daily.candles.length).toBeGreaterThanOrEqual(1);
    expect(daily.candles.every((c: { time: number }) => c.time % 86_400 === 0)).toBe(true);
    // 24h before the newest candle (exclusive): the newest 24 hours at most.
    expect((await get('/coins/bitcoin/candles?range=24h')).json().candles.length).toBeLessThanOrEqual(24);
  });

  it("lists the coin's flagged anomalies with the candles", async () => {
    const [last] = await f.q(
      `select bucket_start from ${MARTS}.fct_coin_candles_hourly where coin_id = 'ethereum' order by bucket_start desc limit 1`,
    );
    // The simulator's few hours never reach the rule's 12 observations: flag one hour by hand.
    await f.q(
      `update ${MARTS}.fct_price_anomalies set is_anomaly = true, anomaly_direction = 'spike', robust_z_score = 5.1, return_1h = 0.2
                where coin_id = 'ethereum' and bucket_start = $1`,
      [last.bucket_start],
    );
    const { anomalies } = (await get('/coins/ethereum/candles')).json();
    expect(anomalies).toEqual([
      { time: last.bucket_start.getTime() / 1000, direction: 'spike', zScore: 5.1, return1h: 0.2 },
    ]);
    expect((await get('/coins/ethereum')).json().coin.anomalyCount).toBe(1);
  });

  it('answers 404 naming an unknown coin', async () => {
    for (const path of ['/coins/no-such-coin', '/coins/no-such-coin/candles']) {
      const reply = await get(path);
      expect(reply.status).toBe(404);
      expect(reply.json()).toEqual({ error: 'unknown coin: no-such-coin' });
    }
  });
});

describe('GET /api/v1/pipeline/*', () => {
  it('reports data freshness against the threshold', async () => {
    const { freshness } = (await get('/pipeline/freshness')).json();
    expect(freshness).toMatchObject({ stale: false, staleAfterSeconds: 900, trackedCoins: COINS, staleCoins: 0 });
    expect(freshness.ageSeconds).toBeLessThan(120);
  });

  it('lists dbt runs newest first, each with every model and test result', async () => {
    const { transformRuns } = (await get('/pipeline/transform-runs?limit=2')).json();
    expect(transformRuns).toHaveLength(2);
    expect(transformRuns[0].transformRunId).toBeGreaterThan(transformRuns[1].transformRunId);
    expect(transformRuns[0]).toMatchObject({ status: 'success', runner: 'bundled', modelsBuilt: 12, testsFailed: 0 });
    const nodes = transformRuns[0].nodes;
    expect(nodes.filter((n: { resourceType: string }) => n.resourceType === 'model')).toHaveLength(12);
    expect(nodes.filter((n: { resourceType: string }) => n.resourceType === 'test').length).toBe(
      transformRuns[0].testsPassed + transformRuns[0].testsWarned,
    );
  });

  it('lists quarantined records with their reasons', async () => {
    const { records, total } = (await get('/pipeline/quarantine')).json();
    expect(total).toBe(TICKS);
    expect(records).toHaveLength(TICKS);
    expect(records[0]).toMatchObject({
      coinId: f.invalidCoinId,
      reason: expect.stringMatching(/current_price/),
      record: expect.any(Object),
    });
  });

  it('lists the coins whose data stopped arriving, from the per-coin freshness mart', async () => {
    expect((await get('/pipeline/stale-coins')).json()).toEqual({ coins: [], total: 0 });
    // bitcoin's newest snapshot was loaded 2 hours ago, ethereum's 30 minutes ago (threshold 15).
    await f.q(`update ${MARTS}.dim_coins set loaded_at = now() - interval '2 hours' where coin_id = 'bitcoin'`);
    await f.q(`update ${MARTS}.dim_coins set loaded_at = now() - interval '30 minutes' where coin_id = 'ethereum'`);
    const reply = (await get('/pipeline/stale-coins?limit=1')).json();
    expect(reply.total).toBe(2);
    expect(reply.coins).toEqual([
      {
        id: 'bitcoin',
        name: 'Bitcoin',
        symbol: 'btc',
        rank: 1,
        loadedAt: expect.any(String),
        secondsSinceLoaded: expect.any(Number),
      },
    ]);
    expect(reply.coins[0].secondsSinceLoaded).toBeGreaterThanOrEqual(7199);
    await f.q(`update ${MARTS}.dim_coins set loaded_at = now() where coin_id in ('bitcoin', 'ethereum')`);
  });

  it('reports the depth of every registry queue', async () => {
    const { queues } = (await get('/pipeline/queues')).json();
    expect(queues.map((q: { key: string }) => q.key)).toEqual([...QUEUE_KEYS]);
    const transform = queues.find((q: { key: string }) => q.key === 'transform');
    expect(transform.counts).toMatchObject({ completed: TICKS, failed: 0, waiting: 0 });
  });
});

describe('GET /api/v1/events', () => {
  it('sends the newest transform run at once and every newer one as it finishes', async () => {
    const controller = new AbortController();
    const response = await fetch(`${f.url}/api/v1/events`, { signal: controller.signal });
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    const events: Array<{ transformRunId: number; runId: string }> = [];
    let buffer = '';
    const next = async () => {
      while (true) {
        const match = /event: transform\ndata: (.*)\n\n/.exec(buffer);
        if (match) {
          buffer = buffer.slice(match.index + match[0].length);
          events.push(JSON.parse(match[1]!));
          return events.at(-1)!;
        }
        const { value, done } = await reader.read();
        if (done) throw new Error('stream ended');
        buffer += value;
      }
    };
    const [newest] = await f.q(`select max(transform_run_id)::int as id from pipeline.transform_runs`);
    expect(await next()).toMatchObject({ transformRunId: newest.id, status: 'success' });
    await f.q(
      `insert into pipeline.transform_runs (run_id, runner, status, finished_at) values ('t-live', 'bundled', 'running', null)`,
    );
    await f.q(`update pipeline.transform_runs set status = 'success', finished_at = now() where run_id = 't-live'`);
    expect(await next()).toMatchObject({ transformRunId: newest.id + 1, runId: 't-live', status: 'success' });
    controller.abort();
  });
});

describe('parameter validation', () => {
  it.each([
    [
      '/coins?sort=colour',
      'sort',
      'sort must be one of rank, name, price, change_1h, change_24h, change_7d, market_cap, volume',
    ],
    ['/coins?order=up', 'order', 'order must be one of asc, desc'],
    ['/coins?page=0', 'page', 'page must be an integer from 1 to 100000'],
    ['/coins?pageSize=101', 'pageSize', 'pageSize must be an integer from 1 to 100'],
    ['/coins?pageSize=1e2', 'pageSize', 'pageSize must be an integer from 1 to 100'],
    [
      '/coins?sort=price&sort=name',
      'sort',
      'sort must be one of rank, name, price, change_1h, change_24h, change_7d, market_cap, volume',
    ],
    [`/coins?q=${'x'.repeat(MAX_SEARCH_LENGTH + 1)}`, 'q', 'q must be text of at most 64 printable characters'],
    [
      '/coins?color=red',
      'color',
      'color must be absent: this endpoint takes sort, order, q, page, pageSize, marketCapMin, marketCapMax, changeWindow, changeMin, changeMax, volumeMin',
    ],
    [
      '/coins/Bitcoin',
      'id',
      'id must be a coin id: lowercase letters, digits, ".", "_" or "-", at most 100 characters',
    ],
    ['/coins/bitcoin/candles?interval=minute', 'interval', 'interval must be one of hourly, daily'],
    ['/coins/bitcoin/candles?range=1y', 'range', 'range must be one of 24h, 7d, 30d, all'],
    ['/market/overview?x=1', 'x', 'x must be absent: this endpoint takes no parameters'],
    ['/pipeline/transform-runs?limit=51', 'limit', 'limit must be an integer from 1 to 50'],
    ['/pipeline/quarantine?limit=-1', 'limit', 'limit must be an integer from 1 to 500'],
    ['/pipeline/stale-coins?limit=0', 'limit', 'limit must be an integer from 1 to 500'],
  ])('%s → 400 naming %s', async (path, parameter, error) => {
    const reply = await get(path);
    expect(reply.status).toBe(400);
    expect(reply.json()).toEqual({ error, parameter });
  });
});

describe('what the API reads', () => {
  it('queries marts and pipeline tables only, never raw, with values bound as parameters', () => {
    expect(f.queries.length).toBeGreaterThan(20);
    for (const sql of f.queries) {
      expect(sql).not.toMatch(/\braw\./);
      expect(sql).not.toMatch(/'(bitcoin|ethereum)'|no-such-coin|%/); // ids and search text arrive as $n, never in the text
    }
  });
});
