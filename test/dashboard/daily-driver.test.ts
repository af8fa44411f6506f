import { chromium, type Browser, type ConsoleMessage, type Page } from 'playwright-core';
import { QUEUE_KEYS, QUEUES } from '../../core/queues/registry.js';
import { PASSWORD, startMarketFixture, USER, type MarketFixture } from './market-fixture.js';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../helpers/chromium.js';

/*
 * Issue 17 ("Dashboard as a daily driver"): the console stays clean on every page, the chart
 * attribution shows, Bull Board stays on this host, errors are pages for browsers and JSON for API
 * clients, and ten tabs share the live updates.
 */
const PAGES = ['/', '/coins/bitcoin', '/pipeline', '/anomalies'];

let f: MarketFixture;
let browser: Browser;

beforeAll(async () => {
  [f, browser] = await Promise.all([
    startMarketFixture({ coins: 6, ticks: 2, tickMinutes: 30 }),
    chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS }),
  ]);
});
afterAll(async () => {
  await browser?.close();
  await f?.close();
});

/** Console errors, uncaught errors, CSP violations and failed responses seen by a page. */
function watch(page: Page): string[] {
  const problems: string[] = [];
  page.on('console', (message: ConsoleMessage) => {
    if (message.type() === 'error' || message.type() === 'warning')
      problems.push(`console ${message.type()}: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('response', (response) => {
    if (response.status() >= 400) problems.push(`${response.status()} ${response.url()}`);
  });
  return problems;
}

async function open(page: Page, pathname: string): Promise<void> {
  await page.goto(`${f.url}${pathname}`);
  await page.waitForSelector('body[data-loaded="true"]', { timeout: 10_000 });
}

describe('every page (issue 17 §5)', () => {
  it('loads with no console error, page error, CSP violation or failed request', async () => {
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    const page = await context.newPage();
    const problems = watch(page);
    // Reported in the page; Chromium also logs each to the console.
    await page.addInitScript(() => {
      document.addEventListener('securitypolicyviolation', (event) =>
        console.error(`CSP violation: ${event.violatedDirective} ${event.blockedURI}`),
      );
    });
    for (const pathname of PAGES) {
      await open(page, pathname);
      // The charts draw on animation frames: wait for their canvases before judging the console.
      if (pathname.startsWith('/coins/'))
        await page.waitForFunction(() => document.querySelectorAll('#price-chart canvas').length > 0);
      // A round trip after the load, so late console messages have arrived.
      await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0))));
    }
    expect(problems).toEqual([]);
    await context.close();
  });

  it("shows the chart library's required attribution (TradingView, linked) on chart pages", async () => {
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    const page = await context.newPage();
    for (const pathname of ['/', '/coins/bitcoin']) {
      await open(page, pathname);
      const link = page.locator('a[href="https://www.tradingview.com/"]');
      await link.first().waitFor({ state: 'visible' });
      const box = await link.first().boundingBox();
      expect(box!.width).toBeGreaterThan(8);
      expect(box!.height).toBeGreaterThan(8);
      expect(await link.first().evaluate((a) => getComputedStyle(a).visibility)).toBe('visible');
      expect(await link.first().evaluate((a) => Number(getComputedStyle(a).opacity))).toBeGreaterThan(0.5);
      expect(await page.textContent('body')).toContain('TradingView');
    }
    // The coin page (visited last) scrolled to its attribution footer, for a human to look at.
    await page.locator('footer.attribution').scrollIntoViewIfNeeded();
    await page.screenshot({ path: '/tmp/h11-coin-attribution.png' });
    await context.close();
  });
});

describe('Bull Board (issue 17 §15)', () => {
  it('loads everything from this host: no request leaves 127.0.0.1', async () => {
    const context = await browser.newContext({
      httpCredentials: { username: USER, password: PASSWORD },
      viewport: { width: 1440, height: 900 },
    });
    const requested: string[] = [];
    context.on('request', (request) => requested.push(request.url()));
    const board = await context.newPage();
    expect((await board.goto(`${f.url}/queues`))!.status()).toBe(200);
    for (const key of QUEUE_KEYS)
      await board.getByText(QUEUES[key].name, { exact: true }).first().waitFor({ timeout: 10_000 });
    await board.waitForLoadState('networkidle');
    expect(requested.length).toBeGreaterThan(1);
    expect(requested.filter((url) => new URL(url).hostname !== '127.0.0.1')).toEqual([]);
    await context.close();
  });
});

describe('error pages and the favicon (issue 17 §12)', () => {
  const html = { Accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' };

  it.each([
    ['a malformed coin id', '/coins/%ED%A0%80', 400, 'Bad request'],
    ['an unknown coin', '/coins/no-such-coin', 404, 'Not found'],
    ['an unknown path', '/no/such/page', 404, 'Not found'],
  ])(
    'a browser asking for %s gets an HTML page in the layout with its status and title',
    async (_what, pathname, status, title) => {
      const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
      const page = await context.newPage();
      const response = await page.goto(`${f.url}${pathname}`);
      expect(response!.status()).toBe(status);
      expect(response!.headers()['content-type']).toMatch(/^text\/html/);
      expect(await page.title()).toBe(`${title} · Crypto Data Pipeline`);
      expect(await page.textContent('h1')).toBe(title);
      expect(await page.$$('nav a[href="/pipeline"]')).toHaveLength(1);
      if (status === 404 && pathname.startsWith('/no/')) await page.screenshot({ path: '/tmp/h11-error-page.png' });
      await context.close();
    },
  );

  it('API clients keep JSON errors', async () => {
    for (const pathname of ['/api/v1/coins/no-such-coin', '/api/v1/nothing', '/no/such/page', '/coins/%ED%A0%80']) {
      const res = await fetch(`${f.url}${pathname}`, { headers: { Accept: 'application/json' } });
      expect([pathname, res.status >= 400, res.headers.get('content-type')]).toEqual([
        pathname,
        true,
        expect.stringMatching(/^application\/json/),
      ]);
    }
    // A browser navigating to the API still gets the API's JSON.
    const api = await fetch(`${f.url}/api/v1/coins/no-such-coin`, { headers: html });
    expect(api.headers.get('content-type')).toMatch(/^application\/json/);
  });

  it('the coin page before any transform answers 503 titled as unavailable, not "Not found"', async () => {
    await f.q('alter schema analytics_marts rename to analytics_marts_hidden');
    try {
      const res = await fetch(`${f.url}/coins/bitcoin`, { headers: html });
      expect(res.status).toBe(503);
      const body = await res.text();
      expect(body).toContain('<title>Unavailable · Crypto Data Pipeline</title>');
      expect(body).not.toContain('Not found');
    } finally {
      await f.q('alter schema analytics_marts_hidden rename to analytics_marts');
    }
  });

  it('serves a favicon: every page links it and /favicon.ico answers', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await open(page, '/');
    const href = await page.getAttribute('link[rel="icon"]', 'href');
    const icon = await context.request.get(`${f.url}${href}`);
    expect(icon.status()).toBe(200);
    expect(icon.headers()['content-type']).toMatch(/^image\/svg\+xml/);
    expect((await context.request.get(`${f.url}/favicon.ico`)).status()).toBe(200);
    await context.close();
  });
});

describe('ten tabs (issue 17 §1)', () => {
  it('all load and all receive a live update', async () => {
    const context = await browser.newContext({ viewport: { width: 1024, height: 700 } });
    const tabs: Page[] = [];
    for (let i = 0; i < 10; i++) {
      const tab = await context.newPage();
      // Browsers keep at most 6 HTTP/1.1 connections per host: one stream per tab left tab 7 hanging here.
      await open(tab, i % 2 === 0 ? '/' : '/pipeline');
      await tab.waitForFunction(() => document.body.dataset.transformRun);
      tabs.push(tab);
    }
    const before = await Promise.all(tabs.map((tab) => tab.getAttribute('body', 'data-transform-run')));
    expect(new Set(before).size).toBe(1);
    await f.tick();
    for (const tab of tabs)
      await tab.waitForFunction((run) => document.body.dataset.transformRun !== run, before[0], { timeout: 10_000 });
    await context.close();
  });
});
