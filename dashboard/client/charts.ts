/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
import type * as Lwc from 'lightweight-charts';

/**
 * TradingView Lightweight Charts, loaded by a classic <script> (its standalone build defines this
 * global) from node_modules through /assets/vendor/; only its types are imported here.
 */
declare const LightweightCharts: typeof Lwc;

export const lwc = (): typeof Lwc => LightweightCharts;

export function createChart(
  container: HTMLElement,
  options: Lwc.DeepPartial<Lwc.TimeChartOptions> = {},
): Lwc.IChartApi {
  return LightweightCharts.createChart(container, {
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
    timeScale: { timeVisible: true, secondsVisible: false },
    rightPriceScale: { borderVisible: false },
    ...options,
  });
}

export type { Lwc };
