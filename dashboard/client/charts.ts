/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
import type * as Lwc from 'lightweight-charts';
import { axisDigits, plainPrice } from './price-format.js';

/**
 * TradingView Lightweight Charts, loaded by a classic <script> (its standalone build defines this
 * global) from node_modules through /assets/vendor/; only its types are imported here.
 */
declare const LightweightCharts: typeof Lwc;

export const lwc = (): typeof Lwc => LightweightCharts;

/** A chart the pages drew, with what the library does not hand back from the chart itself. */
export interface DrawnChart {
  readonly chart: Lwc.IChartApi;
  markers?: Lwc.ISeriesMarkersPluginApi<Lwc.Time>;
}

/** Every chart by its container: the browser tests read what the library laid out through chartOf(). */
const drawn = new Map<HTMLElement, DrawnChart>();

export function chartOf(container: HTMLElement): DrawnChart | undefined {
  return drawn.get(container);
}

/**
 * Room after the newest bar: the time axis centres each label on its bar, so the newest one was cut
 * in half at the pane's right edge.
 */
const RIGHT_MARGIN_PX = 40;

export function createChart(
  container: HTMLElement,
  options: Lwc.DeepPartial<Lwc.TimeChartOptions> = {},
): Lwc.IChartApi {
  const chart = LightweightCharts.createChart(container, {
    autoSize: true,
    // The library's own logo is styled by a <style> element it injects, which the pages' CSP
    // (style-src 'self') blocks: the logo turned invisible and every chart page logged an error.
    // The layout renders the licence's required attribution link instead (views/layout.ts).
    layout: {
      background: { color: '#ffffff' },
      textColor: '#334',
      fontFamily: 'system-ui, sans-serif',
      attributionLogo: false,
    },
    grid: { vertLines: { color: '#eef' }, horzLines: { color: '#eef' } },
    timeScale: { timeVisible: true, secondsVisible: false, rightOffsetPixels: RIGHT_MARGIN_PX },
    rightPriceScale: { borderVisible: false },
    ...options,
  });
  drawn.set(container, { chart });
  return chart;
}

/** Markers on `series` of the chart in `container` (kept so chartOf() can report them). */
export function seriesMarkers(
  container: HTMLElement,
  series: Lwc.ISeriesApi<Lwc.SeriesType>,
): Lwc.ISeriesMarkersPluginApi<Lwc.Time> {
  const markers = lwc().createSeriesMarkers(series, []);
  const entry = drawn.get(container);
  if (entry) entry.markers = markers;
  return markers;
}

/**
 * A chart with too little data to draw says so over its pane (`message`), instead of a blank box;
 * null takes the message away.
 */
export function emptyState(container: HTMLElement, message: string | null): void {
  const note = container.querySelector<HTMLElement>(':scope > .chart-empty');
  if (message === null) {
    note?.remove();
    return;
  }
  const shown = note ?? container.appendChild(Object.assign(document.createElement('p'), { className: 'chart-empty' }));
  shown.setAttribute('role', 'status');
  shown.textContent = message;
}

/**
 * The smallest span a price axis shows, as a fraction of the price: the library scales a flat price
 * ±0.05 whatever the price (a $0.00005 coin on an axis from −0.05 to 0.05), so a flat or nearly flat
 * stretch gets 0.2% of its price instead, still narrow enough for a stablecoin's moves to show.
 */
const LEAST_SPAN = 0.002;

/** A span around `low`..`high` at least LEAST_SPAN of their midpoint wide. */
function widened(low: number, high: number): { minValue: number; maxValue: number } {
  const mid = (low + high) / 2;
  const half = Math.max(high - low, Math.abs(mid) * LEAST_SPAN) / 2;
  return { minValue: mid - half, maxValue: mid + half };
}

/**
 * Price series options for prices between `low` and `high`: the axis and crosshair label written with
 * the decimals those prices need (price-format.ts), and a flat price scaled around itself.
 */
export function priceAxis(
  low: number,
  high: number,
): Pick<Lwc.SeriesOptionsCommon, 'priceFormat' | 'autoscaleInfoProvider'> {
  const range = widened(low, high);
  const digits = axisDigits(range.minValue, range.maxValue);
  return {
    priceFormat: { type: 'custom', minMove: 10 ** -digits, formatter: (price: number) => plainPrice(price, digits) },
    autoscaleInfoProvider: (original: () => Lwc.AutoscaleInfo | null) => {
      const info = original();
      if (!info?.priceRange) return info;
      return { ...info, priceRange: widened(info.priceRange.minValue, info.priceRange.maxValue) };
    },
  };
}

export type { Lwc };
