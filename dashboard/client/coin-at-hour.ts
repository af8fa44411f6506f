/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
import { lwc, type Lwc } from './charts.js';
import { byId, el, urlParam, utc } from './dom.js';

/**
 * The coin page opened at one hour (`?at=2026-12-07T15:00:00Z`, the anomaly feed's links): the price
 * chart is centred on that hour, which a pale band marks, a line under the chart names it, and its
 * row in the anomalies table is highlighted. The range widens on the first load until it holds the
 * hour (ranges count back from the coin's newest candle, which the feed's link cannot know).
 */

/** An hour's start in UTC, as the feed writes it; seconds and milliseconds are optional. */
const AT_HOUR = /^\d{4}-\d{2}-\d{2}T\d{2}:00(?::00(?:\.000)?)?Z$/;

/** The `at` parameter as Unix seconds, null when absent; a malformed one is listed in `ignored`. */
export function atHourParam(ignored: string[]): number | null {
  const raw = urlParam('at', '', (v) => AT_HOUR.test(v) && !Number.isNaN(Date.parse(v)), ignored);
  return raw === '' ? null : Date.parse(raw) / 1000;
}

export const atHourText = (at: number) => new Date(at * 1000).toISOString().replace('.000Z', 'Z');

const RANGES = ['24h', '7d', '30d', 'all'];

/** The next wider range, or undefined from 'all'. */
export function widerRange(range: string): string | undefined {
  const i = RANGES.indexOf(range);
  return i >= 0 && i < RANGES.length - 1 ? RANGES[i + 1] : undefined;
}

/**
 * Bars shown either side of the hour: up to three days of hours or a month of days, and no more than
 * fit at ~15 px a bar (on a phone 72 hours left the marked bar 4 px wide).
 */
const HALF_VIEW = { hourly: 36, daily: 15 } as const;
const BAR_PX = 15;

export class AtHourMark {
  private readonly band: Lwc.ISeriesApi<'Histogram'>;
  private readonly note: HTMLElement;

  constructor(
    private readonly chart: Lwc.IChartApi,
    private readonly container: HTMLElement,
    private readonly at: number,
  ) {
    // A full-height bar on a scale of its own: a band behind the candles of that hour.
    this.band = chart.addSeries(lwc().HistogramSeries, {
      priceScaleId: 'at-hour',
      color: 'rgba(37,99,235,.18)',
      lastValueVisible: false,
      priceLineVisible: false,
    });
    chart.priceScale('at-hour').applyOptions({ scaleMargins: { top: 0, bottom: 0 }, visible: false });
    this.note = el('p', { id: 'at-note', class: 'legend at-note', role: 'status' });
    byId('price-legend').before(this.note);
  }

  /**
   * Marks and centres the hour among `barTimes` (ascending, Unix seconds) of `interval`; on daily
   * candles the hour's day. Says so when the loaded candles do not hold it.
   */
  show(barTimes: readonly number[], interval: 'hourly' | 'daily'): void {
    const bar = interval === 'daily' ? this.at - (this.at % 86_400) : this.at;
    const index = barTimes.indexOf(bar);
    const hour = utc(new Date(this.at * 1000).toISOString()).replace(':00 UTC', ' UTC');
    this.container.dataset.atIndex = String(index);
    if (index < 0) {
      this.band.setData([]);
      this.note.textContent = `No ${interval === 'daily' ? 'daily' : 'hourly'} candle for ${hour} in this range.`;
      return;
    }
    this.band.setData([{ time: bar as Lwc.UTCTimestamp, value: 1 }]);
    const half = Math.max(4, Math.min(HALF_VIEW[interval], Math.round(this.container.clientWidth / BAR_PX / 2)));
    this.chart.timeScale().setVisibleLogicalRange({ from: index - half, to: index + half });
    this.note.textContent = `Marked: ${hour}${interval === 'daily' ? ' (its day)' : ''}, the shaded bar.`;
  }

  /** Highlights the anomalies table's row of the hour (rows carry data-time, Unix seconds). */
  highlightRow(table: HTMLElement): void {
    for (const row of table.querySelectorAll<HTMLElement>('tbody tr[data-time]'))
      row.classList.toggle('at-hour', Number(row.dataset.time) === this.at);
  }
}
