/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
import { chartOf, createChart, emptyState, lwc, type Lwc } from './charts.js';
import {
  compareNote,
  MIN_POINTS,
  PriceChart,
  type Anomaly,
  type Candle,
  type ChartStyle,
  type PriceData,
} from './coin-chart.js';
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
  utc,
} from './dom.js';
import { usdPrice } from './price-format.js';
import { atHourParam, atHourText, AtHourMark, widerRange } from './coin-at-hour.js';

interface Coin {
  price: number | null;
  changePct24h: number | null;
  marketCap: number | null;
  volume24h: number | null;
  high24h: number | null;
  low24h: number | null;
  volatility24h: number | null;
  volatility7d: number | null;
  anomalyCount: number;
}
interface Candles {
  candles: Candle[];
  volatility24h: Array<{ time: number; value: number }>;
  anomalies: Anomaly[];
}

const coinId = byId('coin-title').dataset.coinId!;

/**
 * The chart's interval, range, type (candles or line), scale (linear or log) and comparison live in
 * the URL (?interval=&range=&chart=&scale=&compare=), so a view can be linked and reloaded; the
 * choices are the page's buttons. A value not among them falls back to the default (the button
 * pressed in the server's HTML), with a notice, and leaves the URL. The compared coin's own page has
 * no compare buttons (hidden), so it takes no comparison from the URL either.
 */
const GROUPS = ['interval', 'range', 'chart', 'scale', 'compare'] as const;
const choices = (group: string) =>
  [...byId(`${group}-buttons`).querySelectorAll<HTMLButtonElement>('button')].map((b) => ({
    button: b,
    value: b.dataset[group]!,
  }));
type Group = (typeof GROUPS)[number];
const DEFAULTS = Object.fromEntries(
  GROUPS.map((group) => [group, choices(group).find((o) => o.button.getAttribute('aria-pressed') === 'true')!.value]),
) as Record<Group, string>;
const offered = (group: Group) => !byId(`${group}-buttons`).hidden;
const ignored: string[] = [];
const view = Object.fromEntries(
  GROUPS.map((group) => [
    group,
    urlParam(group, DEFAULTS[group], (v) => offered(group) && choices(group).some((o) => o.value === v), ignored),
  ]),
) as Record<Group, string>;
/** `?at=<hour>`: the hour to centre and mark (coin-at-hour.ts); kept in the URL while the view changes. */
const at = atHourParam(ignored);
/** On the first load only, the range widens until it holds `at`; later choices are the user's. */
let widenToAt = at !== null;

function showView(): void {
  for (const group of GROUPS)
    for (const { button, value } of choices(group)) button.setAttribute('aria-pressed', String(value === view[group]));
  // A percentage axis cannot be logarithmic: while comparing, the log choice waits (kept in the URL).
  for (const { button } of choices('scale')) button.disabled = view.compare !== DEFAULTS.compare;
}

/** Defaults are left out, so the plain page's URL stays plain. */
function replaceUrl(): void {
  const next = new URL(location.pathname, location.origin);
  for (const group of GROUPS) if (view[group] !== DEFAULTS[group]) next.searchParams.set(group, view[group]);
  if (at !== null) next.searchParams.set('at', atHourText(at));
  history.replaceState(null, '', next);
  showDownload();
}

/** The CSV link downloads the candles the chart shows: its interval and range. */
function showDownload(): void {
  byId<HTMLAnchorElement>('candles-csv').href =
    `/api/v1/coins/${encodeURIComponent(coinId)}/candles.csv?interval=${view.interval}&range=${view.range}`;
}

showView();
showDownload();
if (ignored.length) {
  urlNotice(byId('range-buttons'), ignoredNotice(ignored));
  replaceUrl();
}

const symbol = byId('coin-title').querySelector('.muted')?.textContent?.trim();
const priceChart = new PriceChart(byId('price-chart'), byId('chart-readout'), symbol || coinId);
const atMark = at === null ? undefined : new AtHourMark(chartOf(byId('price-chart'))!.chart, byId('price-chart'), at);
const volatilityChart = createChart(byId('volatility-chart'));
const volatility = volatilityChart.addSeries(lwc().LineSeries, {
  color: '#7c3aed',
  lineWidth: 2,
  priceFormat: { type: 'custom', minMove: 0.0001, formatter: (v: number) => `${v.toFixed(3)}%` },
});

const time = (t: number) => t as Lwc.UTCTimestamp;

async function loadStats(): Promise<void> {
  const { coin } = await api<{ coin: Coin }>(`/coins/${encodeURIComponent(coinId)}`);
  setText('stat-price', usdPrice(coin.price));
  setText('stat-change-24h', pct(coin.changePct24h), trend(coin.changePct24h));
  setText('stat-market-cap', usdCompact(coin.marketCap));
  setText('stat-volume', usdCompact(coin.volume24h));
  // A no-break space keeps the slash with the low when the card breaks the line ('pair': app.css).
  setText('stat-range', `${usdPrice(coin.low24h)}\u00a0/ ${usdPrice(coin.high24h)}`, 'pair');
  const vol = (v: number | null) => (v === null ? '—' : `${(v * 100).toFixed(3)}%`);
  setText('stat-volatility', `${vol(coin.volatility24h)} / ${vol(coin.volatility7d)}`);
  setText('stat-anomalies', String(coin.anomalyCount));
}

const COMPARE_LABEL = 'BTC';
/** Each load's number: an answer that arrives after a newer load started is dropped, not drawn. */
let loads = 0;

/**
 * The compared coin's candles of the same interval and range, or null when not comparing or when it
 * is not tracked (404); the note under the toggles says which, and what the axis shows.
 */
async function comparedCandles(own: Candles): Promise<PriceData['compare']> {
  if (view.compare === DEFAULTS.compare) {
    compareNote(null);
    return null;
  }
  // Whether it is tracked comes from the coin list: its candles would answer 404, which the browser
  // logs as a console error.
  const listed = await api<{ coins: Array<{ id: string }> }>(
    `/coins?q=${encodeURIComponent(view.compare)}&pageSize=100`,
  );
  if (!listed.coins.some((c) => c.id === view.compare)) {
    compareNote(`Bitcoin isn't tracked, so there is nothing to compare with.`);
    return null;
  }
  const other = await api<Candles>(
    `/coins/${encodeURIComponent(view.compare)}/candles?interval=${view.interval}&range=${view.range}`,
  );
  const [first, last] = [own.candles[0]?.time ?? Infinity, own.candles.at(-1)?.time ?? -Infinity];
  const shared = other.candles.filter((c) => c.time >= first && c.time <= last).length;
  compareNote(
    shared < MIN_POINTS
      ? `Bitcoin has ${shared === 0 ? 'no candles' : 'one candle'} in this range to compare with.`
      : `% change from the first visible candle: this coin and ${COMPARE_LABEL} (orange line).${view.scale === 'log' ? ' Log scale is off while comparing.' : ''}`,
  );
  return { label: COMPARE_LABEL, candles: other.candles };
}

/** Fetches and draws the charts; `fit` shows the whole range (a new interval or range, a new run). */
async function loadCharts(fit = true): Promise<void> {
  const load = ++loads;
  const data = await api<Candles>(
    `/coins/${encodeURIComponent(coinId)}/candles?interval=${view.interval}&range=${view.range}`,
  );
  const wider = widerRange(view.range);
  if (widenToAt && wider && !(data.candles.length && data.candles[0]!.time <= at!)) {
    view.range = wider;
    showView();
    replaceUrl();
    return loadCharts(fit);
  }
  widenToAt = false;
  const compare = await comparedCandles(data);
  if (load !== loads) return;
  const style: ChartStyle = {
    interval: view.interval,
    chart: view.chart === 'line' ? 'line' : 'candles',
    scale: view.scale === 'log' ? 'log' : 'linear',
  };
  priceChart.draw({ candles: data.candles, anomalies: data.anomalies, compare }, style, fit);
  if (fit)
    atMark?.show(
      data.candles.map((c) => c.time),
      style.interval === 'daily' ? 'daily' : 'hourly',
    );
  // The legend shows only when the range holds history candles, with how many; a line has no hollow candles.
  const fromHistory = data.candles.filter((c) => c.source !== 'snapshots').length;
  byId('price-chart').dataset.historyCandles = String(fromHistory);
  const legend = byId('history-legend');
  legend.hidden = fromHistory === 0 || style.chart === 'line';
  setText(
    'history-legend-count',
    `${fromHistory} of ${data.candles.length} candles from history (${view.interval === 'daily' ? 'daily or hourly' : 'hourly or 5-minute'} points)`,
  );
  volatility.setData(data.volatility24h.map((v) => ({ time: time(v.time), value: v.value * 100 })));
  if (fit) volatilityChart.timeScale().fitContent();
  emptyState(
    byId('volatility-chart'),
    data.volatility24h.length >= MIN_POINTS ? null : 'Not enough data yet: volatility needs 24 hours of hourly prices.',
  );
  fill(
    byId('anomalies').querySelector('tbody')!,
    data.anomalies
      .slice()
      .reverse()
      .map((a) =>
        el(
          'tr',
          { 'data-time': String(a.time) },
          el('td', { class: 'left' }, utc(new Date(a.time * 1000).toISOString())),
          el('td', { class: `left ${a.direction === 'spike' ? 'up' : 'down'}` }, a.direction),
          el('td', {}, pct(a.return1h * 100)),
          el('td', {}, a.zScore.toFixed(2)),
        ),
      ),
    'No anomaly flagged in this range.',
    4,
  );
  atMark?.highlightRow(byId('anomalies'));
}

for (const group of GROUPS) {
  byId(`${group}-buttons`).addEventListener('click', (event) => {
    const button = (event.target as HTMLElement).closest<HTMLButtonElement>('button[data-' + group + ']');
    if (!button) return;
    view[group] = button.dataset[group]!;
    showView();
    replaceUrl();
    // A new interval or range shows all of it; the other toggles keep the part the user zoomed to.
    loadCharts(group === 'interval' || group === 'range').catch((error: unknown) => console.error(error));
  });
}

start(async () => {
  await Promise.all([loadStats(), loadCharts()]);
});
