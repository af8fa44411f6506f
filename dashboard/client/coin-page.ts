/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
import { createChart, lwc, type Lwc } from './charts.js';
import { api, byId, el, fill, pct, setText, start, trend, usdCompact, usdPrice, utc } from './dom.js';

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
  candles: Array<{ time: number; open: number; high: number; low: number; close: number; volume: number | null }>;
  volatility24h: Array<{ time: number; value: number }>;
  anomalies: Array<{ time: number; direction: 'spike' | 'drop'; zScore: number; return1h: number }>;
}

const coinId = byId('coin-title').dataset.coinId!;
const view = { interval: 'hourly', range: '7d' };
const priceChart = createChart(byId('price-chart'));
const candles = priceChart.addSeries(lwc().CandlestickSeries, {
  upColor: '#16a34a',
  downColor: '#dc2626',
  wickUpColor: '#16a34a',
  wickDownColor: '#dc2626',
  borderVisible: false,
});
// Volume on its own scale in the bottom fifth of the pane.
const volume = priceChart.addSeries(lwc().HistogramSeries, {
  priceScaleId: 'volume',
  priceFormat: { type: 'volume' },
  color: 'rgba(100,116,139,.45)',
});
priceChart.priceScale('volume').applyOptions({ scaleMargins: { top: 0.8, bottom: 0 } });
candles.priceScale().applyOptions({ scaleMargins: { top: 0.08, bottom: 0.25 } });
const markers = lwc().createSeriesMarkers(candles, []);
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
  setText('stat-range', `${usdPrice(coin.low24h)} / ${usdPrice(coin.high24h)}`);
  const vol = (v: number | null) => (v === null ? '—' : `${(v * 100).toFixed(3)}%`);
  setText('stat-volatility', `${vol(coin.volatility24h)} / ${vol(coin.volatility7d)}`);
  setText('stat-anomalies', String(coin.anomalyCount));
}

async function loadCharts(): Promise<void> {
  const data = await api<Candles>(
    `/coins/${encodeURIComponent(coinId)}/candles?interval=${view.interval}&range=${view.range}`,
  );
  candles.setData(
    data.candles.map((c) => ({ time: time(c.time), open: c.open, high: c.high, low: c.low, close: c.close })),
  );
  volume.setData(
    data.candles.map((c) => ({
      time: time(c.time),
      value: c.volume ?? 0,
      color: c.close >= c.open ? 'rgba(22,163,74,.4)' : 'rgba(220,38,38,.4)',
    })),
  );
  // Anomalies are hourly; on daily candles they sit on their day's bar.
  const bar = (t: number) => (view.interval === 'daily' ? t - (t % 86_400) : t);
  markers.setMarkers(
    data.anomalies.map((a) => ({
      time: time(bar(a.time)),
      position: a.direction === 'spike' ? 'aboveBar' : 'belowBar',
      shape: a.direction === 'spike' ? 'arrowDown' : 'arrowUp',
      color: a.direction === 'spike' ? '#b45309' : '#7c3aed',
      text: `${a.direction} z=${a.zScore.toFixed(1)}`,
    })),
  );
  volatility.setData(data.volatility24h.map((v) => ({ time: time(v.time), value: v.value * 100 })));
  priceChart.timeScale().fitContent();
  volatilityChart.timeScale().fitContent();
  byId('price-chart').dataset.points = String(data.candles.length);
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

for (const group of ['interval', 'range'] as const) {
  byId(`${group}-buttons`).addEventListener('click', (event) => {
    const button = (event.target as HTMLElement).closest<HTMLButtonElement>('button[data-' + group + ']');
    if (!button) return;
    view[group] = button.dataset[group]!;
    for (const b of byId(`${group}-buttons`).querySelectorAll('button'))
      b.setAttribute('aria-pressed', String(b === button));
    loadCharts().catch((error: unknown) => console.error(error));
  });
}

start(async () => {
  await Promise.all([loadStats(), loadCharts()]);
});
