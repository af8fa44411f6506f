/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
import { createChart, emptyState, lwc, type Lwc } from './charts.js';
import {
  api,
  byId,
  el,
  fill,
  ignoredNotice,
  pct,
  setText,
  start,
  trend,
  urlNotice,
  urlParam,
  usdCompact,
  usdCompactPriceFormat,
} from './dom.js';
import { usdPrice } from './price-format.js';
import { bindScreener, screenerFromUrl } from './screener.js';
import { activeBounds, screenerParams } from './screener-values.js';

interface Mover {
  id: string;
  name: string | null;
  symbol: string | null;
  price: number | null;
  changePct24h: number;
}
interface Overview {
  totalMarketCap: number;
  totalVolume24h: number;
  marketCapChangePct24h: number | null;
  coinCount: number;
  bitcoinDominancePct: number | null;
  ethereumDominancePct: number | null;
  gainers24h: Mover[];
  losers24h: Mover[];
  history: Array<{ time: number; totalMarketCap: number }>;
}
interface Coin {
  id: string;
  name: string | null;
  symbol: string | null;
  rank: number | null;
  price: number | null;
  changePct1h: number | null;
  changePct24h: number | null;
  changePct7d: number | null;
  marketCap: number | null;
  volume24h: number | null;
  sparkline7d: number[];
}
interface CoinPage {
  coins: Coin[];
  total: number;
  page: number;
  pages: number;
  pageSize: number;
}

/**
 * Table state lives in the URL (?sort=&order=&q=&page=, and the screener's filters), so a view can be
 * linked and reloaded. A value the API would refuse (a hand-edited or outdated link) falls back to its
 * default, with a notice, instead of an error banner and an empty table.
 */
const SORTS = new Set(
  [...document.querySelectorAll<HTMLElement>('#coins th[data-sort]')].map((th) => th.dataset.sort!),
);
const ignored: string[] = [];
const state = {
  sort: urlParam('sort', 'rank', (v) => SORTS.has(v), ignored),
  order: urlParam('order', 'asc', (v) => v === 'asc' || v === 'desc', ignored),
  q: urlParam('q', '', (v) => v.trim().length <= 64, ignored).trim(),
  page: Number(urlParam('page', '1', (v) => /^[1-9]\d{0,8}$/.test(v), ignored)),
  filters: screenerFromUrl(ignored),
};

/** A line above the table saying which part of the URL was not used. */
const notice = (text: string) => urlNotice(byId('search'), text);
if (ignored.length) notice(ignoredNotice(ignored));

const PAGE_SIZE = 25;
let chart: Lwc.IChartApi | undefined;
let area: Lwc.ISeriesApi<'Area'> | undefined;

async function loadOverview(): Promise<void> {
  const { overview } = await api<{ overview: Overview }>('/market/overview');
  setText(
    'total-market-cap',
    `${usdCompact(overview.totalMarketCap)} ${pct(overview.marketCapChangePct24h)}`,
    trend(overview.marketCapChangePct24h),
  );
  setText('total-volume', usdCompact(overview.totalVolume24h));
  setText('btc-dominance', pct(overview.bitcoinDominancePct).replace('+', ''));
  setText('eth-dominance', pct(overview.ethereumDominancePct).replace('+', ''));
  setText('coin-count', String(overview.coinCount));
  const mover = (m: Mover) =>
    el(
      'li',
      {},
      el('a', { href: `/coins/${encodeURIComponent(m.id)}` }, m.name ?? m.id),
      el('span', { class: trend(m.changePct24h) }, pct(m.changePct24h)),
    );
  const movers = (list: Mover[], none: string) =>
    list.length ? list.map(mover) : [el('li', { class: 'muted empty' }, none)];
  byId('gainers').replaceChildren(
    el('li', { class: 'muted' }, 'Gainers'),
    ...movers(overview.gainers24h, 'No coin rose in the last 24 h.'),
  );
  byId('losers').replaceChildren(
    el('li', { class: 'muted' }, 'Losers'),
    ...movers(overview.losers24h, 'No coin fell in the last 24 h.'),
  );
  if (!chart) {
    chart = createChart(byId('market-chart'), { rightPriceScale: { visible: true } });
    area = chart.addSeries(lwc().AreaSeries, {
      lineColor: '#2563eb',
      topColor: 'rgba(37,99,235,.35)',
      bottomColor: 'rgba(37,99,235,.02)',
      priceFormat: usdCompactPriceFormat,
    });
  }
  area!.setData(overview.history.map((h) => ({ time: h.time as Lwc.UTCTimestamp, value: h.totalMarketCap })));
  chart.timeScale().fitContent();
  emptyState(
    byId('market-chart'),
    overview.history.length < 2 ? 'Not enough data yet: the chart draws from 2 hours of history.' : null,
  );
}

function sparkline(values: number[]): Element {
  const width = 100;
  const height = 28;
  const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  svg.setAttribute('class', 'spark');
  svg.setAttribute('width', String(width));
  svg.setAttribute('height', String(height));
  svg.setAttribute('viewBox', `0 0 ${width} ${height}`);
  if (values.length >= 2) {
    const min = Math.min(...values);
    const span = Math.max(...values) - min || 1;
    const points = values.map(
      (v, i) =>
        `${((i / (values.length - 1)) * width).toFixed(1)},${(height - 2 - ((v - min) / span) * (height - 4)).toFixed(1)}`,
    );
    const line = document.createElementNS('http://www.w3.org/2000/svg', 'polyline');
    line.setAttribute('points', points.join(' '));
    line.setAttribute('fill', 'none');
    line.setAttribute('stroke', values[values.length - 1]! >= values[0]! ? '#16a34a' : '#dc2626');
    line.setAttribute('stroke-width', '1.5');
    svg.append(line);
  }
  return svg;
}

async function loadCoins(): Promise<void> {
  const params = new URLSearchParams({
    sort: state.sort,
    order: state.order,
    page: String(state.page),
    pageSize: String(PAGE_SIZE),
  });
  if (state.q) params.set('q', state.q);
  for (const [name, value] of screenerParams(state.filters)) params.set(name, value);
  const page = await api<CoinPage>(`/coins?${params}`);
  if (page.page > page.pages && page.pages >= 1) {
    // Past the end (a link from when there were more coins): the last page instead.
    notice(`There is no page ${page.page}; showing the last page, ${page.pages}.`);
    state.page = page.pages;
    replaceUrl();
    return loadCoins();
  }
  const change = (v: number | null) => el('td', { class: trend(v) }, pct(v));
  fill(
    byId('coins').querySelector('tbody')!,
    page.coins.map((c) =>
      el(
        'tr',
        { 'data-coin-id': c.id },
        el('td', {}, c.rank ?? '—'),
        el(
          'td',
          { class: 'left' },
          el('a', { href: `/coins/${encodeURIComponent(c.id)}` }, c.name ?? c.id),
          ' ',
          el('span', { class: 'muted' }, (c.symbol ?? '').toUpperCase()),
        ),
        el('td', { class: 'price' }, usdPrice(c.price)),
        change(c.changePct1h),
        change(c.changePct24h),
        change(c.changePct7d),
        el('td', {}, usdCompact(c.marketCap)),
        el('td', {}, usdCompact(c.volume24h)),
        el('td', {}, sparkline(c.sparkline7d) as unknown as HTMLElement),
      ),
    ),
    emptyText(),
    9,
  );
  const screened = activeBounds(state.filters) > 0;
  byId('match-count').textContent = screened
    ? `${page.total} ${page.total === 1 ? 'coin matches' : 'coins match'} the filters${state.q ? ` and "${state.q}"` : ''}.`
    : '';
  // A phone shows the change column the screener filters on (app.css hides 1h and 7d there otherwise).
  byId('coins').dataset.changeWindow = state.filters.changeWindow;
  for (const th of byId('coins').querySelectorAll<HTMLElement>('th[data-sort]')) {
    if (th.dataset.sort === state.sort)
      th.setAttribute('aria-sort', state.order === 'asc' ? 'ascending' : 'descending');
    else th.removeAttribute('aria-sort');
  }
  byId('page-info').textContent = `Page ${page.page} of ${page.pages} · ${page.total} coins`;
  byId<HTMLButtonElement>('prev').disabled = page.page <= 1;
  byId<HTMLButtonElement>('next').disabled = page.page >= page.pages;
}

function emptyText(): string {
  if (activeBounds(state.filters) > 0)
    return `No coin matches these filters${state.q ? ` and "${state.q}"` : ''}: widen them or clear them.`;
  return state.q ? `No coin matches "${state.q}".` : 'No coins yet.';
}

function replaceUrl(): void {
  const next = new URL(location.pathname, location.origin);
  if (state.sort !== 'rank') next.searchParams.set('sort', state.sort);
  if (state.order !== 'asc') next.searchParams.set('order', state.order);
  if (state.q) next.searchParams.set('q', state.q);
  for (const [name, value] of screenerParams(state.filters)) next.searchParams.set(name, value);
  if (state.page > 1) next.searchParams.set('page', String(state.page));
  history.replaceState(null, '', next);
  showDownload();
}

/** The download is the table as filtered and sorted, every page of it. */
function showDownload(): void {
  const csv = new URLSearchParams();
  if (state.sort !== 'rank') csv.set('sort', state.sort);
  if (state.order !== 'asc') csv.set('order', state.order);
  if (state.q) csv.set('q', state.q);
  for (const [name, value] of screenerParams(state.filters)) csv.set(name, value);
  byId<HTMLAnchorElement>('coins-csv').href = `/api/v1/coins.csv${csv.size ? `?${csv}` : ''}`;
}

function changed(): void {
  replaceUrl();
  loadCoins().catch((error: unknown) => console.error(error));
}

byId('coins')
  .querySelector('thead')!
  .addEventListener('click', (event) => {
    const th = (event.target as HTMLElement).closest<HTMLElement>('th[data-sort]');
    if (!th) return;
    const key = th.dataset.sort!;
    // Names and ranks read naturally ascending, amounts and changes descending (biggest first).
    state.order =
      key === state.sort ? (state.order === 'asc' ? 'desc' : 'asc') : key === 'rank' || key === 'name' ? 'asc' : 'desc';
    state.sort = key;
    state.page = 1;
    changed();
  });
const search = byId<HTMLInputElement>('search');
search.value = state.q;
let typing: number | undefined;
search.addEventListener('input', () => {
  clearTimeout(typing);
  typing = window.setTimeout(() => {
    state.q = search.value.trim();
    state.page = 1;
    changed();
  }, 250);
});
bindScreener(state.filters, (filters) => {
  state.filters = filters;
  state.page = 1;
  changed();
});
byId('prev').addEventListener('click', () => {
  state.page = Math.max(1, state.page - 1);
  changed();
});
byId('next').addEventListener('click', () => {
  state.page += 1;
  changed();
});

if (ignored.length) replaceUrl();
else showDownload();
start(async () => {
  await Promise.all([loadOverview(), loadCoins()]);
});
