import { mkdirSync } from 'node:fs';
import winston from 'winston';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { createApp } from '../../dashboard/app.js';
import { Runtime } from '../../core/runtime.js';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../helpers/chromium.js';
import { call, serve, type Served } from './http.js';
import { startSyntheticMarts, type SyntheticMarts } from './synthetic-marts.js';

/*
 * Issue 17, the screener on the market page: /api/v1/coins and /coins.csv filtered by market-cap band,
 * % change over 1h/24h/7d and minimum volume, checked against the same filters applied in JavaScript
 * to dim_coins as read here; and the page's form, its URL state, notices and phone layout in Chromium.
 */
const COINS = 40;
const MARTS = 'analytics_marts';
const SCREENSHOTS = 'test-output/screenshots';

interface Row {
  id: string;
  rank: number | null;
  name: string;
  symbol: string;
  cap: number | null;
  c1h: number | null;
  c24h: number | null;
  c7d: number | null;
  volume: number | null;
}

let marts: SyntheticMarts;
let runtime: Runtime;
let served: Served;
let api: string;
let browser: Browser;
let rows: Row[];

beforeAll(async () => {
  [marts, browser] = await Promise.all([
    startSyntheticMarts({ coins: COINS, minutes: 90 }),
    chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS }),
  ]);
  // Known values across every band and sign: caps from $100B down by a factor 1.6 per rank, changes of
  // both signs per window, volumes a varying share of the cap; the last coin has none of them (a coin
  // without the value filtered on is left out).
  const ids = (
    await marts.db.pool.query<{ coin_id: string }>(`select coin_id from ${MARTS}.dim_coins order by market_cap_rank`)
  ).rows.map((r) => r.coin_id);
  for (const [k, id] of ids.entries()) {
    const last = k === ids.length - 1;
    const cap = Math.round(1e11 / 1.6 ** k);
    await marts.db.pool.query(
      `update ${MARTS}.dim_coins set market_cap = $2, price_change_pct_1h = $3, price_change_pct_24h = $4,
              price_change_pct_7d = $5, volume_24h = $6 where coin_id = $1`,
      last
        ? [id, null, null, null, null, null]
        : [id, cap, (k % 7) - 3 + 0.5, k - 15, ((k * 7) % 31) - 10.25, Math.round(cap / ((k % 4) + 1) / 10)],
    );
  }
  rows = (
    await marts.db.pool.query<Row>(
      `select coin_id as id, market_cap_rank as rank, coin_name as name, coin_symbol as symbol, market_cap as cap, price_change_pct_1h as c1h,
              price_change_pct_24h as c24h, price_change_pct_7d as c7d, volume_24h as volume
         from ${MARTS}.dim_coins order by market_cap_rank nulls last, coin_id`,
    )
  ).rows;
  const silent = winston.createLogger({ silent: true });
  runtime = new Runtime(marts.config(), silent, 'dashboard');
  served = await serve(
    createApp({
      config: marts.config(),
      pool: runtime.pool,
      redis: runtime.redis,
      queues: (key) => runtime.queue(key),
      checkMigrations: async () => false,
      logger: silent,
    }),
  );
  api = `${served.url}/api/v1`;
  mkdirSync(SCREENSHOTS, { recursive: true });
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await served?.close();
  await runtime?.close();
  await marts?.close();
});

/** The filters, applied here to the rows read from dim_coins: the model the API is checked against. */
function model(params: Record<string, string>): string[] {
  const num = (name: string) => (params[name] === undefined ? undefined : Number(params[name]));
  const change = (r: Row) => ({ '1h': r.c1h, '24h': r.c24h, '7d': r.c7d })[params.changeWindow ?? '24h'] ?? null;
  const within = (value: number | null, min?: number, max?: number) =>
    (min === undefined && max === undefined) ||
    (value !== null && (min === undefined || value >= min) && (max === undefined || value <= max));
  return rows
    .filter(
      (r) =>
        within(r.cap, num('marketCapMin'), num('marketCapMax')) &&
        within(change(r), num('changeMin'), num('changeMax')) &&
        within(r.volume, num('volumeMin')),
    )
    .map((r) => r.id);
}

/** What a search for `q` finds, as the API's search is documented: a substring of name, symbol or id. */
const found = (r: Row, q: string) => [r.id, r.name, r.symbol].some((v) => v.toLowerCase().includes(q.toLowerCase()));

const listIds = async (query: Record<string, string>) => {
  const reply = await call(`${api}/coins?${new URLSearchParams({ pageSize: '100', ...query })}`);
  expect([reply.status, reply.text.slice(0, 200)]).toEqual([200, expect.any(String)]);
  const body = reply.json<{ total: number; coins: Array<{ id: string }>; filters: Record<string, unknown> }>();
  return { ids: body.coins.map((c) => c.id), total: body.total, filters: body.filters };
};
const csvIds = async (query: Record<string, string>) => {
  const reply = await call(`${api}/coins.csv?${new URLSearchParams(query)}`);
  expect(reply.status).toBe(200);
  // No name in this fixture holds a comma, quote or line break: a line per coin, the id second.
  return reply.text
    .trim()
    .split('\r\n')
    .slice(1)
    .map((line) => line.split(',')[1]);
};

describe('GET /api/v1/coins with the screener', () => {
  it.each<[string, Record<string, string>]>([
    ['market cap from', { marketCapMin: '1000000000' }],
    ['market cap to', { marketCapMax: '100000000' }],
    ['market cap band', { marketCapMin: '100000000', marketCapMax: '1000000000' }],
    ['24h change from (default window)', { changeMin: '0' }],
    ['1h change to', { changeWindow: '1h', changeMax: '-1' }],
    ['7d change band', { changeWindow: '7d', changeMin: '-5', changeMax: '5.5' }],
    ['volume from', { volumeMin: '50000000' }],
    ['every filter at once', { marketCapMin: '1000000', changeWindow: '7d', changeMin: '-10', volumeMin: '100000' }],
  ])('%s: exactly the coins the filter admits, in rank order', async (_what, query) => {
    const want = model(query);
    // Each filter really narrows this fixture, and leaves something.
    expect(want.length).toBeGreaterThan(0);
    expect(want.length).toBeLessThan(COINS - 1);
    const { ids, total } = await listIds(query);
    expect(ids).toEqual(want);
    expect(total).toBe(want.length);
  });

  it('includes a coin whose value equals a bound (bounds are inclusive)', async () => {
    const third = rows[2]!;
    const { ids } = await listIds({ marketCapMin: String(third.cap), marketCapMax: String(third.cap) });
    expect(ids).toEqual([third.id]);
    const { ids: byChange } = await listIds({ changeMin: String(third.c24h), changeMax: String(third.c24h) });
    expect(byChange).toEqual([third.id]);
  });

  it('leaves out a coin without the value filtered on, and keeps it when nothing filters', async () => {
    const bare = rows.find((r) => r.cap === null)!;
    expect((await listIds({})).ids).toContain(bare.id);
    expect((await listIds({ marketCapMax: '1000000000000000' })).ids).not.toContain(bare.id);
    expect((await listIds({ changeMin: '-100' })).ids).not.toContain(bare.id);
  });

  it('combines with search, sort and paging: the total counts every match, the page is its slice', async () => {
    const filters = { marketCapMin: '1000000', changeMin: '-10' };
    const matches = rows.filter((r) => model(filters).includes(r.id));
    const sorted = [...matches].sort((a, b) => b.c24h! - a.c24h! || a.id.localeCompare(b.id));
    const page2 = await call(
      `${api}/coins?${new URLSearchParams({ ...filters, sort: 'change_24h', order: 'desc', pageSize: '4', page: '2' })}`,
    );
    const body = page2.json();
    expect(body.total).toBe(matches.length);
    expect(body.pages).toBe(Math.ceil(matches.length / 4));
    expect(body.coins.map((c: { id: string }) => c.id)).toEqual(sorted.slice(4, 8).map((r) => r.id));
    // Search narrows the screened set further (synthetic names: "Coin <n>").
    const searched = await listIds({ ...filters, q: 'coin-1' });
    expect(searched.ids).toEqual(matches.filter((r) => found(r, 'coin-1')).map((r) => r.id));
    expect(searched.ids.length).toBeGreaterThan(0);
    // Past the last page of the screened set: no rows, the total still counted.
    const beyond = (await call(`${api}/coins?${new URLSearchParams({ ...filters, page: '99' })}`)).json();
    expect([beyond.coins.length, beyond.total]).toEqual([0, matches.length]);
  });

  it('echoes every filter, an absent bound as null', async () => {
    expect((await listIds({ changeWindow: '7d', volumeMin: '5.5' })).filters).toEqual({
      marketCapMin: null,
      marketCapMax: null,
      changeWindow: '7d',
      changeMin: null,
      changeMax: null,
      volumeMin: 5.5,
    });
  });

  it('answers an empty page, not an error, when nothing matches', async () => {
    const { ids, total } = await listIds({ changeMin: '999' });
    expect([ids, total]).toEqual([[], 0]);
  });

  it.each([
    ['marketCapMin=abc', 'marketCapMin'],
    ['marketCapMin=-1', 'marketCapMin'],
    ['marketCapMax=1e9', 'marketCapMax'],
    ['marketCapMax=2000000000000000', 'marketCapMax'],
    ['changeWindow=30d', 'changeWindow'],
    ['changeMin=-100.5', 'changeMin'],
    ['changeMax=%201', 'changeMax'],
    ['volumeMin=1,000', 'volumeMin'],
    ['volumeMin=5&volumeMin=6', 'volumeMin'],
    ['marketCapMin=5&marketCapMax=1', 'marketCapMax'],
    ['changeMin=3&changeMax=-3', 'changeMax'],
    ['volumeMax=5', 'volumeMax'],
  ])('refuses %s with a 400 naming %s, on the list and the CSV', async (query, parameter) => {
    for (const path of ['/coins', '/coins.csv']) {
      const reply = await call(`${api}${path}?${query}`);
      expect([path, reply.status, reply.json().parameter]).toEqual([path, 400, parameter]);
      expect(reply.json().error).toMatch(new RegExp(`^${parameter} must be `));
    }
  });

  it('says what a minimum above its maximum needs', async () => {
    const reply = await call(`${api}/coins?marketCapMin=5&marketCapMax=1`);
    expect(reply.json().error).toBe('marketCapMax must be at least marketCapMin');
  });

  it('documents the filters in the OpenAPI document, from the schema that validates them', async () => {
    const doc = (await call(`${api}/openapi.json`)).json();
    for (const path of ['/coins', '/coins.csv']) {
      const params = doc.paths[path].get.parameters as Array<{ name: string; schema: Record<string, unknown> }>;
      const byName = (name: string) => params.find((p) => p.name === name)?.schema;
      expect(byName('marketCapMin')).toMatchObject({ type: 'number', minimum: 0 });
      expect(byName('changeMax')).toMatchObject({ type: 'number', minimum: -100 });
      expect(byName('volumeMin')).toMatchObject({ type: 'number', minimum: 0 });
      expect(byName('changeWindow')).toMatchObject({ enum: ['1h', '24h', '7d'], default: '24h' });
    }
  });
});

describe('GET /api/v1/coins.csv with the screener', () => {
  it.each<Record<string, string>>([
    { marketCapMin: '100000000', marketCapMax: '10000000000' },
    { changeWindow: '1h', changeMin: '0', volumeMin: '1000000' },
    { changeMax: '0', sort: 'volume', order: 'desc', q: 'coin' },
  ])('holds the coins the list holds for %o, in its order', async (query) => {
    const list = await listIds(query);
    expect(list.ids.length).toBeGreaterThan(0);
    expect(await csvIds(query)).toEqual(list.ids);
    expect(list.ids.length).toBeLessThan(COINS);
  });
});

// ---------------------------------------------------------------------------------------------
// The page.

/** Console errors and warnings, uncaught errors and failed responses, per page. */
const problems: string[] = [];

async function newPage(width: number, height: number): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport: { width, height } });
  const page = await context.newPage();
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('response', (r) => {
    if (r.status() >= 400) problems.push(`${r.status()} ${r.url()}`);
  });
  return { context, page };
}

async function open(page: Page, pathname: string): Promise<void> {
  await page.goto(`${served.url}${pathname}`);
  await page.waitForSelector('body[data-loaded="true"]', { timeout: 10_000 });
}

const tableIds = (page: Page) =>
  page.$$eval('#coins tbody tr[data-coin-id]', (trs) => trs.map((tr) => tr.getAttribute('data-coin-id')!));
const search = (page: Page) => Object.fromEntries(new URL(page.url()).searchParams);
/** Waits until the table shows `ids` (the first page of them). */
const showing = (page: Page, ids: string[]) =>
  page.waitForFunction(
    (want) =>
      [...document.querySelectorAll('#coins tbody tr[data-coin-id]')]
        .map((tr) => tr.getAttribute('data-coin-id'))
        .join() === want.join(),
    ids.slice(0, 25),
  );

describe('the screener on the market page', () => {
  let context: BrowserContext;
  let page: Page;
  beforeAll(async () => {
    ({ context, page } = await newPage(1440, 900));
  });
  afterAll(async () => {
    await context.close();
  });

  it('sets filters from the form: the URL, the rows, the count and the CSV link follow, and a reload keeps them', async () => {
    await open(page, '/');
    expect(await page.getAttribute('#screener', 'open')).not.toBeNull(); // open at desktop width
    await page.selectOption('#f-cap-band', 'small'); // $100M to $1B
    const band = { marketCapMin: '100000000', marketCapMax: '1000000000' };
    await showing(page, model(band));
    expect(search(page)).toEqual(band);
    expect(await page.inputValue('#f-cap-min')).toBe('100M');
    expect(await page.inputValue('#f-cap-max')).toBe('1B');

    await page.selectOption('#f-change-window', '7d');
    await page.fill('#f-change-min', '-5');
    await page.press('#f-change-min', 'Enter');
    const screened = { ...band, changeWindow: '7d', changeMin: '-5' };
    const want = model(screened);
    expect(want.length).toBeGreaterThan(0);
    expect(want.length).toBeLessThan(model(band).length);
    await showing(page, want);
    expect(search(page)).toEqual(screened);
    expect(await page.textContent('#match-count')).toBe(`${want.length} coins match the filters.`);
    expect(await page.textContent('#filter-badge')).toBe('(3 active)');
    const csv = new URL((await page.getAttribute('#coins-csv', 'href'))!, served.url);
    expect(Object.fromEntries(csv.searchParams)).toEqual(screened);
    expect(await csvIds(Object.fromEntries(csv.searchParams))).toEqual(want);

    await page.reload();
    await page.waitForSelector('body[data-loaded="true"]');
    expect(await tableIds(page)).toEqual(want);
    expect(search(page)).toEqual(screened);
    expect(await page.inputValue('#f-change-min')).toBe('-5');
    expect(await page.inputValue('#f-change-window')).toBe('7d');
    expect(await page.inputValue('#f-cap-band')).toBe('small');
    await page.screenshot({ path: `${SCREENSHOTS}/screener-1440.png`, fullPage: true });
  });

  it('keeps search and sort with the filters, and starts again from page 1 when a filter changes', async () => {
    await open(page, '/?sort=change_24h&order=desc&q=coin&page=2');
    await page.fill('#f-volume-min', '1M');
    await page.press('#f-volume-min', 'Enter');
    await page.waitForFunction(() => new URL(location.href).searchParams.get('volumeMin') === '1000000');
    expect(search(page)).toEqual({ sort: 'change_24h', order: 'desc', q: 'coin', volumeMin: '1000000' });
    const want = rows
      .filter((r) => model({ volumeMin: '1000000' }).includes(r.id) && found(r, 'coin'))
      .sort((a, b) => b.c24h! - a.c24h! || a.id.localeCompare(b.id))
      .map((r) => r.id);
    await showing(page, want);
    expect(await page.textContent('#match-count')).toBe(`${want.length} coins match the filters and "coin".`);
  });

  it('refuses what a field cannot hold, says why, and leaves the URL and the table as they were', async () => {
    await open(page, '/?marketCapMin=1000000000');
    const before = await tableIds(page);
    await page.fill('#f-cap-max', 'lots');
    await page.press('#f-cap-max', 'Enter');
    await page.waitForSelector('#filter-error:not([hidden])');
    expect(await page.textContent('#filter-error')).toMatch(/Market cap to: an amount such as/);
    expect(await page.getAttribute('#f-cap-max', 'aria-invalid')).not.toBeNull();
    await page.fill('#f-cap-max', '1M'); // under the minimum
    await page.press('#f-cap-max', 'Enter');
    await page.waitForFunction(() =>
      /"from" is above "to"/.test(document.querySelector('#filter-error')!.textContent!),
    );
    expect(search(page)).toEqual({ marketCapMin: '1000000000' });
    expect(await tableIds(page)).toEqual(before);
  });

  it('says so when nothing matches, and "Clear filters" brings every coin back with a clean URL', async () => {
    await open(page, '/?changeMin=500&q=coin');
    expect(await page.textContent('#coins tbody')).toBe(
      'No coin matches these filters and "coin": widen them or clear them.',
    );
    expect(await page.textContent('#match-count')).toBe('0 coins match the filters and "coin".');
    await page.locator('#screener').scrollIntoViewIfNeeded();
    await page.screenshot({ path: `${SCREENSHOTS}/screener-1440-empty.png` });
    await page.click('#clear-filters');
    await page.waitForFunction(() => !new URL(location.href).searchParams.has('changeMin'));
    expect(search(page)).toEqual({ q: 'coin' }); // the search is not a filter of the screener
    await showing(
      page,
      rows.filter((r) => found(r, 'coin')).map((r) => r.id),
    );
    expect(await page.inputValue('#f-change-min')).toBe('');
    expect(await page.textContent('#match-count')).toBe('');
    expect(await page.isDisabled('#clear-filters')).toBe(true);
  });

  it.each([
    ['/?marketCapMin=lots&volumeMin=1000000', ['marketCapMin=lots'], { volumeMin: '1000000' }],
    ['/?changeWindow=2h&changeMin=0', ['changeWindow=2h'], { changeMin: '0' }],
    ['/?changeMin=5&changeMax=1', ['changeMax=1 (under changeMin)'], { changeMin: '5' }],
    ['/?volumeMin=-3&volumeMin=4', ['volumeMin=-3,4'], {}],
  ])('%s falls back for what it cannot use, says so, and shows the rest', async (pathname, named, kept) => {
    await open(page, pathname);
    expect(await page.$('[role="alert"]')).toBeNull();
    const notice = (await page.textContent('#url-notice'))!;
    for (const part of named) expect(notice).toContain(part);
    expect(search(page)).toEqual(kept);
    expect(await tableIds(page)).toEqual(model(kept).slice(0, 25));
    if (pathname.includes('lots')) {
      await page.locator('#url-notice').scrollIntoViewIfNeeded();
      await page.screenshot({ path: `${SCREENSHOTS}/screener-1440-notice.png` });
    }
  });

  it('logged no console error or failed request on the way (bad URLs fall back before any request)', () => {
    expect(problems).toEqual([]);
  });
});

describe('the screener on a phone (390×844)', () => {
  let context: BrowserContext;
  let page: Page;
  beforeAll(async () => {
    ({ context, page } = await newPage(390, 844));
  });
  afterAll(async () => {
    await context.close();
  });

  /** Nothing on the page is wider than the screen (a wide table scrolls inside its own box). */
  const fitsWidth = () =>
    page.evaluate(() => {
      const wider = [...document.querySelectorAll('#screener, #screener *, #match-count, .toolbar, .toolbar *')]
        .filter((node) => {
          const box = node.getBoundingClientRect();
          return box.width > 0 && (box.left < 0 || box.right > window.innerWidth);
        })
        .map((node) => node.id || node.tagName);
      return { page: document.documentElement.scrollWidth <= window.innerWidth, wider };
    });

  it('folds the filters away until asked, and lays them out within the screen when open', async () => {
    await open(page, '/');
    expect(await page.getAttribute('#screener', 'open')).toBeNull();
    expect(await page.isVisible('#f-cap-band')).toBe(false);
    await page.locator('#screener').scrollIntoViewIfNeeded();
    await page.screenshot({ path: `${SCREENSHOTS}/screener-390-closed.png` });
    await page.click('#screener summary');
    await page.selectOption('#f-cap-band', 'mid');
    await page.selectOption('#f-change-window', '1h');
    await page.fill('#f-change-max', '0');
    await page.press('#f-change-max', 'Enter');
    const want = model({ marketCapMin: '1000000000', marketCapMax: '10000000000', changeWindow: '1h', changeMax: '0' });
    await showing(page, want);
    expect(await fitsWidth()).toEqual({ page: true, wider: [] });
    // The 1h column, hidden on a phone otherwise, shows when the screener filters on it.
    expect(await page.isVisible('#coins th[data-sort="change_1h"]')).toBe(true);
    await page.locator('#screener').scrollIntoViewIfNeeded();
    await page.screenshot({ path: `${SCREENSHOTS}/screener-390-open.png` });
    await page.evaluate(() => document.querySelector('#match-count')!.scrollIntoView({ block: 'start' }));
    await page.screenshot({ path: `${SCREENSHOTS}/screener-390-table.png` });
  });

  it('opens by itself when the link carries filters', async () => {
    await open(page, '/?volumeMin=50000000');
    expect(await page.getAttribute('#screener', 'open')).not.toBeNull();
    expect(await page.textContent('#screener summary')).toBe('Filters (1 active)');
    expect(await fitsWidth()).toEqual({ page: true, wider: [] });
  });

  it('logged no console error or failed request', () => {
    expect(problems).toEqual([]);
  });
});
