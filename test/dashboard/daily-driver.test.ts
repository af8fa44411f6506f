import { chromium, type Browser, type ConsoleMessage, type Page } from 'playwright-core';
import { QUEUE_KEYS, QUEUES } from '../../core/queues/registry.js';
import { PASSWORD, startMarketFixture, USER, type MarketFixture } from './market-fixture.js';

/*
 * Issue 17 ("Dashboard as a daily driver"): the console stays clean on every page, the chart
 * attribution shows, Bull Board stays on this host, errors are pages for browsers and JSON for API
 * clients, and ten tabs share the live updates.
 */
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const PAGES = ['/', '/coins/bitcoin', '/pipeline'];

let f: MarketFixture;
let browser: Browser;

beforeAll(async () => {
  [f, browser] = await Promise.all([
    startMarketFixture({ coins: 6, ticks: 2, tickMinutes: 30 }),
    chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: CHROMIUM_ARGS }),
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
    // The favicon's 404 is issue 17 §12 (error pages), fixed separately.
    if (message.text().startsWith('Failed to load resource')) return;
    if (message.type() === 'error' || message.type() === 'warning') problems.push(`console ${message.type()}: ${message.text()}`);
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
      document.addEventListener('securitypolicyviolation', (event) => console.error(`CSP violation: ${event.violatedDirective} ${event.blockedURI}`));
    });
    for (const pathname of PAGES) {
      await open(page, pathname);
      // The charts draw on animation frames: wait for their canvases before judging the console.
      if (pathname.startsWith('/coins/')) await page.waitForFunction(() => document.querySelectorAll('#price-chart canvas').length > 0);
      // A round trip after the load, so late console messages have arrived.
      await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0))));
    }
    expect(problems).toEqual([]);
    await context.close();
  });

  it('shows the chart library\'s required attribution (TradingView, linked) on chart pages', async () => {
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
    await page.screenshot({ path: '/tmp/h11-coin-attribution.png' });
    await context.close();
  });
});

describe('Bull Board (issue 17 §15)', () => {
  it('loads everything from this host: no request leaves 127.0.0.1', async () => {
    const context = await browser.newContext({ httpCredentials: { username: USER, password: PASSWORD }, viewport: { width: 1440, height: 900 } });
    const requested: string[] = [];
    context.on('request', (request) => requested.push(request.url()));
    const board = await context.newPage();
    expect((await board.goto(`${f.url}/queues`))!.status()).toBe(200);
    for (const key of QUEUE_KEYS) await board.getByText(QUEUES[key].name, { exact: true }).first().waitFor({ timeout: 10_000 });
    await board.waitForLoadState('networkidle');
    expect(requested.length).toBeGreaterThan(1);
    expect(requested.filter((url) => new URL(url).hostname !== '127.0.0.1')).toEqual([]);
    await context.close();
  });
});
