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
export type PageKey = 'market' | 'coin' | 'pipeline' | 'error' | 'anomalies';

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
${link('/anomalies', 'Anomalies', 'anomalies')}
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
