import winston from 'winston';
import { chromium, type Browser, type Page } from 'playwright-core';
import { MarketQueries } from '../../dashboard/queries/market-queries.js';
import { createApp } from '../../dashboard/app.js';
import { Runtime } from '../../core/runtime.js';
import { serve, type Served } from './http.js';
import { startSyntheticMarts, type SyntheticMarts } from './synthetic-marts.js';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../helpers/chromium.js';

/*
 * Issue 17 ("Dashboard as a daily driver"), the market overview: movers, the 24h change, URL state
 * and formats, over marts built by the bundled dbt project (dim_coins edited to the cases that went
 * wrong), served by the app and read by the API and headless Chromium.
 */
let marts: SyntheticMarts;
let market: MarketQueries;
let schema: string;
let runtime: Runtime;
let served: Served;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  // 12 coins, 90 minutes of history: under 24 h, so there is no close 24 h before the newest hour.
  [marts, browser] = await Promise.all([
    startSyntheticMarts({ coins: 12, minutes: 90 }),
    chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS }),
  ]);
  const config = marts.config();
  schema = `${config.transform.schema}_marts`;
  market = new MarketQueries(marts.db.pool, schema);
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
  page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await served?.close();
  await runtime?.close();
  await marts?.close();
});

async function open(pathname: string): Promise<void> {
  await page.goto(`${served.url}${pathname}`);
  await page.waitForSelector('body[data-loaded="true"]', { timeout: 10_000 });
}

const setChanges = async (changes: number[]) => {
  const { rows } = await marts.db.pool.query<{ coin_id: string }>(
    `select coin_id from "${schema}".dim_coins order by market_cap_rank, coin_id`,
  );
  for (const [i, row] of rows.entries()) {
    await marts.db.pool.query(`update "${schema}".dim_coins set price_change_pct_24h = $2 where coin_id = $1`, [
      row.coin_id,
      changes[i % changes.length],
    ]);
  }
  return rows.length;
};
const texts = (selector: string) => page.$$eval(selector, (nodes) => nodes.map((n) => n.textContent ?? ''));

describe('top movers, 24h', () => {
  it('with every coin at -1.20%, lists no gainer (and says so) and five losers', async () => {
    // Before the page's first request, so the response cache holds this state.
    await setChanges([-1.2]);
    await open('/');
    expect(await texts('#gainers li')).toEqual(['Gainers', 'No coin rose in the last 24 h.']);
    const losers = await texts('#losers li span');
    expect(losers).toEqual(Array(5).fill('-1.20%'));
  });

  it('keeps gainers positive (biggest first) and losers negative (most negative first), each coin in at most one list', async () => {
    // Fewer than 10 coins with a sign: the top 5 and the bottom 5 overlap.
    const n = await setChanges([3, -2, 0, 1, -4, 5, 0.5, -0.5, 0, 0, 0, 0]);
    expect(n).toBeGreaterThanOrEqual(8);
    const overview = (await market.overview())!;
    expect(overview.gainers24h.map((m) => m.changePct24h)).toEqual([5, 3, 1, 0.5]);
    expect(overview.losers24h.map((m) => m.changePct24h)).toEqual([-4, -2, -0.5]);
    const ids = [...overview.gainers24h, ...overview.losers24h].map((m) => m.id);
    expect(new Set(ids).size).toBe(ids.length);
  });
});

describe('market cap change, 24h', () => {
  const overviewTable = () => `"${schema}".fct_market_overview_hourly`;
  /** A copy of the newest hour `hoursBefore` hours earlier, with total market cap `cap`. */
  const addHour = async (hoursBefore: number, cap: number) => {
    await marts.db.pool.query(
      `create temp table hour_copy as select * from ${overviewTable()} order by bucket_start desc limit 1`,
    );
    await marts.db.pool.query(
      `update hour_copy set bucket_start = bucket_start - make_interval(hours => $1), total_market_cap = $2`,
      [hoursBefore, cap],
    );
    await marts.db.pool.query(`insert into ${overviewTable()} select * from hour_copy; drop table hour_copy`);
  };

  it('shows — with under 24 h of history, not a change against the oldest hour', async () => {
    await open('/');
    const card = (await page.textContent('#total-market-cap'))!;
    expect(card).toMatch(/^\$[\d.]+[KMBT]? —$/);
    expect((await market.overview())!.marketCapChangePct24h).toBeNull();
  });

  it('with a gap, does not compare against a later hour labelled 24h; it compares against the close 24 h before', async () => {
    const latest = (await market.overview())!;
    await addHour(23, latest.totalMarketCap / 2);
    expect((await market.overview())!.marketCapChangePct24h).toBeNull();
    await addHour(24, latest.totalMarketCap / 4);
    expect((await market.overview())!.marketCapChangePct24h).toBeCloseTo(300);
  });
});

describe('table state in the URL', () => {
  it.each([
    ['/?sort=bogus', /sort/, ''],
    ['/?sort=price&order=sideways', /order/, '?sort=price'],
    ['/?page=abc', /page/, ''],
  ])('%s falls back to the defaults, says so, and shows the table', async (pathname, named, kept) => {
    await open(pathname);
    expect(await page.$('[role="alert"]')).toBeNull();
    expect(await page.$$('#coins tbody tr[data-coin-id]')).toHaveLength(12);
    expect(await page.textContent('#url-notice')).toMatch(named);
    expect(new URL(page.url()).search).toBe(kept);
  });

  it('clamps a page past the end to the last page', async () => {
    await open('/?page=700');
    await page.waitForFunction(() => document.querySelector('#page-info')?.textContent?.startsWith('Page 1 of 1'));
    expect(await page.$$('#coins tbody tr[data-coin-id]')).toHaveLength(12);
    expect(await page.textContent('#url-notice')).toMatch(/page 700/i);
    expect(new URL(page.url()).searchParams.get('page')).toBeNull();
  });

  it('shows no notice for a good URL', async () => {
    await open('/?sort=price&order=desc');
    expect(await page.$('#url-notice')).toBeNull();
    expect(await page.$$('#coins tbody tr[data-coin-id]')).toHaveLength(12);
  });
});

describe('formats', () => {
  const TIME = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC$/;

  it('shows "Last updated" and table times in one format, YYYY-MM-DD hh:mm:ss UTC', async () => {
    await open('/pipeline');
    await page.waitForFunction(() => (document.querySelector('#last-updated')?.textContent ?? '').length > 0);
    expect(await page.textContent('#last-updated')).toMatch(TIME);
    const summary = (await page.textContent('#transform-runs summary'))!;
    expect(summary.split(' · ').at(-1)).toMatch(TIME);
  });

  it('says a whole number of minutes without "0 s"', async () => {
    await open('/pipeline');
    expect(await page.textContent('#stale-total')).toMatch(/within 15 min\./);
  });

  it("formats market caps with the cards' compact currency formatter, the one the chart uses", async () => {
    await open('/');
    const compact = await page.evaluate(async () => {
      const dom = (await import('/assets/js/dom.js' as string)) as {
        usdCompact(v: number): string;
        usdCompactPriceFormat?: { formatter(v: number): string };
      };
      return [dom.usdCompact(9_767_240_000_000), dom.usdCompactPriceFormat?.formatter(9_767_240_000_000)];
    });
    expect(compact).toEqual(['$9.77T', '$9.77T']);
  });
});

describe('pipeline page between transform runs', () => {
  let clocked: Page;
  beforeAll(async () => {
    // The newest batch loaded 10 minutes ago; STALE_AFTER is 15 minutes by default.
    await marts.db.pool.query(`
      insert into pipeline.pipeline_runs (run_id, trigger, started_at, finished_at, coins_planned, batches_planned, batches_fetched, batches_loaded, rows_loaded, status)
      values ('t17fresh', 'schedule', now() - interval '10 minutes', now() - interval '10 minutes', 2, 1, 1, 1, 2, 'loaded');
      insert into pipeline.pipeline_batches (run_id, batch_no, coin_ids, status, fetched_at, loaded_at, rows_loaded)
      values ('t17fresh', 0, '{bitcoin,ethereum}', 'loaded', now() - interval '10 minutes', now() - interval '10 minutes', 2);`);
    clocked = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    // A fake clock in the page, so minutes pass without waiting for them.
    await clocked.clock.install();
    await clocked.goto(`${served.url}/pipeline`);
    await clocked.waitForSelector('body[data-loaded="true"]', { timeout: 10_000 });
  });
  const text = (id: string) => clocked.textContent(`#${id}`);

  it('starts fresh, about 10 minutes old', async () => {
    expect(await text('fresh-state')).toBe('Fresh');
    expect(await text('fresh-age')).toMatch(/^10 min( \d+ s)? ago \(limit 15 min\)$/);
  });

  it('counts the age up on its own', async () => {
    await clocked.clock.fastForward('02:00');
    await clocked.waitForFunction(() => /^12 min/.test(document.querySelector('#fresh-age')?.textContent ?? ''));
    expect(await text('fresh-state')).toBe('Fresh');
  });

  it('turns stale once the age passes STALE_AFTER, with no new transform run', async () => {
    await clocked.clock.fastForward('04:00');
    await clocked.waitForFunction(() => document.querySelector('#fresh-state')?.textContent === 'Stale');
    expect(await text('fresh-age')).toMatch(/^16 min( \d+ s)? ago \(limit 15 min\)$/);
  });

  it('refetches its data on an interval', async () => {
    const refetched = clocked.waitForRequest((request) => request.url().endsWith('/api/v1/pipeline/freshness'), {
      timeout: 10_000,
    });
    await clocked.clock.fastForward('01:00');
    await refetched;
  });
});
