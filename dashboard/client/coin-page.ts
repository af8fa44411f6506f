/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
import { createChart, emptyState, lwc, priceAxis, seriesMarkers, type Lwc } from './charts.js';
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
  candles: Array<{
    time: number;
    open: number;
    high: number;
    low: number;
    close: number;
    volume: number | null;
    source: 'snapshots' | 'history' | 'mixed';
    pointCount: number;
  }>;
  volatility24h: Array<{ time: number; value: number }>;
  anomalies: Array<{ time: number; direction: 'spike' | 'drop'; zScore: number; return1h: number }>;
}

const coinId = byId('coin-title').dataset.coinId!;

/**
 * The chart's interval and range live in the URL (?interval=&range=), so a view can be linked and
 * reloaded; the choices are the page's buttons. A value not among them falls back to the default
 * (the button pressed in the server's HTML), with a notice, and leaves the URL.
 */
const GROUPS = ['interval', 'range'] as const;
const choices = (group: string) =>
  [...byId(`${group}-buttons`).querySelectorAll<HTMLButtonElement>('button')].map((b) => ({
    button: b,
    value: b.dataset[group]!,
  }));
type Group = (typeof GROUPS)[number];
const DEFAULTS = Object.fromEntries(
  GROUPS.map((group) => [group, choices(group).find((o) => o.button.getAttribute('aria-pressed') === 'true')!.value]),
) as Record<Group, string>;
const ignored: string[] = [];
const view = Object.fromEntries(
  GROUPS.map((group) => [
    group,
    urlParam(group, DEFAULTS[group], (v) => choices(group).some((o) => o.value === v), ignored),
  ]),
) as Record<Group, string>;

function showView(): void {
  for (const group of GROUPS)
    for (const { button, value } of choices(group)) button.setAttribute('aria-pressed', String(value === view[group]));
}

/** Defaults are left out, so the plain page's URL stays plain. */
function replaceUrl(): void {
  const next = new URL(location.pathname, location.origin);
  for (const group of GROUPS) if (view[group] !== DEFAULTS[group]) next.searchParams.set(group, view[group]);
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

const priceChart = createChart(byId('price-chart'));
const candles = priceChart.addSeries(lwc().CandlestickSeries, {
  upColor: '#16a34a',
  downColor: '#dc2626',
  wickUpColor: '#16a34a',
  wickDownColor: '#dc2626',
  // Borders drawn in the body colour: a live candle looks solid, a history candle (HISTORY_STYLE) hollow.
  borderUpColor: '#16a34a',
  borderDownColor: '#dc2626',
});
/**
 * Candles built from history points (a backfill or repair: hourly points, or daily ones) rather than
 * live snapshots: hollow, with a pale fill, so a chart mixing both shows where the ticks begin. A daily
 * candle with hours of both ('mixed') is drawn the same way: part of it is history.
 */
const HISTORY_STYLE = {
  up: { color: 'rgba(22,163,74,.15)', borderColor: '#16a34a', wickColor: '#86efac' },
  down: { color: 'rgba(220,38,38,.15)', borderColor: '#dc2626', wickColor: '#fca5a5' },
};
// Volume on its own scale in the bottom fifth of the pane. Its last value and price line would be
// drawn on the price axis, over the prices' labels.
const volume = priceChart.addSeries(lwc().HistogramSeries, {
  priceScaleId: 'volume',
  priceFormat: { type: 'volume' },
  color: 'rgba(100,116,139,.45)',
  lastValueVisible: false,
  priceLineVisible: false,
});
priceChart.priceScale('volume').applyOptions({ scaleMargins: { top: 0.8, bottom: 0 } });
candles.priceScale().applyOptions({ scaleMargins: { top: 0.08, bottom: 0.25 } });
const markers = seriesMarkers(byId('price-chart'), candles);
const volatilityChart = createChart(byId('volatility-chart'));
const volatility = volatilityChart.addSeries(lwc().LineSeries, {
  color: '#7c3aed',
  lineWidth: 2,
  priceFormat: { type: 'custom', minMove: 0.0001, formatter: (v: number) => `${v.toFixed(3)}%` },
});

const time = (t: number) => t as Lwc.UTCTimestamp;
/** Fewer points than this draw no line or trend: the chart says so instead of showing a blank pane. */
const MIN_POINTS = 2;

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

async function loadCharts(): Promise<void> {
  const data = await api<Candles>(
    `/coins/${encodeURIComponent(coinId)}/candles?interval=${view.interval}&range=${view.range}`,
  );
  if (data.candles.length)
    candles.applyOptions(
      priceAxis(Math.min(...data.candles.map((c) => c.low)), Math.max(...data.candles.map((c) => c.high))),
    );
  candles.setData(
    data.candles.map((c) => ({
      time: time(c.time),
      open: c.open,
      high: c.high,
      low: c.low,
      close: c.close,
      ...(c.source === 'snapshots' ? {} : HISTORY_STYLE[c.close >= c.open ? 'up' : 'down']),
    })),
  );
  // The legend shows only when the range holds history candles, with how many.
  const fromHistory = data.candles.filter((c) => c.source !== 'snapshots').length;
  byId('price-chart').dataset.historyCandles = String(fromHistory);
  const legend = byId('history-legend');
  legend.hidden = fromHistory === 0;
  setText(
    'history-legend-count',
    `${fromHistory} of ${data.candles.length} candles from history (${view.interval === 'daily' ? 'daily or hourly' : 'hourly or 5-minute'} points)`,
  );
  volume.setData(
    data.candles.map((c) => ({
      time: time(c.time),
      value: c.volume ?? 0,
      color: c.close >= c.open ? 'rgba(22,163,74,.4)' : 'rgba(220,38,38,.4)',
    })),
  );
  // Anomalies are hourly; on daily candles they sit on their day's bar. No text beside the arrows:
  // at an hour per few pixels it covered the neighbouring candles (the table below has the details).
  const bar = (t: number) => (view.interval === 'daily' ? t - (t % 86_400) : t);
  markers.setMarkers(
    data.anomalies.map((a) => ({
      time: time(bar(a.time)),
      position: a.direction === 'spike' ? 'aboveBar' : 'belowBar',
      shape: a.direction === 'spike' ? 'arrowDown' : 'arrowUp',
      color: a.direction === 'spike' ? '#b45309' : '#7c3aed',
    })),
  );
  volatility.setData(data.volatility24h.map((v) => ({ time: time(v.time), value: v.value * 100 })));
  priceChart.timeScale().fitContent();
  volatilityChart.timeScale().fitContent();
  const n = data.candles.length;
  emptyState(
    byId('price-chart'),
    n >= MIN_POINTS
      ? null
      : `Not enough data yet for ${view.interval} candles: ${n === 0 ? 'none' : 'one'} in this range, the chart draws from ${MIN_POINTS}.`,
  );
  emptyState(
    byId('volatility-chart'),
    data.volatility24h.length >= MIN_POINTS ? null : 'Not enough data yet: volatility needs 24 hours of hourly prices.',
  );
  byId('price-chart').dataset.points = String(n);
  fill(
    byId('anomalies').querySelector('tbody')!,
    data.anomalies
      .slice()
      .reverse()
      .map((a) =>
        el(
          'tr',
          {},
          el('td', { class: 'left' }, utc(new Date(a.time * 1000).toISOString())),
          el('td', { class: `left ${a.direction === 'spike' ? 'up' : 'down'}` }, a.direction),
          el('td', {}, pct(a.return1h * 100)),
          el('td', {}, a.zScore.toFixed(2)),
        ),
      ),
    'No anomaly flagged in this range.',
    4,
  );
}

for (const group of GROUPS) {
  byId(`${group}-buttons`).addEventListener('click', (event) => {
    const button = (event.target as HTMLElement).closest<HTMLButtonElement>('button[data-' + group + ']');
    if (!button) return;
    view[group] = button.dataset[group]!;
    showView();
    replaceUrl();
    loadCharts().catch((error: unknown) => console.error(error));
  });
}

start(async () => {
  await Promise.all([loadStats(), loadCharts()]);
});
