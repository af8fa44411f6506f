/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
import { createChart, emptyState, lwc, priceAxis, seriesMarkers, type Lwc } from './charts.js';
import { byId, el, pct, usdCompact } from './dom.js';
import { axisDigits, plainPrice } from './price-format.js';

/**
 * The coin page's price chart: candles or a line of closes, a linear or logarithmic price axis, or
 * the coin's and bitcoin's % change from the first visible candle on one percentage axis; volume
 * below, anomaly markers, and a readout of the candle under the cursor (the newest one when the
 * cursor is elsewhere).
 */

export interface Candle {
  time: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number | null;
  source: 'snapshots' | 'history' | 'mixed';
  pointCount: number;
}
export interface Anomaly {
  time: number;
  direction: 'spike' | 'drop';
  zScore: number;
  return1h: number;
}

/** How the chart is drawn: the page's toggles, kept in the URL by coin-page.ts. */
export interface ChartStyle {
  readonly interval: string;
  readonly chart: 'candles' | 'line';
  readonly scale: 'linear' | 'log';
}

/** What to draw: the coin's candles and, when comparing, the other coin's (null: not compared). */
export interface PriceData {
  readonly candles: Candle[];
  readonly anomalies: Anomaly[];
  readonly compare: { readonly label: string; readonly candles: Candle[] } | null;
}

const UP = '#16a34a';
const DOWN = '#dc2626';
const LINE = '#2563eb';
/** Bitcoin's orange: the compared line reads as "the other coin" next to the blue or red/green coin. */
const COMPARE_COLOUR = '#f7931a';
/**
 * Candles built from history points (a backfill or repair: hourly points, or daily ones) rather than
 * live snapshots: hollow, with a pale fill, so a chart mixing both shows where the ticks begin. A daily
 * candle with hours of both ('mixed') is drawn the same way: part of it is history.
 */
const HISTORY_STYLE = {
  up: { color: 'rgba(22,163,74,.15)', borderColor: UP, wickColor: '#86efac' },
  down: { color: 'rgba(220,38,38,.15)', borderColor: DOWN, wickColor: '#fca5a5' },
};
/** Fewer points than this draw no line or trend: the chart says so instead of showing a blank pane. */
export const MIN_POINTS = 2;

const time = (t: number) => t as Lwc.UTCTimestamp;
type MainSeries = Lwc.ISeriesApi<'Candlestick'> | Lwc.ISeriesApi<'Line'>;

export class PriceChart {
  private readonly chart: Lwc.IChartApi;
  private readonly volume: Lwc.ISeriesApi<'Histogram'>;
  private main: MainSeries | null = null;
  private mainKind: ChartStyle['chart'] | null = null;
  private markers: Lwc.ISeriesMarkersPluginApi<Lwc.Time> | null = null;
  private compared: Lwc.ISeriesApi<'Line'> | null = null;
  private data: PriceData = { candles: [], anomalies: [], compare: null };
  private style: ChartStyle = { interval: 'hourly', chart: 'candles', scale: 'linear' };
  private byTime = new Map<number, Candle>();
  private comparedByTime = new Map<number, Candle>();
  private hovered: number | null = null;
  private digits = 2;

  /** `label` names the coin's own % change in the readout when comparing (its symbol). */
  constructor(
    private readonly container: HTMLElement,
    private readonly readout: HTMLElement,
    private readonly label: string,
  ) {
    this.chart = createChart(container);
    // The price series first: the chart's first series is the price (the browser tests read it so).
    this.mainSeries('candles');
    // Volume on its own scale in the bottom fifth of the pane. Its last value and price line would be
    // drawn on the price axis, over the prices' labels.
    this.volume = this.chart.addSeries(lwc().HistogramSeries, {
      priceScaleId: 'volume',
      priceFormat: { type: 'volume' },
      color: 'rgba(100,116,139,.45)',
      lastValueVisible: false,
      priceLineVisible: false,
    });
    this.chart.priceScale('volume').applyOptions({ scaleMargins: { top: 0.8, bottom: 0 } });
    this.chart.priceScale('right').applyOptions({ scaleMargins: { top: 0.08, bottom: 0.25 } });
    this.chart.subscribeCrosshairMove((param) => {
      this.hovered = param.time === undefined ? null : (param.time as number);
      this.showReadout();
    });
    // The % changes count from the first visible candle, which scrolling and zooming move.
    this.chart.timeScale().subscribeVisibleTimeRangeChange(() => this.showReadout());
  }

  /** Draws `data` in `style`; `fit` shows all of it (a new interval or range), else the view stays. */
  draw(data: PriceData, style: ChartStyle, fit: boolean): void {
    this.data = data;
    this.style = style;
    this.byTime = new Map(data.candles.map((c) => [c.time, c]));
    const { candles } = data;
    const main = this.mainSeries(style.chart);
    if (candles.length) {
      const low = Math.min(...candles.map((c) => c.low));
      const high = Math.max(...candles.map((c) => c.high));
      main.applyOptions(priceAxis(low, high));
      this.digits = axisDigits(low, high);
    }
    if (style.chart === 'candles')
      (main as Lwc.ISeriesApi<'Candlestick'>).setData(
        candles.map((c) => ({
          time: time(c.time),
          open: c.open,
          high: c.high,
          low: c.low,
          close: c.close,
          ...(c.source === 'snapshots' ? {} : HISTORY_STYLE[c.close >= c.open ? 'up' : 'down']),
        })),
      );
    else (main as Lwc.ISeriesApi<'Line'>).setData(candles.map((c) => ({ time: time(c.time), value: c.close })));
    this.volume.setData(
      candles.map((c) => ({
        time: time(c.time),
        value: c.volume ?? 0,
        color: c.close >= c.open ? 'rgba(22,163,74,.4)' : 'rgba(220,38,38,.4)',
      })),
    );
    // Anomalies are hourly; on daily candles they sit on their day's bar. No text beside the arrows:
    // at an hour per few pixels it covered the neighbouring candles (the table below has the details).
    const bar = (t: number) => (style.interval === 'daily' ? t - (t % 86_400) : t);
    this.markers!.setMarkers(
      data.anomalies.map((a) => ({
        time: time(bar(a.time)),
        position: a.direction === 'spike' ? 'aboveBar' : 'belowBar',
        shape: a.direction === 'spike' ? 'arrowDown' : 'arrowUp',
        color: a.direction === 'spike' ? '#b45309' : '#7c3aed',
      })),
    );
    this.drawCompared();
    // Comparing puts both series on one axis of % change from each one's first visible candle (the
    // library's percentage mode); a logarithmic axis cannot show that, so comparing wins over log.
    this.chart.priceScale('right').applyOptions({
      mode: data.compare
        ? lwc().PriceScaleMode.Percentage
        : style.scale === 'log'
          ? lwc().PriceScaleMode.Logarithmic
          : lwc().PriceScaleMode.Normal,
    });
    if (fit) this.chart.timeScale().fitContent();
    const n = candles.length;
    emptyState(
      this.container,
      n >= MIN_POINTS
        ? null
        : `Not enough data yet for ${style.interval} candles: ${n === 0 ? 'none' : 'one'} in this range, the chart draws from ${MIN_POINTS}.`,
    );
    this.container.dataset.points = String(n);
    this.container.dataset.chart = style.chart;
    this.showReadout();
  }

  /** The series for the coin's prices in `kind`, replacing the other kind's (markers move with it). */
  private mainSeries(kind: ChartStyle['chart']): MainSeries {
    if (this.main && this.mainKind === kind) return this.main;
    if (this.main) {
      this.markers?.detach();
      this.chart.removeSeries(this.main);
    }
    this.main =
      kind === 'candles'
        ? this.chart.addSeries(lwc().CandlestickSeries, {
            upColor: UP,
            downColor: DOWN,
            wickUpColor: UP,
            wickDownColor: DOWN,
            // Borders drawn in the body colour: a live candle looks solid, a history candle (HISTORY_STYLE) hollow.
            borderUpColor: UP,
            borderDownColor: DOWN,
          })
        : this.chart.addSeries(lwc().LineSeries, { color: LINE, lineWidth: 2 });
    this.mainKind = kind;
    this.markers = seriesMarkers(this.container, this.main);
    return this.main;
  }

  /** The compared coin's closes over the coin's own span only, so both start at one candle. */
  private drawCompared(): void {
    const other = this.data.compare;
    const first = this.data.candles[0]?.time;
    const last = this.data.candles.at(-1)?.time;
    const within = other && first !== undefined ? other.candles.filter((c) => c.time >= first && c.time <= last!) : [];
    this.comparedByTime = new Map(within.map((c) => [c.time, c]));
    if (!other) {
      if (this.compared) this.chart.removeSeries(this.compared);
      this.compared = null;
      return;
    }
    this.compared ??= this.chart.addSeries(lwc().LineSeries, {
      color: COMPARE_COLOUR,
      lineWidth: 2,
      title: other.label,
      priceLineVisible: false,
    });
    this.compared.setData(within.map((c) => ({ time: time(c.time), value: c.close })));
  }

  /** The first of `candles` at or after the first visible time: what the percentage axis counts from. */
  private firstVisible(candles: Candle[]): Candle | undefined {
    const from = this.chart.timeScale().getVisibleRange()?.from as number | undefined;
    return from === undefined ? candles[0] : candles.find((c) => c.time >= from);
  }

  /**
   * Time, open, high, low, close and volume of the hovered candle (the newest when the cursor is off
   * the chart), in the decimals of the price axis; when comparing, both coins' % change since the
   * first visible candle.
   */
  private showReadout(): void {
    const { candles, compare } = this.data;
    const candle = (this.hovered !== null ? this.byTime.get(this.hovered) : undefined) ?? candles.at(-1);
    this.readout.dataset.time = candle ? String(candle.time) : '';
    if (!candle) {
      this.readout.replaceChildren(el('span', { class: 'muted' }, 'No candle in this range.'));
      return;
    }
    const price = (v: number) => `$${plainPrice(v, this.digits)}`;
    const item = (key: string, label: string, value: string, cls = '') =>
      el(
        'span',
        { class: 'ro' },
        el('span', { class: 'ro-label' }, label),
        ' ',
        el('span', { class: `ro-value ${cls}`.trim(), 'data-key': key }, value),
      );
    const iso = new Date(candle.time * 1000).toISOString();
    const when =
      this.style.interval === 'daily' ? `${iso.slice(0, 10)} UTC` : `${iso.slice(0, 16).replace('T', ' ')} UTC`;
    const items = [
      el('span', { class: 'ro ro-time', 'data-key': 'time' }, when),
      item('open', 'O', price(candle.open)),
      item('high', 'H', price(candle.high)),
      item('low', 'L', price(candle.low)),
      item('close', 'C', price(candle.close), candle.close >= candle.open ? 'up' : 'down'),
      item('volume', 'Vol', usdCompact(candle.volume)),
    ];
    if (compare) {
      const change = (list: Candle[], at: Candle | undefined) => {
        const base = this.firstVisible(list);
        return base && at ? pct((at.close / base.close - 1) * 100) : '—';
      };
      const others = [...this.comparedByTime.values()];
      items.push(
        item('change', this.label, change(candles, candle)),
        item('compare', compare.label, change(others, this.comparedByTime.get(candle.time))),
      );
    }
    this.readout.replaceChildren(...items);
  }
}

/** The note under the chart's toggles (null hides it): why the compare line is missing, or what the axis shows. */
export function compareNote(text: string | null): void {
  const note = byId('compare-note');
  note.hidden = text === null;
  note.textContent = text ?? '';
}
