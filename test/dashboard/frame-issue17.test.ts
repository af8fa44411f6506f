import winston from 'winston';
import { chromium, type Browser, type Page } from 'playwright-core';
import { createApp } from '../../dashboard/app.js';
import { Runtime } from '../../core/runtime.js';
import { serve, type Served } from './http.js';
import { startSyntheticMarts, type SyntheticMarts } from './synthetic-marts.js';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../helpers/chromium.js';

/*
 * Issue 17 ("Dashboard as a daily driver"), what every page shares: the header's stale-data warning
 * (§2: "every page's header must warn when data is stale") and the phone layout of the Pipeline page's
 * run ids and wide tables (§9), over synthetic marts and a run ledger written here, in headless
 * Chromium at both widths.
 */
const DESKTOP = { width: 1440, height: 900 };
const PHONE = { width: 390, height: 844 };
const PAGES = ['/', '/coins/bitcoin', '/pipeline', '/anomalies'];
/** A scheduled tick's id and a longer hand-made one, as the Recent ticks table lists them. */
const RUN_IDS = ['t1765121280000', 'backfill-2026-12-07T15-28-00Z-a1b2c3d4'];

let marts: SyntheticMarts;
let runtime: Runtime;
let served: Served;
let browser: Browser;

/** A tick whose one batch loaded `minutesAgo` minutes ago. */
async function loadedRun(runId: string, minutesAgo: number): Promise<void> {
  await marts.db.pool.query(
    `insert into pipeline.pipeline_runs (run_id, trigger, started_at, finished_at, coins_planned, batches_planned, batches_fetched, batches_loaded, rows_loaded, status)
     values ($1, 'schedule', now() - make_interval(mins => $2), now() - make_interval(mins => $2), 2, 1, 1, 1, 2, 'loaded')`,
    [runId, minutesAgo],
  );
  await marts.db.pool.query(
    `insert into pipeline.pipeline_batches (run_id, batch_no, coin_ids, status, fetched_at, loaded_at, rows_loaded)
     values ($1, 0, '{bitcoin,ethereum}', 'loaded', now() - make_interval(mins => $2), now() - make_interval(mins => $2), 2)`,
    [runId, minutesAgo],
  );
}

beforeAll(async () => {
  [marts, browser] = await Promise.all([
    startSyntheticMarts({ coins: 3, minutes: 90 }),
    chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS }),
  ]);
  for (const [i, runId] of RUN_IDS.entries()) await loadedRun(runId, 10 + i);
  const config = marts.config();
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

async function open(pathname: string, viewport = DESKTOP, clock = false): Promise<Page> {
  const page = await (await browser.newContext({ viewport })).newPage();
  // A fake clock in the page, so minutes pass without waiting for them.
  if (clock) await page.clock.install();
  await page.goto(`${served.url}${pathname}`);
  await page.waitForSelector('body[data-loaded="true"]', { timeout: 10_000 });
  await page.waitForFunction(() => document.body.dataset.transformRun);
  return page;
}

describe("every page's header warns when the data is stale (§2)", () => {
  // The newest load was 10 minutes ago; STALE_AFTER is 15 minutes by default.
  let pages: Page[];
  beforeAll(async () => {
    pages = [];
    for (const pathname of PAGES) pages.push(await open(pathname, DESKTOP, true));
  });
  afterAll(async () => {
    for (const page of pages) await page.context().close();
  });
  const warning = (page: Page) => page.locator('#stale-warning');

  it('shows no warning while the newest data is younger than STALE_AFTER', async () => {
    for (const page of pages) expect(await warning(page).isVisible()).toBe(false);
  });

  it('warns on every page once the data passes STALE_AFTER, with no new transform run, and counts on', async () => {
    for (const page of pages) {
      await page.clock.fastForward('06:00');
      await warning(page).waitFor({ state: 'visible' });
      expect(await warning(page).textContent()).toMatch(/^Stale data: 16 min( \d+ s)? old \(limit 15 min\)$/);
      await page.clock.fastForward('02:00');
      await page.waitForFunction(() =>
        /^Stale data: 18 min/.test(document.getElementById('stale-warning')!.textContent!),
      );
    }
    // Inside the header, on both widths' layouts.
    const box = await warning(pages[0]!).boundingBox();
    const header = await pages[0]!.locator('header').boundingBox();
    expect(box!.y + box!.height).toBeLessThanOrEqual(header!.y + header!.height);
  });

  it('clears when a transform run brings newer data', async () => {
    await loadedRun('t17-new-data', 0);
    await marts.db.pool.query(`update pipeline.transform_runs set loads_barrier_at = now()`);
    await marts.advance(0);
    for (const page of pages) await warning(page).waitFor({ state: 'hidden', timeout: 10_000 });
  });

  it('fits the header on a phone', async () => {
    const page = await open('/pipeline', PHONE, true);
    await page.clock.fastForward('30:00');
    await warning(page).waitFor({ state: 'visible' });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await page.screenshot({ path: '/tmp/i17-stale-header-phone.png' });
    await page.context().close();
  });
});

describe('the Pipeline page on a phone (§9)', () => {
  let page: Page;
  const problems: string[] = [];
  beforeAll(async () => {
    const context = await browser.newContext({ viewport: PHONE });
    context.on('console', (m) => m.type() === 'error' && problems.push(m.text()));
    context.on('weberror', (e) => problems.push(e.error().message));
    page = await context.newPage();
    await page.goto(`${served.url}/pipeline`);
    await page.waitForSelector('body[data-loaded="true"]', { timeout: 10_000 });
    await page.waitForSelector('#ticks td code');
  });
  afterAll(() => page.context().close());

  it('keeps each run id on one line, with the whole id in its title', async () => {
    const cells = await page.$$eval('#ticks tbody td:first-child code', (codes) =>
      codes.map((c) => ({
        title: c.getAttribute('title'),
        height: c.getBoundingClientRect().height,
        fontSize: parseFloat(getComputedStyle(c).fontSize),
      })),
    );
    expect(cells.map((c) => c.title)).toEqual(expect.arrayContaining(RUN_IDS));
    // One line is about 1.2 font sizes high; the wrapped ids were 5 lines.
    for (const cell of cells) expect(cell.height).toBeLessThan(cell.fontSize * 2);
    await page.screenshot({ path: '/tmp/i17-pipeline-phone.png', fullPage: true });
  });

  it('says a table is wider than the screen, and no longer hints at more once scrolled to its end', async () => {
    const box = page.locator('.table:has(#ticks)');
    const hint = box.locator('xpath=preceding-sibling::*[1]');
    expect(await box.evaluate((b) => b.scrollWidth > b.clientWidth)).toBe(true);
    await hint.waitFor({ state: 'visible' });
    expect(await hint.textContent()).toMatch(/scroll/i);
    const shadow = () => box.evaluate((b) => getComputedStyle(b).boxShadow);
    const atStart = await shadow();
    expect(atStart).toMatch(/inset/);
    // Scrolled to its end, only the left edge has more to see.
    await box.evaluate((b) => b.scrollTo({ left: b.scrollWidth }));
    await page.waitForFunction(
      (before) => getComputedStyle(document.querySelector('.table:has(#ticks)')!).boxShadow !== before,
      atStart,
    );
    expect(await shadow()).toMatch(/inset/);
  });

  it('logged no error while laying the hints out', async () => {
    // The dbt run's node table appears late and overflows too: its hint is laid out after the load.
    await page.locator('#transform-runs .table').first().locator('xpath=preceding-sibling::*[1]').waitFor();
    await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0))));
    expect(problems).toEqual([]);
  });

  it('gives no such hint on a desktop, where the table fits', async () => {
    const wide = await open('/pipeline', DESKTOP);
    await wide.waitForSelector('#ticks td code');
    const box = wide.locator('.table:has(#ticks)');
    expect(await box.evaluate((b) => b.scrollWidth > b.clientWidth)).toBe(false);
    expect(await wide.locator('.scroll-hint:visible').count()).toBe(0);
    expect(await box.evaluate((b) => getComputedStyle(b).boxShadow)).toBe('none');
    await wide.context().close();
  });
});
