import { mkdirSync } from 'node:fs';
import path from 'node:path';
import winston from 'winston';
import { chromium, type Browser, type ConsoleMessage, type Page } from 'playwright-core';
import { createApp } from '../../../dashboard/app.js';
import { axisDigits, plainPrice } from '../../../dashboard/client/price-format.js';
import { Runtime } from '../../../core/runtime.js';
import { serve, type Served } from '../http.js';
import { startSyntheticMarts, type SyntheticMarts } from '../synthetic-marts.js';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../../helpers/chromium.js';
import { inked } from '../../helpers/canvas-ink.js';
import { waitFor } from '../../helpers/wait-for.js';

/*
 * Issue 17, "Coin chart": the readout of the candle under the cursor, the log scale, the line/candle
 * switch and the comparison with bitcoin (dashboard/client/coin-chart.ts), each kept in the URL, in
 * headless Chromium at both widths over marts built by the bundled dbt project.
 */
const DESKTOP = { width: 1440, height: 900 };
const PHONE = { width: 390, height: 844 };
/** 'ethereum' is scaled to ~$0.0002: the readout must show a coin under a cent in its own decimals. */
const TINY = 'ethereum';
const SHOTS = path.resolve('test-output/screenshots');

interface ApiCandle {
  time: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number | null;
}

let marts: SyntheticMarts;
let runtime: Runtime;
let served: Served;
let browser: Browser;
const silent = winston.createLogger({ silent: true });

/** A dashboard over the marts as they are now (a fresh response cache: hand edits are seen). */
async function serveMarts(): Promise<Served> {
  return serve(
    createApp({
      config: marts.config(),
      pool: marts.db.pool,
      redis: runtime.redis,
      queues: (key) => runtime.queue(key),
      checkMigrations: async () => false,
      logger: silent,
    }),
  );
}

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  [marts, browser] = await Promise.all([
    startSyntheticMarts({ coins: 3, minutes: 3 * 24 * 60 }),
    chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS }),
  ]);
  const m = `"${marts.config().transform.schema}_marts"`;
  // Before any request, so the response cache never holds the unedited marts.
  await marts.db.pool.query(`
    update ${m}.fct_coin_candles_hourly set open_price = open_price * 1e-7, high_price = high_price * 1e-7,
           low_price = low_price * 1e-7, close_price = close_price * 1e-7 where coin_id = '${TINY}';
    update ${m}.fct_coin_candles_daily set open_price = open_price * 1e-7, high_price = high_price * 1e-7,
           low_price = low_price * 1e-7, close_price = close_price * 1e-7 where coin_id = '${TINY}';
    update ${m}.dim_coins set price = price * 1e-7, high_24h = high_24h * 1e-7, low_24h = low_24h * 1e-7
     where coin_id = '${TINY}';
    update ${m}.fct_price_anomalies set is_anomaly = true, robust_z_score = 6.5, return_1h = 0.04,
           anomaly_direction = 'spike' where coin_id = 'bitcoin' and extract(hour from bucket_start)::int % 9 = 0;`);
  runtime = new Runtime(marts.config(), silent, 'dashboard');
  served = await serveMarts();
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await served?.close();
  await runtime?.close();
  await marts?.close();
});

/** Console errors and warnings, page errors and failed responses: the page must have none. */
function watch(page: Page): string[] {
  const problems: string[] = [];
  page.on('console', (message: ConsoleMessage) => {
    // The canvas-ink helper's own pixel reads make Chromium suggest willReadFrequently: the test's, not the page's.
    if (message.text().startsWith('Canvas2D: Multiple readback')) return;
    if (message.type() === 'error' || message.type() === 'warning')
      problems.push(`console ${message.type()}: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('response', (response) => {
    if (response.status() >= 400) problems.push(`${response.status()} ${response.url()}`);
  });
  return problems;
}

interface Opened {
  page: Page;
  problems: string[];
}

/** A fresh tab at `viewport` on `pathname`, once its first load finished and the price chart drew. */
async function open(pathname: string, viewport = DESKTOP, at: Served = served): Promise<Opened> {
  const page = await (await browser.newContext({ viewport })).newPage();
  const problems = watch(page);
  await page.goto(`${at.url}${pathname}`);
  await page.waitForSelector('body[data-loaded="true"]', { timeout: 10_000 });
  await page.waitForFunction(() => document.querySelectorAll('#price-chart canvas').length > 0);
  return { page, problems };
}

async function candlesOf(coin: string, query = ''): Promise<ApiCandle[]> {
  const response = await fetch(`${served.url}/api/v1/coins/${coin}/candles${query}`);
  expect(response.status).toBe(200);
  return ((await response.json()) as { candles: ApiCandle[] }).candles;
}

/** The price chart as its library holds it: the price axis's mode and every series with its data. */
function chartState(page: Page) {
  return page.evaluate(async () => {
    const { chartOf } = (await import('/assets/js/charts.js' as string)) as {
      chartOf(c: HTMLElement): {
        chart: {
          priceScale(id: string): { options(): { mode: number } };
          panes(): Array<{
            getSeries(): Array<{
              seriesType(): string;
              options(): { title: string; priceScaleId?: string };
              data(): Array<{ time: number; value?: number; close?: number }>;
            }>;
          }>;
        };
        markers?: { markers(): unknown[] };
      };
    };
    const { chart, markers } = chartOf(document.getElementById('price-chart')!);
    return {
      mode: chart.priceScale('right').options().mode,
      series: chart
        .panes()[0]!
        .getSeries()
        .filter((s) => s.options().priceScaleId !== 'volume')
        .map((s) => ({ type: s.seriesType(), title: s.options().title, data: s.data() })),
      markers: markers?.markers().length ?? 0,
    };
  });
}
type ChartState = Awaited<ReturnType<typeof chartState>>;

/** Polls the chart until `ready` accepts its state (it redraws after a fetch). */
const chartWhen = (page: Page, what: string, ready: (s: ChartState) => boolean) =>
  waitFor(
    what,
    async () => {
      const state = await chartState(page);
      return ready(state) ? state : undefined;
    },
    10_000,
  );

/** The page coordinates of the candle at `time`, half way down the price pane. */
function candlePoint(page: Page, time: number): Promise<{ x: number; y: number }> {
  return page.evaluate(async (t) => {
    const { chartOf } = (await import('/assets/js/charts.js' as string)) as {
      chartOf(c: HTMLElement): {
        chart: {
          chartElement(): HTMLElement;
          timeScale(): { timeToCoordinate(t: number): number | null };
          priceScale(id: string): { width(): number };
          paneSize(): { height: number };
        };
      };
    };
    const { chart } = chartOf(document.getElementById('price-chart')!);
    const box = chart.chartElement().getBoundingClientRect();
    return {
      x: box.left + chart.priceScale('left').width() + chart.timeScale().timeToCoordinate(t)!,
      y: box.top + chart.paneSize().height / 2,
    };
  }, time);
}

/** The readout's values by key (time, open, high, low, close, volume, change, compare). */
function readout(page: Page): Promise<Record<string, string>> {
  return page.$$eval('#chart-readout [data-key]', (nodes) =>
    Object.fromEntries(nodes.map((n) => [(n as HTMLElement).dataset.key!, n.textContent ?? ''])),
  );
}

/** Scrolls the chart's toggles to the top of the window: toggles, readout and chart in view. */
const toChart = (page: Page) => page.evaluate(() => document.getElementById('chart-options')!.scrollIntoView());
const compact = new Intl.NumberFormat('en-US', { notation: 'compact', maximumFractionDigits: 2 });
const hourLabel = (t: number) => `${new Date(t * 1000).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
const pressed = (page: Page, group: string) =>
  page.getAttribute(`#${group}-buttons button[aria-pressed="true"]`, `data-${group}`);

describe('the OHLCV readout', () => {
  it.each([
    ['desktop', DESKTOP],
    ['phone', PHONE],
  ])("shows the API's candle under the cursor, in the coin's price format, on a %s", async (name, viewport) => {
    const candles = await candlesOf(TINY);
    const { page, problems } = await open(`/coins/${TINY}`, viewport);
    await toChart(page);
    const digits = axisDigits(Math.min(...candles.map((c) => c.low)), Math.max(...candles.map((c) => c.high)));
    for (const candle of [candles[Math.floor(candles.length / 3)]!, candles[Math.floor((2 * candles.length) / 3)]!]) {
      const { x, y } = await candlePoint(page, candle.time);
      await page.mouse.move(x, y);
      await page.waitForFunction(
        (t) => document.getElementById('chart-readout')?.dataset.time === String(t),
        candle.time,
      );
      const shown = await readout(page);
      expect(shown).toEqual({
        time: hourLabel(candle.time),
        open: `$${plainPrice(candle.open, digits)}`,
        high: `$${plainPrice(candle.high, digits)}`,
        low: `$${plainPrice(candle.low, digits)}`,
        close: `$${plainPrice(candle.close, digits)}`,
        volume: `$${compact.format(candle.volume!)}`,
      });
      // Under a cent, yet never "$0.00": the shown close is the API's to its last shown decimal.
      expect(candle.close).toBeLessThan(0.01);
      expect(Math.abs(Number(shown.close!.slice(1)) - candle.close)).toBeLessThanOrEqual(0.5 * 10 ** -digits);
      expect(Number(shown.close!.slice(1))).toBeGreaterThan(0);
    }
    await page.screenshot({ path: `${SHOTS}/coin-chart-readout-${name}.png` });
    // Off the chart it shows the newest candle.
    await page.mouse.move(1, 1);
    await page.waitForFunction(
      (t) => document.getElementById('chart-readout')?.dataset.time === String(t),
      candles.at(-1)!.time,
    );
    expect((await readout(page)).close).toBe(`$${plainPrice(candles.at(-1)!.close, digits)}`);
    // Readable on a phone: every item inside the page's width, in a legible size.
    const items = await page.$$eval('#chart-readout .ro', (nodes) =>
      nodes.map((n) => ({ right: n.getBoundingClientRect().right, size: parseFloat(getComputedStyle(n).fontSize) })),
    );
    for (const item of items) {
      expect(item.right).toBeLessThanOrEqual(viewport.width);
      expect(item.size).toBeGreaterThanOrEqual(12);
    }
    expect(problems).toEqual([]);
    await page.context().close();
  });

  it('shows the newest candle before the cursor comes, and dates on daily candles', async () => {
    const candles = await candlesOf('bitcoin', '?interval=daily&range=30d');
    const { page } = await open('/coins/bitcoin?interval=daily&range=30d');
    await page.waitForFunction(
      (t) => document.getElementById('chart-readout')?.dataset.time === String(t),
      candles.at(-1)!.time,
    );
    expect((await readout(page)).time).toBe(`${new Date(candles.at(-1)!.time * 1000).toISOString().slice(0, 10)} UTC`);
    await page.context().close();
  });
});

describe('the chart toggles', () => {
  it('switches to a log scale, puts it in the URL, and a reload keeps it', async () => {
    const { page, problems } = await open(`/coins/${TINY}`);
    expect((await chartState(page)).mode).toBe(0);
    await page.click('#scale-buttons button[data-scale="log"]');
    await page.waitForFunction(() => location.search === '?scale=log');
    await chartWhen(page, 'a logarithmic price axis', (s) => s.mode === 1);
    await page.reload();
    await page.waitForSelector('body[data-loaded="true"]');
    expect(await pressed(page, 'scale')).toBe('log');
    await chartWhen(page, 'a logarithmic price axis after the reload', (s) => s.mode === 1);
    await toChart(page);
    await page.screenshot({ path: `${SHOTS}/coin-chart-log-desktop.png` });
    await page.click('#scale-buttons button[data-scale="linear"]');
    await page.waitForFunction(() => location.search === '');
    await chartWhen(page, 'a linear price axis', (s) => s.mode === 0);
    expect(problems).toEqual([]);
    await page.context().close();
  });

  it('switches candles to a line of closes (markers kept), puts it in the URL, and a reload keeps it', async () => {
    const candles = await candlesOf('bitcoin');
    const { page, problems } = await open('/coins/bitcoin');
    const before = await chartState(page);
    expect(before.series.map((s) => s.type)).toEqual(['Candlestick']);
    expect(before.markers).toBeGreaterThan(0);
    // Candles drawn in green and red; the line is blue.
    await inked(page, '#price-chart', [[22, 163, 74]], 50);
    await page.click('#chart-buttons button[data-chart="line"]');
    await page.waitForFunction(() => location.search === '?chart=line');
    const line = await chartWhen(page, 'a line series', (s) => s.series[0]?.type === 'Line');
    expect(line.series).toHaveLength(1);
    expect(line.series[0]!.data.map((d) => [d.time, d.value])).toEqual(candles.map((c) => [c.time, c.close]));
    expect(line.markers).toBe(before.markers);
    await inked(page, '#price-chart', [[37, 99, 235]], 50);
    await page.reload();
    await page.waitForSelector('body[data-loaded="true"]');
    expect(await pressed(page, 'chart')).toBe('line');
    await chartWhen(page, 'a line series after the reload', (s) => s.series[0]?.type === 'Line');
    await toChart(page);
    await page.screenshot({ path: `${SHOTS}/coin-chart-line-desktop.png` });
    expect(problems).toEqual([]);
    await page.context().close();
  });

  it.each([
    ['desktop', DESKTOP],
    ['phone', PHONE],
  ])(
    "overlays bitcoin's % change on a percentage axis, kept in the URL and over a reload, on a %s",
    async (name, viewport) => {
      const [own, btc] = await Promise.all([candlesOf(TINY, '?range=30d'), candlesOf('bitcoin', '?range=30d')]);
      const { page, problems } = await open(`/coins/${TINY}?range=30d&scale=log`, viewport);
      expect((await chartState(page)).series.map((s) => s.title)).not.toContain('BTC');
      await page.click('#compare-buttons button[data-compare="bitcoin"]');
      await page.waitForFunction(() => new URLSearchParams(location.search).get('compare') === 'bitcoin');
      const compared = await chartWhen(page, 'the compare line', (s) => s.series.some((x) => x.title === 'BTC'));
      expect(compared.mode).toBe(2); // percentage: each line from its first visible candle
      const line = compared.series.find((s) => s.title === 'BTC')!;
      const span = btc.filter((c) => c.time >= own[0]!.time && c.time <= own.at(-1)!.time);
      expect(span.length).toBeGreaterThan(24);
      expect(line.data.map((d) => [d.time, d.value])).toEqual(span.map((c) => [c.time, c.close]));
      await inked(page, '#price-chart', [[247, 147, 26]], 30);
      // A log axis cannot show percentages: its buttons wait while comparing, and the note says so.
      expect(await page.isDisabled('#scale-buttons button[data-scale="log"]')).toBe(true);
      expect(await page.textContent('#compare-note')).toMatch(
        /% change from the first visible candle.*Log scale is off/,
      );
      // The readout adds both coins' change since the first visible candle (the axis's 0%), here at
      // the newest candle (the cursor off the chart).
      await page.mouse.move(1, 1);
      await page.waitForFunction(
        (t) => document.getElementById('chart-readout')?.dataset.time === String(t),
        own.at(-1)!.time,
      );
      const from = await page.evaluate(async () => {
        const { chartOf } = (await import('/assets/js/charts.js' as string)) as {
          chartOf(c: HTMLElement): { chart: { timeScale(): { getVisibleRange(): { from: number } } } };
        };
        return chartOf(document.getElementById('price-chart')!).chart.timeScale().getVisibleRange().from;
      });
      const since = (list: ApiCandle[]) => {
        const change = (list.at(-1)!.close / list.find((c) => c.time >= from)!.close - 1) * 100;
        return `${change > 0 ? '+' : ''}${change.toFixed(2)}%`;
      };
      const shown = await readout(page);
      expect([shown.change, shown.compare]).toEqual([since(own), since(span)]);
      // Each change is labelled with its coin: this coin's symbol, then BTC.
      expect(
        await page.$$eval('#chart-readout .ro:has([data-key="change"], [data-key="compare"]) .ro-label', (n) =>
          n.map((x) => x.textContent),
        ),
      ).toEqual([(await page.textContent('#coin-title .muted'))!.trim(), 'BTC']);
      await toChart(page);
      await page.screenshot({ path: `${SHOTS}/coin-chart-compare-${name}.png` });
      await page.reload();
      await page.waitForSelector('body[data-loaded="true"]');
      expect(await pressed(page, 'compare')).toBe('bitcoin');
      await chartWhen(page, 'the compare line after the reload', (s) => s.series.some((x) => x.title === 'BTC'));
      await page.click('#compare-buttons button[data-compare="off"]');
      await page.waitForFunction(() => location.search === '?range=30d&scale=log');
      const off = await chartWhen(page, 'no compare line', (s) => !s.series.some((x) => x.title === 'BTC'));
      expect(off.mode).toBe(1); // the log scale the link asked for
      expect(await page.isHidden('#compare-note')).toBe(true);
      expect(problems).toEqual([]);
      await page.context().close();
    },
  );

  it('opens a shared link with all three toggles on', async () => {
    const { page, problems } = await open(`/coins/${TINY}?chart=line&scale=log&compare=bitcoin`, PHONE);
    expect([await pressed(page, 'chart'), await pressed(page, 'scale'), await pressed(page, 'compare')]).toEqual([
      'line',
      'log',
      'bitcoin',
    ]);
    const state = await chartWhen(page, 'line and compare line', (s) => s.series.length === 2);
    expect(state.series.map((s) => [s.type, s.title])).toEqual([
      ['Line', ''],
      ['Line', 'BTC'],
    ]);
    expect(await page.$('#url-notice')).toBeNull();
    await page.screenshot({ path: `${SHOTS}/coin-chart-all-toggles-phone.png`, fullPage: true });
    expect(problems).toEqual([]);
    await page.context().close();
  });

  it('falls back to the defaults on bad values, says which, and drops them from the URL', async () => {
    const { page } = await open(`/coins/${TINY}?chart=bars&scale=log&scale=linear&compare=ethereum&range=24h`);
    expect([await pressed(page, 'chart'), await pressed(page, 'scale'), await pressed(page, 'compare')]).toEqual([
      'candles',
      'linear',
      'off',
    ]);
    const notice = await page.textContent('#url-notice');
    expect(notice).toMatch(/chart=bars/);
    expect(notice).toMatch(/scale=log,linear/);
    expect(notice).toMatch(/compare=ethereum/);
    expect(new URL(page.url()).search).toBe('?range=24h');
    const state = await chartState(page);
    expect([state.mode, state.series.map((s) => s.type)]).toEqual([0, ['Candlestick']]);
    await page.context().close();
  });
});

describe("bitcoin's own page and an untracked bitcoin", () => {
  it('offers no comparison on bitcoin itself, and refuses one from the URL', async () => {
    const { page, problems } = await open('/coins/bitcoin?compare=bitcoin');
    expect(await page.isHidden('#compare-buttons')).toBe(true);
    expect(await page.textContent('#url-notice')).toMatch(/compare=bitcoin/);
    expect(new URL(page.url()).search).toBe('');
    expect((await chartState(page)).series.map((s) => s.title)).toEqual(['']);
    expect(problems).toEqual([]);
    await page.context().close();
  });

  it("says so when bitcoin isn't tracked, and draws the coin alone", async () => {
    const m = `"${marts.config().transform.schema}_marts"`;
    await marts.db.pool.query(`delete from ${m}.dim_coins where coin_id = 'bitcoin'`);
    const untracked = await serveMarts();
    try {
      const { page, problems } = await open(`/coins/${TINY}?compare=bitcoin`, DESKTOP, untracked);
      await page.waitForFunction(() =>
        /isn't tracked/.test(document.getElementById('compare-note')?.textContent ?? ''),
      );
      expect(await page.isVisible('#compare-note')).toBe(true);
      const state = await chartState(page);
      expect([state.mode, state.series.map((s) => s.title)]).toEqual([0, ['']]);
      expect(problems).toEqual([]);
      await page.context().close();
    } finally {
      await untracked.close();
    }
  });
});
