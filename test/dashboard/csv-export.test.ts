import { createApp } from '../../dashboard/app.js';
import winston from 'winston';
import { chromium, type Browser } from 'playwright-core';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../helpers/chromium.js';
import { Runtime } from '../../core/runtime.js';
import { call, serve, type Served } from './http.js';
import { startSyntheticMarts, type SyntheticMarts } from './synthetic-marts.js';

/**
 * CSV downloads (dashboard/api/csv-export.ts): streamed from Postgres with COPY, quoted by it. Over
 * 15,000 coins built by a real transform run, some renamed to what breaks hand-written CSV.
 */
const COINS = 15_000;
const MARTS = 'analytics_marts';
const TRICKY: Readonly<Record<string, string>> = {
  'coin-3': 'Tab\there',
  'coin-4': '"quoted", with a comma',
  'coin-5': '\\N',
  'coin-6': 'line\nbreak\r\nand CR',
  'coin-7': '🚀 Moon “coin” ✓',
  'coin-8': '',
};

let marts: SyntheticMarts;
let runtime: Runtime;
let served: Served;
let api: string;
let browser: Browser;

beforeAll(async () => {
  marts = await startSyntheticMarts({ coins: COINS, minutes: 3 });
  for (const [id, name] of Object.entries(TRICKY))
    await marts.db.pool.query(`update ${MARTS}.dim_coins set coin_name = $2 where coin_id = $1`, [id, name]);
  const silent = winston.createLogger({ silent: true });
  runtime = new Runtime(marts.config(), silent, 'dashboard');
  served = await serve(
    createApp({
      config: marts.config(),
      pool: runtime.pool,
      redis: runtime.redis,
      queues: (key) => runtime.queue(key),
      checkMigrations: async () => false,
      cache: false,
      logger: silent,
    }),
  );
  api = `${served.url}/api/v1`;
  browser = await chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS });
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await served?.close();
  await runtime?.close();
  await marts?.close();
});

/**
 * RFC 4180, independently of the code under test: records end with CRLF; quoted fields may hold
 * commas, quotes ("") and line breaks.
 */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      // CRLF ends a record (RFC 4180); the LF is consumed with it.
      i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += c;
  }
  if (field !== '' || row.length > 0) rows.push([...row, field]);
  return rows;
}

describe('GET /api/v1/coins.csv', () => {
  it('streams every coin as an attachment, with a header row, in the order /coins sorts them', async () => {
    const reply = await call(`${api}/coins.csv?sort=rank&order=asc`);
    expect(reply.status).toBe(200);
    expect(reply.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(reply.headers.get('content-disposition')).toBe('attachment; filename="coins-rank-asc.csv"');
    // Streamed, not built and sent with a length.
    expect(reply.headers.get('content-length')).toBeNull();
    expect(reply.text.endsWith('\r\n')).toBe(true);
    const rows = parseCsv(reply.text);
    expect(rows[0]).toEqual([
      'rank',
      'id',
      'symbol',
      'name',
      'vs_currency',
      'price',
      'change_pct_1h',
      'change_pct_24h',
      'change_pct_7d',
      'market_cap',
      'volume_24h',
    ]);
    expect(rows).toHaveLength(COINS + 1);
    const ids = rows.slice(1).map((r) => r[1]);
    const expected = (
      await marts.db.pool.query<{ coin_id: string }>(
        `select coin_id from ${MARTS}.dim_coins order by market_cap_rank asc nulls last, coin_id`,
      )
    ).rows.map((r) => r.coin_id);
    expect(ids).toEqual(expected);
    const first = (await call(`${api}/coins?sort=rank&order=asc&pageSize=5`))
      .json()
      .coins.map((c: { id: string }) => c.id);
    expect(ids.slice(0, 5)).toEqual(first);
  });

  it('round-trips names with tabs, quotes, commas, line breaks, a literal \\N, emoji and the empty string', async () => {
    const rows = parseCsv((await call(`${api}/coins.csv`)).text);
    const names = new Map(rows.slice(1).map((r) => [r[1], r[3]]));
    for (const [id, name] of Object.entries(TRICKY)) expect([id, names.get(id)]).toEqual([id, name]);
    // Numbers are plain decimals a spreadsheet reads; a null change is an empty field.
    const bitcoin = rows.find((r) => r[1] === 'bitcoin')!;
    expect(Number(bitcoin[5])).toBeGreaterThan(0);
  });

  it('filters and sorts as /coins does, and refuses bad parameters as JSON before any byte of CSV', async () => {
    const rows = parseCsv((await call(`${api}/coins.csv?q=bitcoin&sort=name&order=desc`)).text);
    expect(rows.slice(1).map((r) => r[1])).toEqual(['bitcoin']);
    const bad = await call(`${api}/coins.csv?sort=bogus&page=2`);
    expect(bad.status).toBe(400);
    expect(bad.headers.get('content-type')).toMatch(/^application\/json/);
    expect(bad.json().parameter).toBe('page'); // coins.csv has no pages: every row is in it
  });
});

describe('GET /api/v1/coins/:id/candles.csv', () => {
  it("streams a coin's candles oldest first with UTC times, the same candles as the JSON", async () => {
    const reply = await call(`${api}/coins/bitcoin/candles.csv?interval=hourly&range=all`);
    expect(reply.status).toBe(200);
    expect(reply.headers.get('content-disposition')).toBe('attachment; filename="bitcoin-hourly-all.csv"');
    const rows = parseCsv(reply.text);
    expect(rows[0]).toEqual(['time', 'open', 'high', 'low', 'close', 'volume_24h']);
    const json = (await call(`${api}/coins/bitcoin/candles?interval=hourly&range=all`)).json();
    expect(rows.slice(1).map((r) => [Date.parse(r[0]!) / 1000, Number(r[4])])).toEqual(
      json.candles.map((c: { time: number; close: number }) => [c.time, c.close]),
    );
    for (const r of rows.slice(1)) expect(r[0]).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:00:00Z$/);
  });

  it('answers an unknown coin with a 404 and a malformed id with a 400, as JSON', async () => {
    const unknown = await call(`${api}/coins/no-such-coin/candles.csv`);
    expect(unknown.status).toBe(404);
    expect(unknown.json().error).toBe('unknown coin: no-such-coin');
    const malformed = await call(`${api}/coins/Not%20An%20Id/candles.csv`);
    expect(malformed.status).toBe(400);
    expect(malformed.json().parameter).toBe('id');
  });
});

describe("the pages' download links", () => {
  it('download the coin table as sorted and filtered on the market page, every page of it', async () => {
    const page = await browser.newPage();
    await page.goto(`${served.url}/?sort=price&order=desc&page=3`);
    await page.waitForSelector('body[data-loaded="true"]', { timeout: 20_000 });
    const href = await page.getAttribute('#coins-csv', 'href');
    expect(href).toBe('/api/v1/coins.csv?sort=price&order=desc');
    await page.fill('#search', 'bitcoin');
    await page.waitForFunction(() => document.querySelector('#coins-csv')?.getAttribute('href')?.includes('q=bitcoin'));
    const csv = await page.evaluate(async () => {
      const res = await fetch(document.querySelector<HTMLAnchorElement>('#coins-csv')!.href);
      return { status: res.status, type: res.headers.get('content-type'), text: await res.text() };
    });
    expect(csv.status).toBe(200);
    expect(csv.type).toBe('text/csv; charset=utf-8');
    expect(
      parseCsv(csv.text)
        .slice(1)
        .map((r) => r[1]),
    ).toEqual(['bitcoin']);
    await page.close();
  });

  it('download the candles the coin chart shows: its interval and range', async () => {
    const page = await browser.newPage();
    await page.goto(`${served.url}/coins/bitcoin?interval=daily&range=30d`);
    await page.waitForSelector('body[data-loaded="true"]', { timeout: 20_000 });
    expect(await page.getAttribute('#candles-csv', 'href')).toBe(
      '/api/v1/coins/bitcoin/candles.csv?interval=daily&range=30d',
    );
    await page.click('#interval-buttons [data-interval="hourly"]');
    await page.waitForFunction(() =>
      document.querySelector('#candles-csv')?.getAttribute('href')?.includes('interval=hourly'),
    );
    expect(await page.getAttribute('#candles-csv', 'href')).toBe(
      '/api/v1/coins/bitcoin/candles.csv?interval=hourly&range=30d',
    );
    await page.close();
  });
});
