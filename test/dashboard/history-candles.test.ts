import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { inked, type Rgb } from '../helpers/canvas-ink.js';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../helpers/chromium.js';
import { pointsBetween, storeHistoryPoints } from '../helpers/history.js';
import { call } from './http.js';
import { startMarketFixture, type MarketFixture } from './market-fixture.js';

/*
 * Candles built from a backfill beside live ones: the candles API says which is which, and the coin
 * chart draws history candles hollow and pale, with a legend. The history is stored the way the fetch
 * worker stores it, then a real tick transforms it.
 */
const MARTS = 'analytics_marts';
const HISTORY_HOURS = 20;
const SHOTS = path.resolve('test-output/screenshots');
// History candles' wicks (coin-page.ts HISTORY_STYLE); live wicks are the body colours.
const HISTORY_WICKS: Rgb[] = [
  [134, 239, 172],
  [252, 165, 165],
];

let f: MarketFixture;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  [f, browser] = await Promise.all([
    startMarketFixture({ coins: 4, ticks: 2, tickMinutes: 30 }),
    chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS }),
  ]);
  // 5-minutely points (candles with bodies and wicks) for 20 hours ending 3 hours before the first
  // tick's hour, around bitcoin's live price so both kinds share the chart's scale.
  const [{ first, price }] = await f.q(
    `select min(bucket_start) as first, (select price::float8 from ${MARTS}.dim_coins where coin_id = 'bitcoin') as price
       from ${MARTS}.fct_coin_candles_hourly where coin_id = 'bitcoin'`,
  );
  const to = new Date((first as Date).getTime() - 3 * 3_600_000);
  const from = new Date(to.getTime() - HISTORY_HOURS * 3_600_000);
  const points = pointsBetween(from.toISOString(), to.toISOString(), 5, price as number);
  expect(await storeHistoryPoints(f.scenario.db.pool, 'bitcoin', 300, points)).toBe(HISTORY_HOURS * 12);
  await f.tick(); // its transform builds the history candles
  page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
});
afterAll(async () => {
  await browser?.close();
  await f?.close();
});

describe('GET /api/v1/coins/:id/candles with history', () => {
  it("returns each candle's source and point count, as the mart holds them", async () => {
    const reply = await call(`${f.url}/api/v1/coins/bitcoin/candles?interval=hourly&range=7d`);
    expect(reply.status).toBe(200);
    const mart = await f.q(
      `select extract(epoch from bucket_start)::float8 as time, source, point_count::int as "pointCount"
         from ${MARTS}.fct_coin_candles_hourly where coin_id = 'bitcoin' order by 1`,
    );
    const candles = reply.json().candles as { time: number; source: string; pointCount: number }[];
    expect(candles.map(({ time, source, pointCount }) => ({ time, source, pointCount }))).toEqual(mart);
    const history = candles.filter((c) => c.source === 'history');
    expect(history).toHaveLength(HISTORY_HOURS);
    expect(history.every((c) => c.pointCount === 12)).toBe(true);
    expect(candles.filter((c) => c.source === 'snapshots').length).toBeGreaterThan(0);
  });
});

describe('coin page with history', () => {
  it('draws history candles hollow and pale, and says so in a legend', async () => {
    await page.goto(`${f.url}/coins/bitcoin`);
    await page.waitForSelector('body[data-loaded="true"]', { timeout: 10_000 });
    expect(await page.getAttribute('#price-chart', 'data-history-candles')).toBe(String(HISTORY_HOURS));
    expect(await page.isVisible('#history-legend')).toBe(true);
    expect(await page.textContent('#history-legend')).toMatch(
      new RegExp(`from history .*${HISTORY_HOURS} of \\d+ candles from history`),
    );
    await inked(page, '#price-chart', HISTORY_WICKS, 20);
    // For a human to look at (git-ignored, as test/dashboard/browser.test.ts's screenshots).
    mkdirSync(SHOTS, { recursive: true });
    await page.screenshot({ path: path.join(SHOTS, 'coin-history.png'), fullPage: true });
  });

  it('hides the legend for a coin with live candles only', async () => {
    await page.goto(`${f.url}/coins/ethereum`);
    await page.waitForSelector('body[data-loaded="true"]', { timeout: 10_000 });
    expect(await page.getAttribute('#price-chart', 'data-history-candles')).toBe('0');
    expect(await page.isVisible('#history-legend')).toBe(false);
  });
});
