import type { CoinDetail } from '../queries/market-queries.js';
import { usdPrice } from '../client/price-format.js';
import { escapeHtml } from './html.js';
import { renderPage, type PageFrame } from './layout.js';

/*
 * Each page is a server-rendered frame with the sections' headings, ids and whatever the server
 * knows cheaply; its client module (dashboard/client/) fills the data in from /api/v1 and refreshes
 * it on every finished transform run.
 */

const card = (id: string, label: string, value = '—') =>
  `<div class="card"><div class="label">${escapeHtml(label)}</div><div class="value" id="${id}">${escapeHtml(value)}</div></div>`;

export function renderMarketPage(frame: PageFrame): string {
  const sortable = (key: string, label: string, left = false) =>
    `<th class="${left ? 'left' : ''}" data-sort="${key}"><button type="button">${escapeHtml(label)}</button></th>`;
  return renderPage({
    page: 'market',
    title: 'Market',
    script: 'market-page.js',
    charts: true,
    frame,
    body: `<h1>Market overview</h1>
<section class="cards" id="overview">
${card('total-market-cap', 'Total market cap')}
${card('total-volume', '24h volume')}
${card('btc-dominance', 'BTC dominance')}
${card('eth-dominance', 'ETH dominance')}
${card('coin-count', 'Coins tracked')}
</section>
<div class="grid2">
<section><h2>Total market cap, 7 days</h2><div id="market-chart" class="chart small"></div></section>
<section><h2>Top movers, 24h</h2><div class="grid2"><ul class="movers" id="gainers"></ul><ul class="movers" id="losers"></ul></div></section>
</div>
<h2>Coins</h2>
<div class="toolbar"><input type="search" id="search" placeholder="Search name or symbol" aria-label="Search coins" maxlength="64"><a id="coins-csv" class="download" href="/api/v1/coins.csv" download>Download CSV (every page)</a></div>
${SCREENER_FORM}
<div class="table"><table id="coins">
<thead><tr>${sortable('rank', '#')}${sortable('name', 'Coin', true)}${sortable('price', 'Price')}${sortable('change_1h', '1h')}${sortable('change_24h', '24h')}${sortable('change_7d', '7d')}${sortable('market_cap', 'Market cap')}${sortable('volume', 'Volume 24h')}<th>7 days</th></tr></thead>
<tbody></tbody>
</table></div>
<div class="pager"><button type="button" id="prev">Previous</button><span id="page-info" class="muted"></span><button type="button" id="next">Next</button></div>`,
  });
}

/** The screener (client/screener.ts fills the band presets and wires it); a <details>, so a phone can fold it away. */
const SCREENER_FORM = `<details class="screener" id="screener"><summary>Filters <span id="filter-badge" class="muted"></span></summary>
<form id="screener-form" class="screener-form" novalidate>
<fieldset><legend>Market cap (USD)</legend>
<select id="f-cap-band" aria-label="Market cap band"></select>
<label>from <input id="f-cap-min" inputmode="decimal" autocomplete="off" placeholder="e.g. 1B" size="8"></label>
<label>to <input id="f-cap-max" inputmode="decimal" autocomplete="off" placeholder="any" size="8"></label>
</fieldset>
<fieldset><legend>Price change (%)</legend>
<select id="f-change-window" aria-label="Change window"><option value="1h">over 1h</option><option value="24h" selected>over 24h</option><option value="7d">over 7d</option></select>
<label>from <input id="f-change-min" inputmode="decimal" autocomplete="off" placeholder="e.g. -5" size="6"></label>
<label>to <input id="f-change-max" inputmode="decimal" autocomplete="off" placeholder="e.g. 10" size="6"></label>
</fieldset>
<fieldset><legend>Volume 24h (USD)</legend>
<label>at least <input id="f-volume-min" inputmode="decimal" autocomplete="off" placeholder="e.g. 10M" size="8"></label>
</fieldset>
<div class="screener-actions"><button type="submit">Apply</button><button type="button" id="clear-filters">Clear filters</button></div>
<p id="filter-error" class="stale" aria-live="polite" hidden></p>
</form>
</details>
<p id="match-count" class="muted" aria-live="polite"></p>`;

/** The coin the price chart compares against (client/coin-chart.ts); its own page has no compare toggle. */
export const COMPARE_WITH = 'bitcoin';

export function renderCoinPage(coin: CoinDetail, frame: PageFrame): string {
  const seg = (attr: string, value: string, label: string, pressed: boolean) =>
    `<button type="button" class="seg" data-${attr}="${value}" aria-pressed="${pressed}">${label}</button>`;
  return renderPage({
    page: 'coin',
    title: coin.name ?? coin.id,
    script: 'coin-page.js',
    charts: true,
    frame,
    body: `<p><a href="/">← Market</a></p>
<h1 id="coin-title" data-coin-id="${escapeHtml(coin.id)}">${escapeHtml(coin.name ?? coin.id)} <span class="muted">${escapeHtml((coin.symbol ?? '').toUpperCase())}</span></h1>
<section class="cards" id="coin-stats">
${card('stat-price', 'Price', usdPrice(coin.price))}
${card('stat-change-24h', '24h change')}
${card('stat-market-cap', 'Market cap')}
${card('stat-volume', 'Volume 24h')}
${card('stat-range', '24h low / high')}
${card('stat-volatility', 'Volatility 24h / 7d (hourly)')}
${card('stat-anomalies', 'Anomalies flagged', String(coin.anomalyCount))}
</section>
<div class="toolbar" id="interval-buttons">${seg('interval', 'hourly', 'Hourly', true)}${seg('interval', 'daily', 'Daily', false)}</div>
<div class="toolbar" id="range-buttons">${seg('range', '24h', '24h', false)}${seg('range', '7d', '7d', true)}${seg('range', '30d', '30d', false)}${seg('range', 'all', 'All', false)}</div>
<h2>Price and volume</h2>
<div class="toolbar" id="chart-options"><span class="seg-group" id="chart-buttons" role="group" aria-label="Chart type">${seg('chart', 'candles', 'Candles', true)}${seg('chart', 'line', 'Line', false)}</span><span class="seg-group" id="scale-buttons" role="group" aria-label="Price scale">${seg('scale', 'linear', 'Linear', true)}${seg('scale', 'log', 'Log', false)}</span><span class="seg-group" id="compare-buttons" role="group" aria-label="Compare"${coin.id === COMPARE_WITH ? ' hidden' : ''}>${seg('compare', 'off', 'Price', true)}${seg('compare', COMPARE_WITH, '% vs BTC', false)}</span><a id="candles-csv" class="download" href="/api/v1/coins/${encodeURIComponent(coin.id)}/candles.csv" download>Download these candles (CSV)</a></div>
<p id="compare-note" class="legend muted" role="status" hidden></p>
<div id="chart-readout" class="readout" aria-label="Candle under the cursor"></div>
<div id="price-chart" class="chart"></div>
<p id="price-legend" class="muted legend"><span class="spike">▼</span> spike · <span class="drop">▲</span> drop: hours flagged as anomalies, listed under Anomalies below.</p>
<p id="history-legend" class="legend muted" hidden><span class="swatch history" aria-hidden="true"></span> Hollow, pale candles: from history (backfilled market_chart points, not live ticks): <span id="history-legend-count"></span></p>
<h2>Volatility (24h, hourly log returns)</h2>
<div id="volatility-chart" class="chart small"></div>
<h2>Anomalies</h2>
<div class="table"><table id="anomalies"><thead><tr><th class="left">Hour (UTC)</th><th class="left">Direction</th><th>1h return</th><th>Robust z</th></tr></thead><tbody></tbody></table></div>`,
  });
}

/** Titles of the error pages, by status; any other status is an "Error". */
const ERROR_TITLES: Readonly<Record<number, string>> = { 400: 'Bad request', 404: 'Not found', 503: 'Unavailable' };

/** What a browser (Accept: text/html) gets for an error: the layout, titled by the status. */
export function renderErrorPage(status: number, what: string, frame: PageFrame): string {
  const title = ERROR_TITLES[status] ?? 'Error';
  return renderPage({
    page: 'error',
    title,
    script: 'live-status.js',
    frame,
    body: `<h1>${escapeHtml(title)}</h1><p>${escapeHtml(what)}</p><p><a href="/">Back to the market</a></p>`,
  });
}

export function renderPipelinePage(frame: PageFrame): string {
  return renderPage({
    page: 'pipeline',
    title: 'Pipeline',
    script: 'pipeline-page.js',
    charts: true,
    frame,
    body: `<h1>Pipeline</h1>
<section class="cards" id="freshness">
${card('fresh-state', 'Data freshness')}
${card('fresh-age', 'Newest load')}
${card('fresh-coins', 'Stale coins / tracked')}
${card('fresh-tick', 'Last tick (load / transform)')}
${card('call-budget', 'CoinGecko calls per tick: needed vs allowed')}
</section>
<p class="stale" id="overload" hidden></p>
<h2>Operations</h2>
<div class="toolbar" id="ops-window" role="group" aria-label="Operations window"><span class="muted">Window</span>${['1h', '6h', '24h', '7d'].map((w) => `<button type="button" class="seg" data-window="${w}" aria-pressed="${w === '6h'}">${w}</button>`).join('')}</div>
<p class="muted" id="ops-summary"></p>
<div class="ops-charts">
<section><h3>Tick duration</h3><div id="ops-duration" class="chart small"></div></section>
<section><h3>Rows loaded per tick</h3><div id="ops-rows" class="chart small"></div></section>
<section><h3>Rejects (quarantined records)</h3><div id="ops-rejects" class="chart small"></div></section>
<section><h3>Queue depth at each tick</h3><div id="ops-queue" class="chart small"></div></section>
<section><h3>dbt run time</h3><div id="ops-transform" class="chart small"></div></section>
</div>
<h2>Stale coins</h2>
<p class="muted" id="stale-total"></p>
<div class="table"><table id="stale-coins"><thead><tr><th class="left">Coin</th><th>Rank</th><th>Last loaded (UTC)</th><th>Age</th></tr></thead><tbody></tbody></table></div>
<h2>Coverage gaps</h2>
<p class="muted" id="gaps-total"></p>
<div class="table"><table id="gaps"><thead><tr><th class="left">Gap (UTC)</th><th>Length</th><th>Coins</th><th class="left">Status</th><th>Calls</th><th>Points stored</th><th class="left">Note</th></tr></thead><tbody></tbody></table></div>
<h2>Queues</h2>
<div class="table"><table id="queues"><thead><tr><th class="left">Queue</th><th>Waiting</th><th>Active</th><th>Delayed</th><th>Waiting children</th><th>Failed</th><th>Completed</th></tr></thead><tbody></tbody></table></div>
<h2>Recent ticks</h2>
<div class="table"><table id="ticks"><thead><tr><th class="left">Run</th><th class="left">Status</th><th>Duration</th><th>Batches loaded/planned</th><th>Rows</th><th>Rejects</th><th class="left">Transform</th><th class="left">Started (UTC)</th></tr></thead><tbody></tbody></table></div>
<h2>History</h2>
<p class="muted">Backfills (<code>npm run backfill</code>), the first-start backfill (<code>BACKFILL_DAYS</code>) and gap repairs: one CoinGecko call per coin and range, after every tick's calls.</p>
<div class="table"><table id="history-runs"><thead><tr><th class="left">Run</th><th class="left">Kind</th><th class="left">Status</th><th class="left">Range (UTC)</th><th>Coins</th><th>Calls done/failed/total</th><th>Rows</th><th>Rejected</th><th class="left">Failures</th></tr></thead><tbody></tbody></table></div>
<h2>dbt runs</h2>
<div id="transform-runs"></div>
<h2>Inactive coins</h2>
<p class="muted" id="stale-observations-total"></p>
<div class="table"><table id="stale-observations"><thead><tr><th class="left">Coin</th><th class="left">Last updated by CoinGecko (UTC)</th><th class="left">First seen (UTC)</th><th class="left">Run</th></tr></thead><tbody></tbody></table></div>
<h2>Quarantine</h2>
<p class="muted" id="quarantine-total"></p>
<div class="table"><table id="quarantine"><thead><tr><th class="left">When (UTC)</th><th class="left">Run / batch / record</th><th class="left">Coin</th><th class="left">Reason</th></tr></thead><tbody></tbody></table></div>`,
  });
}
