/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
import { api, byId, el, fill, ignoredNotice, pct, start, urlNotice, urlParam, utc } from './dom.js';
import { usdPrice } from './price-format.js';

interface FeedAnomaly {
  coinId: string;
  name: string | null;
  symbol: string | null;
  rank: number | null;
  time: string;
  direction: 'spike' | 'drop';
  zScore: number;
  return1h: number;
  closePrice: number;
}
interface Feed {
  until: string | null;
  total: number;
  page: number;
  pages: number;
  anomalies: FeedAnomaly[];
}

/**
 * The filters and page live in the URL under the API's own names (?window=&rankFrom=&rankTo=&minZ=
 * &direction=&page=), so a view can be linked and reloaded and the CSV link is the same query. A value
 * the API would refuse falls back to its default, with a notice, as on the market page.
 */
const PAGE_SIZE = 50;
const rank = (v: string) => /^[1-9]\d{0,5}$/.test(v) && Number(v) <= 100_000;
const ignored: string[] = [];
const state = {
  window: urlParam('window', '24h', (v) => v === '24h' || v === '7d', ignored),
  rankFrom: urlParam('rankFrom', '1', rank, ignored),
  rankTo: urlParam('rankTo', '', rank, ignored),
  minZ: urlParam('minZ', '', (v) => /^\d+(\.\d+)?$/.test(v) && Number(v) <= 1000, ignored),
  direction: urlParam('direction', 'both', (v) => ['both', 'spike', 'drop'].includes(v), ignored),
  page: Number(urlParam('page', '1', (v) => /^[1-9]\d{0,4}$/.test(v) && Number(v) <= 100_000, ignored)),
};
const DEFAULTS: Record<string, string> = { window: '24h', rankFrom: '1', rankTo: '', minZ: '', direction: 'both' };

const notice = (text: string) => urlNotice(byId('filters'), text);
if (ignored.length) notice(ignoredNotice(ignored));

const windowSelect = byId<HTMLSelectElement>('f-window');
const rankSelect = byId<HTMLSelectElement>('f-rank');
const minZInput = byId<HTMLInputElement>('f-minz');
const directionSelect = byId<HTMLSelectElement>('f-direction');

/** The rank band as the select's value ("" all, "1-100"); a band from a link that is no preset gets its own option. */
function showFilters(): void {
  windowSelect.value = state.window;
  directionSelect.value = state.direction;
  minZInput.value = state.minZ;
  const band = state.rankFrom === '1' && state.rankTo === '' ? '' : `${state.rankFrom}-${state.rankTo}`;
  if (![...rankSelect.options].some((o) => o.value === band)) {
    const label = state.rankTo === '' ? `Rank ${state.rankFrom} and below` : `Rank ${state.rankFrom}–${state.rankTo}`;
    rankSelect.append(el('option', { value: band }, label));
  }
  rankSelect.value = band;
}

/** The filters (no page) as a query string, defaults left out. */
function filterQuery(): URLSearchParams {
  const query = new URLSearchParams();
  for (const key of ['window', 'rankFrom', 'rankTo', 'minZ', 'direction'] as const)
    if (state[key] !== DEFAULTS[key]) query.set(key, state[key]);
  return query;
}

function replaceUrl(): void {
  const query = filterQuery();
  if (state.page > 1) query.set('page', String(state.page));
  history.replaceState(null, '', `${location.pathname}${query.size ? `?${query}` : ''}`);
  const csv = filterQuery();
  byId<HTMLAnchorElement>('anomalies-csv').href = `/api/v1/anomalies.csv${csv.size ? `?${csv}` : ''}`;
}

/** "2026-12-07 15:00 UTC" as a date and a time that each stay on one line (a phone breaks between them). */
function hourParts(iso: string): Array<HTMLElement | string> {
  const [date, time] = utc(iso).replace(':00 UTC', ' UTC').split(' ', 2);
  return [el('span', { class: 'nowrap' }, date), ' ', el('span', { class: 'nowrap' }, `${time} UTC`)];
}

const WINDOW_TEXT: Record<string, string> = { '24h': 'the last 24 h', '7d': 'the last 7 days' };

async function loadFeed(): Promise<void> {
  const query = filterQuery();
  query.set('page', String(state.page));
  query.set('pageSize', String(PAGE_SIZE));
  const feed = await api<Feed>(`/anomalies?${query}`);
  if (feed.page > feed.pages) {
    // Past the end (a link from when there were more): the last page instead.
    notice(`There is no page ${feed.page}; showing the last page, ${feed.pages}.`);
    state.page = feed.pages;
    replaceUrl();
    return loadFeed();
  }
  const filtered = state.rankFrom !== '1' || state.rankTo !== '' || state.minZ !== '' || state.direction !== 'both';
  const empty =
    feed.until === null
      ? 'No hour has been scored yet: a coin needs 12 hours of returns before an hour can be flagged.'
      : `No anomaly in ${WINDOW_TEXT[state.window]}${filtered ? ' matches these filters' : ''}.`;
  fill(
    byId('anomaly-feed').querySelector('tbody')!,
    feed.anomalies.map((a) => {
      const href = `/coins/${encodeURIComponent(a.coinId)}?at=${encodeURIComponent(a.time)}`;
      return el(
        'tr',
        { 'data-coin-id': a.coinId, 'data-time': a.time },
        el('td', { class: 'left hour' }, el('a', { href, class: 'at-link' }, ...hourParts(a.time))),
        el(
          'td',
          { class: 'left' },
          el('a', { href }, a.name ?? a.coinId),
          ' ',
          el('span', { class: 'muted' }, (a.symbol ?? '').toUpperCase()),
        ),
        el('td', {}, a.rank ?? '—'),
        el('td', { class: `left ${a.direction === 'spike' ? 'up' : 'down'}` }, a.direction),
        el('td', { class: a.return1h > 0 ? 'up' : a.return1h < 0 ? 'down' : '' }, pct(a.return1h * 100)),
        el('td', {}, a.zScore.toFixed(2)),
        el('td', { class: 'price' }, usdPrice(a.closePrice)),
      );
    }),
    empty,
    7,
  );
  byId('feed-summary').replaceChildren(
    ...(feed.until === null
      ? []
      : [
          `${feed.total} ${feed.total === 1 ? 'anomaly' : 'anomalies'} in ${WINDOW_TEXT[state.window]} up to `,
          ...hourParts(feed.until),
          ', newest first.',
        ]),
  );
  byId('page-info').textContent = `Page ${feed.page} of ${feed.pages}`;
  byId<HTMLButtonElement>('prev').disabled = feed.page <= 1;
  byId<HTMLButtonElement>('next').disabled = feed.page >= feed.pages;
}

function changed(): void {
  state.page = 1;
  replaceUrl();
  loadFeed().catch((error: unknown) => console.error(error));
}

windowSelect.addEventListener('change', () => {
  state.window = windowSelect.value;
  changed();
});
directionSelect.addEventListener('change', () => {
  state.direction = directionSelect.value;
  changed();
});
rankSelect.addEventListener('change', () => {
  const [from = '1', to = ''] = rankSelect.value ? rankSelect.value.split('-') : [];
  state.rankFrom = from;
  state.rankTo = to;
  changed();
});
let typing: number | undefined;
minZInput.addEventListener('input', () => {
  clearTimeout(typing);
  typing = window.setTimeout(() => {
    const value = minZInput.value.trim();
    // The input's own checks (a number, 0–1000), in the digits-and-point form the API takes.
    if (value !== '' && (!minZInput.checkValidity() || !/^\d+(\.\d+)?$/.test(value))) return;
    state.minZ = value;
    changed();
  }, 300);
});
// Enter in the number field would submit the form (a reload): the filters apply as they change.
byId('filters').addEventListener('submit', (event) => event.preventDefault());
byId('prev').addEventListener('click', () => {
  state.page = Math.max(1, state.page - 1);
  replaceUrl();
  loadFeed().catch((error: unknown) => console.error(error));
});
byId('next').addEventListener('click', () => {
  state.page += 1;
  replaceUrl();
  loadFeed().catch((error: unknown) => console.error(error));
});

showFilters();
replaceUrl();
start(loadFeed);
