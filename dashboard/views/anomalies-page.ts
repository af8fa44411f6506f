import { escapeHtml } from './html.js';
import { renderPage, type PageFrame } from './layout.js';

const options = (values: ReadonlyArray<readonly [string, string]>) =>
  values.map(([value, label]) => `<option value="${value}">${escapeHtml(label)}</option>`).join('');

/**
 * The anomaly feed (/anomalies): every flagged hour across coins, filtered; client/anomalies-page.ts
 * fills the table from /api/v1/anomalies and keeps the filters in the URL. Its own page rather than a
 * section of the market page: it is read on its own (a daily look at what moved oddly), its filters
 * and paging would share one query string with the coin table's, and the market page is long already.
 */
export function renderAnomaliesPage(frame: PageFrame): string {
  return renderPage({
    page: 'anomalies',
    title: 'Anomalies',
    script: 'anomalies-page.js',
    frame,
    body: `<h1>Anomaly feed</h1>
<p class="muted intro">Hours whose 1h return was far out of line with the coin's own returns over the week before (robust z-score beyond 3.5; a spike rose, a drop fell). Each row opens the coin's chart at that hour.</p>
<form class="filters" id="filters">
<label>Window <select id="f-window" name="window">${options([
      ['24h', 'Last 24 h'],
      ['7d', 'Last 7 days'],
    ])}</select></label>
<label>Market-cap rank <select id="f-rank" name="rank">${options([
      ['', 'All coins'],
      ['1-10', 'Top 10'],
      ['1-100', 'Top 100'],
      ['1-1000', 'Top 1000'],
    ])}</select></label>
<label>Min |z| <input type="number" id="f-minz" name="minZ" min="0" max="1000" step="any" inputmode="decimal" placeholder="any"></label>
<label>Direction <select id="f-direction" name="direction">${options([
      ['both', 'Spikes and drops'],
      ['spike', 'Spikes'],
      ['drop', 'Drops'],
    ])}</select></label>
<a id="anomalies-csv" class="download" href="/api/v1/anomalies.csv" download>Download CSV (every row)</a>
</form>
<p id="feed-summary" class="muted" role="status"></p>
<div class="table"><table id="anomaly-feed"><thead><tr><th class="left">Hour (UTC)</th><th class="left">Coin</th><th>Rank</th><th class="left">Direction</th><th>1h return</th><th>Robust z</th><th>Close</th></tr></thead>
<tbody></tbody>
</table></div>
<div class="pager"><button type="button" id="prev">Previous</button><span id="page-info" class="muted"></span><button type="button" id="next">Next</button></div>`,
  });
}
