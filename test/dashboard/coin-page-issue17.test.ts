import winston from 'winston';
import { chromium, type Browser, type Page } from 'playwright-core';
import { createApp } from '../../dashboard/app.js';
import { Runtime } from '../../core/runtime.js';
import { serve, type Served } from './http.js';
import { startSyntheticMarts, type SyntheticMarts } from './synthetic-marts.js';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../helpers/chromium.js';

/*
 * Issue 17 ("Dashboard as a daily driver"), the coin page: prices under a cent (§3), charts with too
 * little data (§8), interval and range in the URL (§11) and the chart cosmetics (§14), over marts built
 * by the bundled dbt project and edited to those cases, in headless Chromium at both widths.
 */
const DESKTOP = { width: 1440, height: 900 };
const PHONE = { width: 390, height: 844 };
/** 'ethereum' is scaled to ~$0.00005: a coin under a cent with days of history. */
const TINY = 'ethereum';
/**
 * 'coin-3' keeps one hourly candle at one flat price: a coin tracked for under 2 hours. The market
 * overview keeps its newest hour only.
 */
const NEW_COIN = 'coin-3';
const FLAT_PRICE = 0.0000517;

let marts: SyntheticMarts;
let runtime: Runtime;
let served: Served;
let browser: Browser;

beforeAll(async () => {
  [marts, browser] = await Promise.all([
    startSyntheticMarts({ coins: 3, minutes: 3 * 24 * 60 }),
    chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS }),
  ]);
  const config = marts.config();
  const m = `"${config.transform.schema}_marts"`;
  // Before any request, so the response cache never holds the unedited marts.
  await marts.db.pool.query(`
    update ${m}.fct_coin_candles_hourly set open_price = open_price * 1e-7, high_price = high_price * 1e-7,
           low_price = low_price * 1e-7, close_price = close_price * 1e-7 where coin_id = '${TINY}';
    update ${m}.fct_coin_candles_daily set open_price = open_price * 1e-7, high_price = high_price * 1e-7,
           low_price = low_price * 1e-7, close_price = close_price * 1e-7 where coin_id = '${TINY}';
    update ${m}.dim_coins set price = price * 1e-7, high_24h = high_24h * 1e-7, low_24h = low_24h * 1e-7
     where coin_id = '${TINY}';
    delete from ${m}.fct_coin_candles_hourly where coin_id = '${NEW_COIN}'
       and bucket_start < (select max(bucket_start) from ${m}.fct_coin_candles_hourly where coin_id = '${NEW_COIN}');
    update ${m}.fct_coin_candles_hourly set open_price = ${FLAT_PRICE}, high_price = ${FLAT_PRICE},
           low_price = ${FLAT_PRICE}, close_price = ${FLAT_PRICE} where coin_id = '${NEW_COIN}';
    delete from ${m}.fct_coin_candles_daily where coin_id = '${NEW_COIN}';
    delete from ${m}.fct_coin_returns_hourly where coin_id = '${NEW_COIN}';
    delete from ${m}.fct_price_anomalies where coin_id = '${NEW_COIN}';
    update ${m}.dim_coins set price = ${FLAT_PRICE}, high_24h = ${FLAT_PRICE}, low_24h = ${FLAT_PRICE}
     where coin_id = '${NEW_COIN}';
    delete from ${m}.fct_market_overview_hourly
     where bucket_start < (select max(bucket_start) from ${m}.fct_market_overview_hourly);
    update ${m}.fct_price_anomalies set is_anomaly = true, robust_z_score = 6.5, return_1h = 0.04,
           anomaly_direction = 'spike' where coin_id = 'bitcoin' and extract(hour from bucket_start)::int % 9 = 0;`);
  const silent = winston.createLogger({ silent: true });
  runtime = new Runtime(config, silent, 'dashboard');
  served = await serve(
    createApp({
      config,
      pool: marts.db.pool,
      redis: runtime.redis,
      queues: (key) => runtime.queue(key),
      checkMigrations: async () => false,
      logger: silent,
    }),
  );
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await served?.close();
  await runtime?.close();
  await marts?.close();
});

/** A fresh tab at `viewport`, on `pathname` once its first load has finished and its charts are drawn. */
async function open(pathname: string, viewport = DESKTOP): Promise<Page> {
  const page = await (await browser.newContext({ viewport })).newPage();
  await page.goto(`${served.url}${pathname}`);
  await page.waitForSelector('body[data-loaded="true"]', { timeout: 10_000 });
  await page.waitForFunction(() => document.querySelectorAll('#price-chart canvas').length > 0);
  return page;
}

/** What the price chart's library reports: its price axis's visible range and how it labels prices. */
async function priceAxis(page: Page) {
  await page.waitForFunction(async () => {
    const { chartOf } = (await import('/assets/js/charts.js' as string)) as {
      chartOf?(c: HTMLElement): { chart: { priceScale(id: string): { getVisibleRange(): unknown } } } | undefined;
    };
    return chartOf?.(document.getElementById('price-chart')!)?.chart.priceScale('right').getVisibleRange() ?? false;
  });
  return page.evaluate(async () => {
    const { chartOf } = (await import('/assets/js/charts.js' as string)) as {
      chartOf(c: HTMLElement): {
        chart: {
          priceScale(id: string): { getVisibleRange(): { from: number; to: number } };
          panes(): Array<{ getSeries(): Array<{ priceFormatter(): { format(p: number): string } }> }>;
        };
      };
    };
    const { chart } = chartOf(document.getElementById('price-chart')!);
    const range = chart.priceScale('right').getVisibleRange();
    const format = chart.panes()[0]!.getSeries()[0]!.priceFormatter();
    const steps = [0, 0.25, 0.5, 0.75, 1].map((f) => range.from + f * (range.to - range.from));
    return { ...range, labels: steps.map((p) => format.format(p)) };
  });
}

/** Numbers in `selector`'s text that the layout split over two lines (a Range over a wrapped word has 2+ rects). */
function numbersSplitAcrossLines(page: Page, selector: string): Promise<string[]> {
  return page.$$eval(selector, (nodes) => {
    const split: string[] = [];
    for (const node of nodes) {
      const walker = document.createTreeWalker(node, NodeFilter.SHOW_TEXT);
      for (let text = walker.nextNode(); text; text = walker.nextNode()) {
        for (const match of (text.textContent ?? '').matchAll(/[$+-]?[\d.,]+[KMBT%]?/g)) {
          const range = document.createRange();
          range.setStart(text, match.index);
          range.setEnd(text, match.index + match[0].length);
          const lines = new Set([...range.getClientRects()].map((r) => Math.round(r.top)));
          if (lines.size > 1) split.push(match[0]);
        }
      }
    }
    return split;
  });
}

describe('a coin under a cent (§3)', () => {
  it.each([
    ['desktop', DESKTOP],
    ['phone', PHONE],
  ])('labels its price axis with distinct, non-zero prices on a %s', async (_name, viewport) => {
    const page = await open(`/coins/${TINY}`, viewport);
    const axis = await priceAxis(page);
    expect(axis.from).toBeGreaterThan(0);
    expect(axis.to).toBeLessThan(1e-3);
    expect(new Set(axis.labels).size).toBe(axis.labels.length);
    for (const label of axis.labels) expect(Number(label.replace(/[$,]/g, ''))).toBeGreaterThan(0);
    await page.screenshot({ path: `/tmp/i17-tiny-coin-${_name}.png`, fullPage: true });
    await page.context().close();
  });

  it.each([
    ['desktop', DESKTOP],
    ['phone', PHONE],
  ])('shows the price to 4 significant digits and never breaks a number in the cards on a %s', async (_n, viewport) => {
    const page = await open(`/coins/${TINY}`, viewport);
    expect(await page.textContent('#stat-price')).toMatch(/^\$0\.0000[1-9]\d{3}$/);
    expect(await page.textContent('#stat-range')).toMatch(/^\$0\.0000[1-9]\d{3}\s\/ \$0\.0000[1-9]\d{3}$/);
    expect(await numbersSplitAcrossLines(page, '.card .value')).toEqual([]);
    // No card's content spills out of it instead.
    const overflowing = await page.$$eval('.card .value', (nodes) =>
      nodes.filter((n) => n.scrollWidth > n.clientWidth + 1).map((n) => n.id),
    );
    expect(overflowing).toEqual([]);
    await page.context().close();
  });

  it("formats the market table's price of a coin under a cent to 4 significant digits", async () => {
    const page = await (await browser.newContext({ viewport: DESKTOP })).newPage();
    await page.goto(`${served.url}/?q=${TINY}`);
    await page.waitForSelector(`#coins tr[data-coin-id="${TINY}"]`, { timeout: 10_000 });
    expect(await page.textContent(`#coins tr[data-coin-id="${TINY}"] td.price`)).toMatch(/^\$0\.0000[1-9]\d{3}$/);
    await page.context().close();
  });
});

describe('a coin with under 2 hours of data (§8)', () => {
  it.each([
    ['desktop', DESKTOP],
    ['phone', PHONE],
  ])('says so in place of each empty chart on a %s', async (_name, viewport) => {
    const page = await open(`/coins/${NEW_COIN}`, viewport);
    for (const chart of ['#price-chart', '#volatility-chart']) {
      const message = page.locator(`${chart} .chart-empty`);
      await message.waitFor({ state: 'visible' });
      expect(await message.textContent()).toMatch(/not enough/i);
      // Inside the chart's box, not pushed below it.
      const [outer, inner] = await Promise.all([page.locator(chart).boundingBox(), message.boundingBox()]);
      expect(inner!.y).toBeGreaterThanOrEqual(outer!.y);
      expect(inner!.y + inner!.height).toBeLessThanOrEqual(outer!.y + outer!.height + 1);
    }
    await page.screenshot({ path: `/tmp/i17-new-coin-${_name}.png`, fullPage: true });
    await page.context().close();
  });

  it("says so in place of the market page's chart with one hour of history", async () => {
    const page = await (await browser.newContext({ viewport: PHONE })).newPage();
    await page.goto(`${served.url}/`);
    await page.waitForSelector('body[data-loaded="true"]', { timeout: 10_000 });
    const message = page.locator('#market-chart .chart-empty');
    await message.waitFor({ state: 'visible' });
    expect(await message.textContent()).toMatch(/not enough/i);
    await page.screenshot({ path: '/tmp/i17-market-phone.png', fullPage: true });
    await page.context().close();
  });

  it('scales the axis of a flat price around that price, not ±0.05', async () => {
    const page = await open(`/coins/${NEW_COIN}`);
    const axis = await priceAxis(page);
    expect(axis.from).toBeGreaterThan(0);
    expect(axis.from).toBeLessThan(FLAT_PRICE);
    expect(axis.to).toBeGreaterThan(FLAT_PRICE);
    expect(axis.to - axis.from).toBeLessThan(FLAT_PRICE * 0.1);
    expect(new Set(axis.labels).size).toBe(axis.labels.length);
    await page.context().close();
  });

  it('shows no empty-state message once there is enough data', async () => {
    const page = await open(`/coins/${TINY}`);
    await page.waitForFunction(() => document.getElementById('price-chart')?.dataset.points);
    expect(await page.$$('.chart-empty')).toHaveLength(0);
    await page.context().close();
  });
});

describe('interval and range in the URL (§11)', () => {
  const pressed = (page: Page, group: string) =>
    page.getAttribute(`#${group}-buttons button[aria-pressed="true"]`, `data-${group}`);

  it('puts the chosen interval and range in the query string, and a reload restores them', async () => {
    const page = await open(`/coins/${TINY}`);
    await page.click('#interval-buttons button[data-interval="daily"]');
    await page.click('#range-buttons button[data-range="30d"]');
    await page.waitForFunction(() => location.search === '?interval=daily&range=30d');
    await page.reload();
    await page.waitForSelector('body[data-loaded="true"]');
    expect([await pressed(page, 'interval'), await pressed(page, 'range')]).toEqual(['daily', '30d']);
    const requested = await page.evaluate(() =>
      performance
        .getEntriesByType('resource')
        .map((e) => e.name)
        .filter((n) => n.includes('/candles?')),
    );
    expect(requested).toEqual([expect.stringContaining('interval=daily&range=30d')]);
    await page.context().close();
  });

  it('a shared link opens on its interval and range', async () => {
    const page = await open(`/coins/${TINY}?range=24h`);
    expect([await pressed(page, 'interval'), await pressed(page, 'range')]).toEqual(['hourly', '24h']);
    expect(await page.$('#url-notice')).toBeNull();
    await page.context().close();
  });

  it('falls back to the defaults on bad values, says which, and drops them from the URL', async () => {
    const page = await open(`/coins/${TINY}?interval=weekly&range=24h&range=x`);
    expect([await pressed(page, 'interval'), await pressed(page, 'range')]).toEqual(['hourly', '7d']);
    const notice = await page.textContent('#url-notice');
    expect(notice).toMatch(/interval=weekly/);
    expect(notice).toMatch(/range/);
    expect(await page.$('[role="alert"]')).toBeNull();
    expect(new URL(page.url()).search).toBe('');
    await page.context().close();
  });
});

describe('chart cosmetics (§14)', () => {
  /** The price chart as its library lays it out, with the markers the page put on it. */
  const layout = (page: Page) =>
    page.evaluate(async () => {
      const { chartOf } = (await import('/assets/js/charts.js' as string)) as {
        chartOf(c: HTMLElement): {
          chart: {
            timeScale(): { width(): number; timeToCoordinate(t: number): number | null };
            priceScale(id: string): { width(): number };
            panes(): Array<{
              getSeries(): Array<{ options(): Record<string, unknown>; data(): Array<{ time: number }> }>;
            }>;
          };
          markers?: { markers(): Array<{ text?: string }> };
        };
      };
      const { chart, markers } = chartOf(document.getElementById('price-chart')!);
      const series = chart.panes()[0]!.getSeries();
      const candles = series[0]!.data();
      return {
        paneWidth: chart.timeScale().width(),
        lastBarX: chart.timeScale().timeToCoordinate(candles.at(-1)!.time),
        volumeOnAxis: series.slice(1).map((s) => [s.options().lastValueVisible, s.options().priceLineVisible]),
        markerTexts: (markers?.markers() ?? []).map((m) => m.text ?? ''),
      };
    });

  it.each([
    ['desktop', DESKTOP],
    ['phone', PHONE],
  ])('leaves room after the newest bar for its time label on a %s', async (_name, viewport) => {
    const page = await open(`/coins/${TINY}`, viewport);
    const { paneWidth, lastBarX } = await layout(page);
    // Half a "12:00" label at least (the label is centred on its bar).
    expect(paneWidth - lastBarX!).toBeGreaterThanOrEqual(24);
    await page.context().close();
  });

  it('keeps the volume series off the price axis: no last-value label or price line', async () => {
    const page = await open(`/coins/${TINY}`);
    expect((await layout(page)).volumeOnAxis).toEqual([[false, false]]);
    await page.context().close();
  });

  it('draws anomaly markers without text over the candles; the table below names them', async () => {
    const { rows } = await marts.db.pool.query<{ n: number }>(
      `select count(*)::int as n from "${marts.config().transform.schema}_marts".fct_price_anomalies where coin_id = $1 and is_anomaly`,
      ['bitcoin'],
    );
    const page = await open('/coins/bitcoin?range=all');
    const { markerTexts } = await layout(page);
    expect(rows[0]!.n).toBeGreaterThan(3);
    expect(markerTexts).toHaveLength(rows[0]!.n);
    expect(markerTexts.filter((t) => t !== '')).toEqual([]);
    expect(await page.textContent('#price-legend')).toMatch(/spike.*drop/);
    await page.locator('#price-chart').screenshot({ path: '/tmp/i17-markers-desktop.png' });
    await page.context().close();
  });
});
