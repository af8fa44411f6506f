import { escapeHtml } from './html.js';

/**
 * Policy of every page: scripts and styles only from this origin (no inline code, no CDN: the
 * machines may have no internet), data only from this origin's API and event stream.
 * The chart library sets element styles from script (CSSOM), which style-src does not restrict.
 */
export const PAGE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'self'",
].join('; ');

export const ASSETS = '/assets';
export const CHART_LIBRARY_PATH = `${ASSETS}/vendor/lightweight-charts.js`;
export const FAVICON_PATH = `${ASSETS}/favicon.svg`;

/** The pages' icon (also answers /favicon.ico, which browsers ask for on their own): a rising line. */
export const FAVICON_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="6" fill="#2563eb"/><polyline points="5,23 12,16 18,20 27,9" fill="none" stroke="#fff" stroke-width="3" stroke-linecap="round" stroke-linejoin="round"/></svg>
`;

/**
 * Lightweight Charts' licence (Apache 2.0; README "License") asks pages using it to credit TradingView
 * with its attribution notice and a link to https://www.tradingview.com/. The library's own logo
 * needs an inline <style> the CSP refuses, so charts turn it off (client/charts.ts) and this footer,
 * styled by app.css, carries the notice.
 */
export const CHART_ATTRIBUTION = `<footer class="attribution">Charts: <a href="https://www.tradingview.com/" rel="noopener">TradingView Lightweight Charts™</a>, Copyright 2023 TradingView, Inc. (Apache License 2.0)</footer>
`;

/** 'error': the error pages, which mark no navigation link as current. */
export type PageKey = 'market' | 'coin' | 'pipeline' | 'error';

/** What every page's frame shows, the same for every page a process serves. */
export interface PageFrame {
  /** Bull Board without credentials is read-only; the navigation says so. */
  readonly boardReadOnly: boolean;
  /** STALE_AFTER (config.freshness): the header warns once the pages' data is older than this. */
  readonly staleAfterSeconds: number;
}

export interface PageShell {
  readonly page: PageKey;
  readonly title: string;
  /** Server-rendered, already escaped HTML of the page's main content. */
  readonly body: string;
  /** Client module under /assets/js/ that fills in and refreshes the page. */
  readonly script: string;
  readonly charts?: boolean;
  readonly frame: PageFrame;
}

/**
 * The shared frame: navigation, the live "last updated" line with its stale-data warning (filled by
 * client/dom.ts live()) and the page's module.
 */
export function renderPage(shell: PageShell): string {
  const link = (href: string, label: string, key?: PageKey) =>
    `<a href="${href}"${key === shell.page ? ' aria-current="page"' : ''}>${escapeHtml(label)}</a>`;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${escapeHtml(shell.title)} · Crypto Data Pipeline</title>
<link rel="icon" type="image/svg+xml" href="${FAVICON_PATH}">
<link rel="stylesheet" href="${ASSETS}/app.css">
${shell.charts ? `<script src="${CHART_LIBRARY_PATH}" defer></script>\n` : ''}<script type="module" src="${ASSETS}/js/${escapeHtml(shell.script)}"></script>
</head>
<body data-page="${shell.page}" data-stale-after="${shell.frame.staleAfterSeconds}">
<header>
<nav>
<strong class="brand">CDP</strong>
${link('/', 'Market', 'market')}
${link('/pipeline', 'Pipeline', 'pipeline')}
${link('/queues', shell.frame.boardReadOnly ? 'Queues (read-only)' : 'Queues')}
${link('/metrics', 'Metrics')}
</nav>
<p class="live"><span id="live-status" class="dot" title="live updates"></span> Last updated: <time id="last-updated">—</time> <strong id="stale-warning" class="stale" role="status" hidden></strong></p>
</header>
<main>
${shell.body}
</main>
${shell.charts ? CHART_ATTRIBUTION : ''}</body>
</html>
`;
}

export const APP_CSS = `
:root { color-scheme: light; font-family: system-ui, -apple-system, "Segoe UI", sans-serif; --muted: #667; --line: #dde; --up: #16a34a; --down: #dc2626; --accent: #2563eb; }
* { box-sizing: border-box; }
body { margin: 0; line-height: 1.4; background: #f7f8fa; color: #111; }
header { background: #fff; border-bottom: 1px solid var(--line); padding: .5rem 1rem; display: flex; flex-wrap: wrap; gap: .25rem 1rem; align-items: center; justify-content: space-between; }
nav { display: flex; flex-wrap: wrap; gap: .25rem .9rem; align-items: center; }
nav a { color: var(--accent); text-decoration: none; }
nav a[aria-current="page"] { font-weight: 600; text-decoration: underline; }
.brand { margin-right: .25rem; }
.live { margin: 0; font-size: .85rem; color: var(--muted); }
/* The stale-data warning wraps as one phrase on a phone. */
.live .stale:not([hidden]) { display: inline-block; }
.dot { display: inline-block; width: .55rem; height: .55rem; border-radius: 50%; background: #bbb; }
.dot.on { background: var(--up); }
main { max-width: 80rem; margin: 0 auto; padding: 1rem; }
h1 { font-size: 1.4rem; margin: .25rem 0 .75rem; }
h2 { font-size: 1.1rem; margin: 1.5rem 0 .5rem; }
section { min-width: 0; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(10rem, 1fr)); gap: .75rem; }
.card { background: #fff; border: 1px solid var(--line); border-radius: .5rem; padding: .6rem .8rem; min-width: 0; }
.card .label { font-size: .8rem; color: var(--muted); }
/* A value breaks only between words ("$0.00004790 / $0.00004890" at the slash), never inside a number. */
.card .value { font-size: 1.2rem; font-weight: 600; font-variant-numeric: tabular-nums; overflow-wrap: normal; }
/* Two prices on two lines: "$0.00004692 /" fits a 10rem card in this size. */
.card .value.pair { font-size: 1rem; }
.grid2 { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(100%, 22rem), 1fr)); gap: 1rem; }
.chart { width: 100%; height: 320px; background: #fff; border: 1px solid var(--line); border-radius: .5rem; position: relative; }
/* Over a chart with too little data to draw (client/charts.ts emptyState). */
.chart-empty { position: absolute; inset: 0; z-index: 5; margin: 0; display: flex; align-items: center; justify-content: center; padding: 1rem; text-align: center; color: var(--muted); background: rgba(255,255,255,.8); pointer-events: none; }
.legend { font-size: .8rem; margin: .3rem 0 0; } .legend .spike { color: #b45309; } .legend .drop { color: #7c3aed; }
.chart.small { height: 160px; }
.swatch.history { display: inline-block; width: .7rem; height: .9rem; vertical-align: -.1rem; border: 1px solid #16a34a; background: rgba(22,163,74,.15); }
.table { overflow-x: auto; background: #fff; border: 1px solid var(--line); border-radius: .5rem; max-width: 100%; }
/* Set by client/dom.ts while a table is wider than its box: a shadow on each side with more to see. */
.table.more-right { box-shadow: inset -18px 0 14px -14px rgba(15,23,42,.45); }
.table.more-left { box-shadow: inset 18px 0 14px -14px rgba(15,23,42,.45); }
.table.more-left.more-right { box-shadow: inset -18px 0 14px -14px rgba(15,23,42,.45), inset 18px 0 14px -14px rgba(15,23,42,.45); }
.scroll-hint { margin: .2rem 0; font-size: .8rem; text-align: right; }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; font-size: .9rem; }
th, td { padding: .35rem .6rem; border-bottom: 1px solid var(--line); text-align: right; white-space: nowrap; }
th.left, td.left { text-align: left; }
th button { font: inherit; font-weight: 600; background: none; border: 0; padding: 0; cursor: pointer; color: inherit; }
th[aria-sort="ascending"] button::after { content: " ▲"; }
th[aria-sort="descending"] button::after { content: " ▼"; }
.up { color: var(--up); } .down { color: var(--down); } .muted { color: var(--muted); }
.status-failed, .status-lost, .status-error, .status-fail, .status-runtime-error, .status-unrepairable { color: var(--down); }
.status-partial, .status-superseded, .status-warn, .status-open, .status-repairing { color: #b45309; }
.status-loaded, .status-success, .status-pass, .status-succeeded, .status-repaired { color: var(--up); }
.toolbar { display: flex; flex-wrap: wrap; gap: .5rem; align-items: center; margin: .5rem 0; }
.toolbar input[type="search"] { flex: 1 1 12rem; min-width: 0; padding: .4rem .5rem; font: inherit; }
.download { white-space: nowrap; }
button.seg, .pager button { font: inherit; padding: .3rem .7rem; border: 1px solid var(--line); background: #fff; border-radius: .35rem; cursor: pointer; }
button.seg[aria-pressed="true"] { background: var(--accent); color: #fff; border-color: var(--accent); }
.pager { display: flex; gap: .5rem; align-items: center; margin: .5rem 0; }
ul.movers { list-style: none; padding: 0; margin: 0; }
ul.movers li { display: flex; justify-content: space-between; gap: .5rem; padding: .2rem 0; border-bottom: 1px solid var(--line); }
.spark { display: block; }
details { background: #fff; border: 1px solid var(--line); border-radius: .5rem; margin: .4rem 0; padding: .4rem .6rem; }
summary { cursor: pointer; }
code { overflow-wrap: anywhere; white-space: normal; }
/* A run id stays on one line (on a phone it wrapped onto five); a long one ends in "…", whole in its title. */
code.run-id { display: inline-block; max-width: 18ch; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; overflow-wrap: normal; vertical-align: bottom; }
.ok { color: var(--up); font-weight: 600; }
/* Phones: the coin table keeps rank, name, price, 24h, market cap and the sparkline; the rest is on the coin's page. */
@media (max-width: 600px) {
  #coins th:nth-child(4), #coins td:nth-child(4), #coins th:nth-child(6), #coins td:nth-child(6), #coins th:nth-child(8), #coins td:nth-child(8) { display: none; }
  th, td { padding: .3rem .4rem; }
  .chart { height: 260px; }
} .stale { color: var(--down); font-weight: 600; }
footer.attribution { max-width: 80rem; margin: 0 auto; padding: .5rem 1rem 1.5rem; font-size: .8rem; color: var(--muted); }
footer.attribution a { color: var(--accent); }
`;
