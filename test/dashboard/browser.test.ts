import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { QUEUE_KEYS, QUEUES } from '../../core/queues/registry.js';
import { PASSWORD, startMarketFixture, USER, type MarketFixture } from './market-fixture.js';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../helpers/chromium.js';
import { inked } from '../helpers/canvas-ink.js';

/*
 * The dashboard in a real browser: Debian's Chromium (scripts/ensure-services.sh installs it) driven
 * by playwright-core, against the app serving marts built by real ticks. Screenshots of every page
 * land in test-output/screenshots/ (git-ignored) for a human to look at.
 */
const COINS = 29; // 28 valid coins: two pages of 25
// Two ticks per hour, so hourly candles have a body and wicks.
const TICKS = 8;
const TICK_MINUTES = 30;
const SHOTS = path.resolve('test-output/screenshots');

let f: MarketFixture;
let browser: Browser;
let context: BrowserContext;
let page: Page;

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  [f, browser] = await Promise.all([
    startMarketFixture({ coins: COINS, ticks: TICKS, tickMinutes: TICK_MINUTES }),
    chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS }),
  ]);
  context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  page = await context.newPage();
  page.on('pageerror', (error) => pageErrors.push(error.message));
});
afterAll(async () => {
  await browser?.close();
  await f?.close();
});
const pageErrors: string[] = [];

async function open(target: Page, pathname: string): Promise<void> {
  await target.goto(`${f.url}${pathname}`);
  await target.waitForSelector('body[data-loaded="true"]', { timeout: 10_000 });
}

const shot = (target: Page, name: string) =>
  target.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });

const GREEN: [number, number, number] = [22, 163, 74];
const RED: [number, number, number] = [220, 38, 38];
const BLUE: [number, number, number] = [37, 99, 235];
const PURPLE: [number, number, number] = [124, 58, 237];

const column = (target: Page, cls: string) =>
  target.$$eval(`#coins tbody td.${cls}`, (cells) => cells.map((c) => c.textContent ?? ''));
const money = (text: string) => Number(text.replace(/[$,]/g, ''));

describe('market overview page', () => {
  it('loads the market with data and draws the market-cap chart', async () => {
    await open(page, '/');
    expect(await page.textContent('#total-market-cap')).toMatch(/^\$[\d.]+[KMBT]/);
    expect(await page.textContent('#btc-dominance')).toMatch(/^\d+\.\d\d%$/);
    expect(await page.textContent('#coin-count')).toBe(String(COINS - 1));
    expect(await page.$$('#gainers li a')).not.toHaveLength(0);
    expect(await page.$$('#coins tbody tr')).toHaveLength(25);
    expect(await page.$$('#coins tbody svg.spark polyline')).toHaveLength(25);
    await page.waitForFunction(() => document.querySelectorAll('#market-chart canvas').length > 0);
    await inked(page, '#market-chart', [BLUE], 200);
    await shot(page, 'market');
  });

  it('sorts the table by a column, both ways', async () => {
    await page.click('#coins th[data-sort="price"] button');
    await page.waitForSelector('#coins th[data-sort="price"][aria-sort="descending"]');
    await page.waitForURL(/sort=price/);
    const down = (await column(page, 'price')).map(money);
    expect(down).toEqual([...down].sort((a, b) => b - a));
    await page.click('#coins th[data-sort="price"] button');
    await page.waitForSelector('#coins th[data-sort="price"][aria-sort="ascending"]');
    const up = (await column(page, 'price')).map(money);
    expect(up).toEqual([...up].sort((a, b) => a - b));
    expect(up[0]).toBeLessThan(down[0]!);
  });

  it('searches and pages', async () => {
    await page.fill('#search', 'bitcoin');
    await page.waitForFunction(() => document.querySelectorAll('#coins tbody tr').length < 25);
    const names = await page.$$eval('#coins tbody tr td.left', (cells) =>
      cells.map((c) => c.textContent!.toLowerCase()),
    );
    expect(names.length).toBeGreaterThan(0);
    for (const name of names) expect(name).toContain('bitcoin');
    await page.fill('#search', '');
    await page.waitForFunction(() => document.querySelectorAll('#coins tbody tr').length === 25);
    await page.click('#next');
    await page.waitForFunction(() => document.getElementById('page-info')!.textContent!.startsWith('Page 2 of 2'));
    expect(await page.$$('#coins tbody tr')).toHaveLength(COINS - 1 - 25);
    expect(await page.isDisabled('#next')).toBe(true);
  });
});

describe('navigation and coin detail page', () => {
  it('opens a coin from the table and draws its candles with volume, volatility and its latest stats', async () => {
    await open(page, '/');
    await Promise.all([page.waitForURL(/\/coins\/bitcoin$/), page.click('#coins a[href="/coins/bitcoin"]')]);
    await page.waitForSelector('body[data-loaded="true"]');
    expect(await page.textContent('#coin-title')).toContain('Bitcoin');
    expect(await page.textContent('#stat-price')).toMatch(/^\$\d/);
    expect(await page.textContent('#stat-volatility')).toMatch(/^\d+\.\d+% \//);
    const [{ hours }] = await f.q(
      `select count(*)::int as hours from analytics_marts.fct_coin_candles_hourly where coin_id = 'bitcoin'`,
    );
    expect(await page.getAttribute('#price-chart', 'data-points')).toBe(String(hours));
    // Up and down candles and volume bars are drawn in these colours; an empty chart has neither.
    await inked(page, '#price-chart', [GREEN, RED], 100);
    await inked(page, '#volatility-chart', [PURPLE], 20);
    await shot(page, 'coin-hourly');
    await page.click('button[data-interval="daily"]');
    await page.click('button[data-range="all"]');
    await page.waitForFunction(
      (hourly) => document.querySelector<HTMLElement>('#price-chart')!.dataset.points !== hourly,
      String(hours),
    );
    expect(Number(await page.getAttribute('#price-chart', 'data-points'))).toBeGreaterThanOrEqual(1);
  });

  it('marks flagged anomalies on the chart and lists them', async () => {
    const [last] = await f.q(
      `select bucket_start from analytics_marts.fct_price_anomalies where coin_id = 'ethereum' order by bucket_start desc limit 1`,
    );
    // Too few hours for the rule's 12 observations: flag one by hand (the next transform rebuilds the mart).
    await f.q(
      `update analytics_marts.fct_price_anomalies set is_anomaly = true, anomaly_direction = 'drop', robust_z_score = -6.2, return_1h = -0.12
                where coin_id = 'ethereum' and bucket_start = $1`,
      [last.bucket_start],
    );
    await open(page, '/coins/ethereum');
    expect(await page.textContent('#stat-anomalies')).toBe('1');
    expect(await page.textContent('#anomalies tbody')).toContain('drop');
    // The marker's label is drawn on the canvas in the marker colour.
    await inked(page, '#price-chart', [PURPLE], 20);
    await shot(page, 'coin-anomaly');
  });

  it('moves between pages through the shared navigation', async () => {
    await Promise.all([page.waitForURL(/\/pipeline$/), page.click('nav a[href="/pipeline"]')]);
    expect(await page.getAttribute('nav a[href="/pipeline"]', 'aria-current')).toBe('page');
    await Promise.all([page.waitForURL(`${f.url}/`), page.click('nav a[href="/"]')]);
    await page.waitForSelector('body[data-loaded="true"]');
  });
});

describe('pipeline page', () => {
  it('shows ticks linked to their jobs in Bull Board, freshness, dbt test results, the quarantine and queue depths', async () => {
    await open(page, '/pipeline');
    expect(await page.textContent('#fresh-state')).toBe('Fresh');
    expect(await page.$$('#ticks tbody tr')).toHaveLength(TICKS);
    const link = await page.getAttribute('#ticks tbody tr:first-child a', 'href');
    expect(link).toMatch(new RegExp(`^/queues/queue/${QUEUES.transform.name}/transform-[a-z]\\d+`));
    const nodes = await page.$$eval('#transform-runs details[open] tbody tr', (rows) =>
      rows.map((r) => r.textContent ?? ''),
    );
    expect(nodes.filter((n) => /test/.test(n) && /pass/.test(n)).length).toBeGreaterThan(5);
    expect(await page.$$('#transform-runs details')).toHaveLength(5); // the newest five
    expect(await page.textContent('#quarantine tbody')).toContain(f.invalidCoinId);
    expect(await page.textContent('#quarantine tbody')).toMatch(/current_price/);
    expect(await page.$$eval('#queues tbody tr td:first-child', (cells) => cells.map((c) => c.textContent))).toEqual([
      ...QUEUE_KEYS,
    ]);
    await shot(page, 'pipeline');
  });

  it('shows CoinGecko calls needed vs allowed per tick, and a warning once a tick needs more than allowed', async () => {
    // The fixture's ticks ran without a rate limit.
    await open(page, '/pipeline');
    expect(await page.textContent('#call-budget')).toMatch(/^\d+(\.\d+)? \/ unlimited$/);
    expect(await page.isHidden('#overload')).toBe(true);
    const [newest] = await f.q<{ run_id: string; calls_needed: number }>(
      'select run_id, calls_needed from pipeline.pipeline_runs where calls_needed is not null order by started_at desc limit 1',
    );
    try {
      await f.q('update pipeline.pipeline_runs set calls_needed = 10, calls_allowed = 4 where run_id = $1', [
        newest!.run_id,
      ]);
      await open(page, '/pipeline');
      expect(await page.textContent('#call-budget')).toBe('10 / 4');
      expect(await page.textContent('#overload')).toMatch(
        /a tick needs 10 CoinGecko calls but the rate limit allows 4 per tick interval.*superseded/,
      );
      expect(await page.isVisible('#overload')).toBe(true);
    } finally {
      await f.q('update pipeline.pipeline_runs set calls_needed = $2, calls_allowed = null where run_id = $1', [
        newest!.run_id,
        newest!.calls_needed,
      ]);
    }
  });
});

describe('live updates', () => {
  it("refreshes an open page without a reload when a tick's transform finishes", async () => {
    await open(page, '/');
    await page.waitForFunction(() => document.body.dataset.transformRun);
    const before = {
      run: await page.getAttribute('body', 'data-transform-run'),
      stamp: await page.textContent('#last-updated'),
      prices: await column(page, 'price'),
    };
    const navigations: string[] = [];
    page.on('framenavigated', (frame) => navigations.push(frame.url()));
    await f.tick();
    await page.waitForFunction((run) => document.body.dataset.transformRun !== run, before.run, { timeout: 10_000 });
    expect(await page.textContent('#last-updated')).not.toBe(before.stamp);
    expect(await column(page, 'price')).not.toEqual(before.prices);
    expect(navigations).toEqual([]);
    await shot(page, 'market-after-tick');
  });
});

describe('Bull Board', () => {
  it('asks for credentials, then lists the queues', async () => {
    // Headless Chromium has no one to ask: the challenge ends the navigation.
    const anonymous = await browser.newContext();
    const challenge = await anonymous.request.get(`${f.url}/queues`);
    expect(challenge.status()).toBe(401);
    expect(challenge.headers()['www-authenticate']).toBe('Basic realm="cdp"');
    const refused = await (await anonymous.newPage()).goto(`${f.url}/queues`).catch((error: Error) => error);
    expect(String(refused)).toMatch(/ERR_INVALID_AUTH_CREDENTIALS/);
    await anonymous.close();

    const operator = await browser.newContext({
      httpCredentials: { username: USER, password: PASSWORD },
      viewport: { width: 1280, height: 900 },
    });
    const board = await operator.newPage();
    expect((await board.goto(`${f.url}/queues`))!.status()).toBe(200);
    for (const key of QUEUE_KEYS)
      await board.getByText(QUEUES[key].name, { exact: true }).first().waitFor({ timeout: 10_000 });
    await shot(board, 'queues');
    await operator.close();
  });
});

describe('phone layout (375 px)', () => {
  it.each([
    ['market', '/'],
    ['coin', '/coins/bitcoin'],
    ['pipeline', '/pipeline'],
  ])('%s page has no horizontal scroll', async (name, pathname) => {
    const phone = await browser.newContext({ viewport: { width: 375, height: 812 }, isMobile: true, hasTouch: true });
    const small = await phone.newPage();
    await open(small, pathname);
    const { scrollWidth, clientWidth } = await small.evaluate(() => ({
      scrollWidth: document.documentElement.scrollWidth,
      clientWidth: document.documentElement.clientWidth,
    }));
    expect(clientWidth).toBe(375);
    expect(scrollWidth).toBeLessThanOrEqual(clientWidth);
    await shot(small, `phone-${name}`);
    await phone.close();
  });
});

describe('the browser console', () => {
  it('saw no uncaught page error', () => {
    expect(pageErrors).toEqual([]);
  });
});
