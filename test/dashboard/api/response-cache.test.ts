import winston from 'winston';
import { createApp } from '../../../dashboard/app.js';
import type { ResponseCache } from '../../../dashboard/api/response-cache.js';
import { Runtime } from '../../../core/runtime.js';
import { call, serve, type Served } from '../http.js';
import { startSyntheticMarts, type SyntheticMarts } from '../synthetic-marts.js';

/**
 * The market API's response cache (dashboard/api/response-cache.ts) over marts built by real
 * transform runs: kept until the next run, never served after this process has seen a newer run,
 * revalidated with ETags, and bypassed by the pipeline endpoints.
 */
const silent = winston.createLogger({ silent: true });
const MARTS = 'analytics_marts';

let marts: SyntheticMarts;
let runtime: Runtime;
const servers: Served[] = [];

/** A dashboard replica; `maxAgeMs` is how old its view of the newest run may get before a request checks it. */
async function replica(
  maxAgeMs: number,
  cacheOptions: { maxEntries?: number; maxBytes?: number } = {},
  pollMs = 100,
): Promise<{ url: string; cache: ResponseCache }> {
  let cache: ResponseCache | undefined;
  const app = createApp({
    config: marts.config(),
    pool: runtime.pool,
    redis: runtime.redis,
    queues: (key) => runtime.queue(key),
    checkMigrations: async () => false,
    events: { pollMs },
    cache: { ...cacheOptions, maxAgeMs },
    onCache: (c) => (cache = c),
    logger: silent,
  });
  const served = await serve(app);
  servers.push(served);
  return { url: `${served.url}/api/v1`, cache: cache! };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- each assertion names the row shape it reads
const q = async <T = any>(sql: string, params: unknown[] = []): Promise<T[]> =>
  (await marts.db.pool.query(sql, params)).rows;
const dbPrice = async (coin: string) =>
  (await q<{ price: number }>(`select price::float8 from ${MARTS}.dim_coins where coin_id = $1`, [coin]))[0]!.price;

/** A settled run recorded as the transform worker records one, with no change to the marts. */
async function recordRun(): Promise<number> {
  const [row] = await q<{ id: number }>(
    `insert into pipeline.transform_runs (run_id, runner, status, finished_at) values ('hand-' || gen_random_uuid(), 'bundled', 'success', now()) returning transform_run_id::int as id`,
  );
  return row!.id;
}

beforeAll(async () => {
  marts = await startSyntheticMarts({ coins: 6, minutes: 3 * 60 });
  runtime = new Runtime(marts.config(), silent, 'dashboard');
});

afterAll(async () => {
  for (const s of servers) await s.close();
  await runtime?.close();
  await marts?.close();
});

describe('market responses', () => {
  it('are answered from the cache until a run, with an ETag and no-cache', async () => {
    const { url, cache } = await replica(60_000);
    const first = await call(`${url}/coins/bitcoin`);
    expect(first.status).toBe(200);
    expect(first.headers.get('x-cache')).toBe('miss');
    expect(first.headers.get('cache-control')).toBe('no-cache');
    expect(first.headers.get('content-type')).toBe('application/json; charset=utf-8');
    const etag = first.headers.get('etag');
    expect(etag).toMatch(/^"\d+-[A-Za-z0-9_-]{16}"$/);
    expect(first.json().coin.price).toBe(await dbPrice('bitcoin'));

    const second = await call(`${url}/coins/bitcoin`);
    expect(second.headers.get('x-cache')).toBe('hit');
    expect(second.headers.get('etag')).toBe(etag);
    expect(second.text).toBe(first.text);
    expect(cache.stats()).toMatchObject({ hits: 1, misses: 1, entries: 1 });
  });

  it('answer If-None-Match with a body-less 304 while the data is unchanged', async () => {
    const { url } = await replica(60_000);
    const first = await call(`${url}/market/overview`);
    const etag = first.headers.get('etag')!;
    for (const header of [etag, `W/${etag}`, `"other", ${etag}`, '*']) {
      const reply = await call(`${url}/market/overview`, { headers: { 'if-none-match': header } });
      expect(reply.status).toBe(304);
      expect(reply.text).toBe('');
      expect(reply.headers.get('etag')).toBe(etag);
    }
    expect((await call(`${url}/market/overview`, { headers: { 'if-none-match': '"1-stale"' } })).status).toBe(200);
  });

  it('are rebuilt after a real transform run changes the marts: new data, new ETag', async () => {
    const { url } = await replica(100);
    const before = await call(`${url}/coins/ethereum`);
    const candlesBefore = (await call(`${url}/coins/ethereum/candles?range=24h`)).json();
    const runId = await marts.advance(90); // 90 more minutes of history, one more hourly candle or two
    const price = await dbPrice('ethereum');
    expect(price).not.toBe(before.json().coin.price);
    await new Promise((r) => setTimeout(r, 150)); // past the replica's 100 ms version check
    const after = await call(`${url}/coins/ethereum`);
    expect(after.headers.get('x-cache')).toBe('miss');
    expect(after.headers.get('x-transform-run')).toBe(String(runId));
    expect(after.json().coin.price).toBe(price);
    expect(after.headers.get('etag')).not.toBe(before.headers.get('etag'));
    // An If-None-Match from before the run no longer matches.
    expect(
      (await call(`${url}/coins/ethereum`, { headers: { 'if-none-match': before.headers.get('etag')! } })).status,
    ).toBe(200);
    const candlesAfter = (await call(`${url}/coins/ethereum/candles?range=24h`)).json();
    expect(candlesAfter.candles.at(-1).time).toBeGreaterThan(candlesBefore.candles.at(-1).time);
  });

  it('are never served stale once the process has seen a newer run', async () => {
    // A slow version check (60 s) shows what invalidates: the run being seen, not time passing.
    const { url } = await replica(60_000);
    const original = await dbPrice('coin-3');
    expect((await call(`${url}/coins/coin-3`)).json().coin.price).toBe(original);
    // The marts change (by hand here, as a run would) and the run is recorded afterwards.
    await q(`update ${MARTS}.dim_coins set price = price * 2 where coin_id = 'coin-3'`);
    expect((await call(`${url}/coins/coin-3`)).json().coin.price).toBe(original); // no run seen yet: cached
    const run = await recordRun();
    // A client that learned of the run (e.g. from another replica's live update) says so: checked at once.
    const told = await call(`${url}/coins/coin-3`, { headers: { 'x-transform-run': String(run) } });
    expect(told.json().coin.price).toBe(original * 2);
    expect(told.headers.get('x-transform-run')).toBe(String(run));
    // From then on every client of this replica gets the new data.
    expect((await call(`${url}/coins/coin-3`)).json().coin.price).toBe(original * 2);
    await q(`update ${MARTS}.dim_coins set price = price / 2 where coin_id = 'coin-3'`);
    await recordRun();
  });

  it('are dropped before live clients are told of the run, so their re-fetch is fresh', async () => {
    // Requests alone would not look again for 60 s: only the live poller (every 100 ms) sees the run.
    const { url } = await replica(60_000, {}, 100);
    const original = await dbPrice('coin-4');
    expect((await call(`${url}/coins/coin-4`)).json().coin.price).toBe(original);
    const controller = new AbortController();
    const response = await fetch(`${url}/events`, { signal: controller.signal });
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = '';
    const nextEvent = async () => {
      for (;;) {
        const match = /event: transform\ndata: (.*)\n\n/.exec(text);
        if (match) {
          text = text.slice(match.index + match[0].length);
          return JSON.parse(match[1]!) as { transformRunId: number };
        }
        text += (await reader.read()).value ?? '';
      }
    };
    await nextEvent(); // the current run, on connecting
    await q(`update ${MARTS}.dim_coins set price = price * 3 where coin_id = 'coin-4'`);
    const run = await recordRun();
    expect((await nextEvent()).transformRunId).toBe(run);
    // The page re-fetches at once, without the hint header.
    expect((await call(`${url}/coins/coin-4`)).json().coin.price).toBe(original * 3);
    controller.abort();
    await q(`update ${MARTS}.dim_coins set price = price / 3 where coin_id = 'coin-4'`);
    await recordRun();
  });

  it('are computed once when many requests for one URL arrive together after a run', async () => {
    const { url, cache } = await replica(60_000);
    await call(`${url}/coins?sort=price`);
    const run = await recordRun();
    const misses = cache.stats().misses;
    const replies = await Promise.all(
      Array.from({ length: 20 }, () =>
        call(`${url}/coins?sort=price`, { headers: { 'x-transform-run': String(run) } }),
      ),
    );
    expect(new Set(replies.map((r) => r.status))).toEqual(new Set([200]));
    expect(new Set(replies.map((r) => r.text)).size).toBe(1);
    expect(cache.stats().misses).toBe(misses + 1);
  });

  it('keep at most maxEntries, least recently used first', async () => {
    const { url, cache } = await replica(60_000, { maxEntries: 3 });
    for (const coin of ['bitcoin', 'ethereum', 'coin-3', 'coin-4']) await call(`${url}/coins/${coin}`);
    expect(cache.stats().entries).toBe(3);
    expect((await call(`${url}/coins/coin-4`)).headers.get('x-cache')).toBe('hit');
    expect((await call(`${url}/coins/bitcoin`)).headers.get('x-cache')).toBe('miss');
  });

  it('keep at most maxBytes of bodies, least recently used first, and never a body larger than that', async () => {
    const size = new Map<string, number>();
    {
      const { url } = await replica(60_000);
      for (const coin of ['bitcoin', 'ethereum', 'coin-3'])
        size.set(coin, Buffer.byteLength((await call(`${url}/coins/${coin}`)).text));
    }
    const bytes = (...coins: string[]) => coins.reduce((sum, coin) => sum + size.get(coin)!, 0);
    // Room for any two of the three bodies, not for all three.
    const { url, cache } = await replica(60_000, { maxBytes: bytes('bitcoin', 'ethereum', 'coin-3') - 1 });
    for (const coin of ['bitcoin', 'ethereum', 'coin-3']) await call(`${url}/coins/${coin}`);
    expect(cache.stats()).toMatchObject({ entries: 2, bytes: bytes('ethereum', 'coin-3') });
    expect((await call(`${url}/coins/coin-3`)).headers.get('x-cache')).toBe('hit');
    expect((await call(`${url}/coins/bitcoin`)).headers.get('x-cache')).toBe('miss');
    expect(cache.stats()).toMatchObject({ entries: 2, bytes: bytes('coin-3', 'bitcoin') }); // ethereum was the least recently used

    const { url: tiny, cache: tinyCache } = await replica(60_000, { maxBytes: size.get('bitcoin')! - 1 });
    for (let i = 0; i < 2; i++) expect((await call(`${tiny}/coins/bitcoin`)).headers.get('x-cache')).toBe('miss');
    expect(tinyCache.stats()).toMatchObject({ entries: 0, bytes: 0, misses: 2 });
  });

  it('answer requests that waited for a first one that was not a 200 each on their own, without keeping it', async () => {
    const { url, cache } = await replica(60_000);
    await call(`${url}/coins/bitcoin`); // the version is known: no request below waits for a check
    const misses = cache.stats().misses;
    // dim_coins locked: the first request's query waits, so the others arrive while its flight is open.
    const locker = await marts.db.pool.connect();
    try {
      await locker.query(`begin; lock table ${MARTS}.dim_coins in access exclusive mode`);
      const replies = Promise.all(Array.from({ length: 10 }, () => call(`${url}/coins/no-such-coin`)));
      for (let waiting = 0; waiting === 0; await new Promise((r) => setTimeout(r, 20))) {
        waiting = (
          await q<{ n: number }>(
            `select count(*)::int as n from pg_locks where not granted and relation = '${MARTS}.dim_coins'::regclass`,
          )
        )[0]!.n;
      }
      await new Promise((r) => setTimeout(r, 300)); // the other nine reach the open flight
      expect(cache.stats().misses).toBe(misses + 1);
      await locker.query('commit');
      for (const reply of await replies) {
        expect([reply.status, reply.json(), reply.headers.get('x-cache')]).toEqual([
          404,
          { error: 'unknown coin: no-such-coin' },
          null,
        ]);
      }
    } finally {
      await locker.query('rollback').catch(() => undefined);
      locker.release();
    }
    // The nine ran the handler themselves: not counted as misses (nor hits), and no 404 kept.
    expect(cache.stats()).toMatchObject({ hits: 0, misses: misses + 1, entries: 1 });
  });

  it('do not keep errors: a 404 for an unknown coin or a 400 is answered each time', async () => {
    const { url, cache } = await replica(60_000);
    for (const path of ['/coins/no-such-coin', '/coins/no-such-coin/candles', '/coins?sort=colour']) {
      for (let i = 0; i < 2; i++) {
        const reply = await call(`${url}${path}`);
        expect(reply.status).toBeGreaterThanOrEqual(400);
        expect(reply.headers.get('cache-control')).toBe('no-store');
        expect(reply.headers.get('etag')).toBeNull();
      }
    }
    expect(cache.stats().entries).toBe(0);
  });
});

describe('pipeline endpoints', () => {
  it('are not cached: they change without a transform run', async () => {
    const { url } = await replica(60_000);
    const before = await call(`${url}/pipeline/quarantine`);
    expect(before.headers.get('cache-control')).toBe('no-store');
    expect(before.headers.get('x-cache')).toBeNull();
    await q(
      `insert into pipeline.quarantined_records (run_id, batch_no, record_index, coin_id, reason, record) values ('cache-test', 0, 0, 'x', 'test', '{}')`,
    );
    expect((await call(`${url}/pipeline/quarantine`)).json().total).toBe(before.json().total + 1);
    for (const path of [
      '/runs',
      '/pipeline/freshness',
      '/pipeline/transform-runs',
      '/pipeline/stale-coins',
      '/pipeline/stale-observations',
      '/pipeline/queues',
      '/pipeline/gaps',
      '/pipeline/operations',
    ]) {
      const reply = await call(`${url}${path}`);
      expect([path, reply.status, reply.headers.get('x-cache'), reply.headers.get('cache-control')]).toEqual([
        path,
        200,
        null,
        'no-store',
      ]);
    }
  });
});
