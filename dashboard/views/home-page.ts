import { createHash } from 'node:crypto';
import type { RunSummary } from '../runs.js';
import { escapeHtml } from './html.js';

const STYLE = `
  :root { color-scheme: light dark; font-family: system-ui, -apple-system, "Segoe UI", sans-serif; }
  body { margin: 0 auto; max-width: 72rem; padding: 1rem; line-height: 1.4; }
  h1 { font-size: 1.5rem; margin: 0 0 .5rem; }
  nav a { margin-right: 1rem; }
  .table { overflow-x: auto; }
  table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
  th, td { padding: .35rem .6rem; border-bottom: 1px solid #8884; text-align: right; white-space: nowrap; }
  th:first-child, td:first-child, th:nth-child(2), td:nth-child(2) { text-align: left; }
  .status-failed, .status-lost { color: #d33; } .status-partial { color: #c80; } .status-loaded { color: #2a2; }
  .muted { opacity: .7; }
`;

/** Content-Security-Policy of this page: only its own inline stylesheet (pinned by hash) may apply. */
export const HOME_PAGE_CSP = [
  "default-src 'none'",
  `style-src 'sha256-${createHash('sha256').update(STYLE).digest('base64')}'`,
  "img-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');

export const HOME_RUNS = 20;

export interface HomePageModel {
  /** undefined when the runs could not be read (the page still renders, saying so). */
  readonly runs: readonly RunSummary[] | undefined;
  readonly boardReadOnly: boolean;
}

/** The landing page: the latest runs and links to the board, the metrics and the API. */
export function renderHomePage(model: HomePageModel): string {
  const body =
    model.runs === undefined
      ? '<p class="status-failed">Runs are unavailable: the database did not answer. See <a href="/readyz">/readyz</a>.</p>'
      : model.runs.length === 0
        ? '<p class="muted">No runs yet.</p>'
        : runsTable(model.runs);
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>Crypto Data Pipeline</title>
<style>${STYLE}</style>
</head>
<body>
<h1>Crypto Data Pipeline</h1>
<nav>
<a href="/queues">Queues${model.boardReadOnly ? ' (read-only)' : ''}</a>
<a href="/metrics">Metrics</a>
<a href="/api/v1/runs">Runs API</a>
</nav>
<h2>Latest runs</h2>
${body}
</body>
</html>
`;
}

function runsTable(runs: readonly RunSummary[]): string {
  const rows = runs.map(
    (run) => `<tr>
<td><code>${escapeHtml(run.runId)}</code></td>
<td class="status-${escapeHtml(run.status)}"${run.error ? ` title="${escapeHtml(run.error)}"` : ''}>${escapeHtml(run.status)}</td>
<td>${escapeHtml(run.batchesLoaded)}/${escapeHtml(run.batchesPlanned)}</td>
<td>${escapeHtml(run.rowsLoaded.toLocaleString('en-US'))}</td>
<td>${escapeHtml(run.recordsRejected)}</td>
<td>${escapeHtml(formatDuration(run.durationMs))}</td>
<td class="muted">${escapeHtml(run.startedAt.toISOString())}</td>
</tr>`,
  );
  return `<div class="table"><table>
<thead><tr><th>Run</th><th>Status</th><th>Batches loaded/planned</th><th>Rows</th><th>Rejects</th><th>Duration</th><th>Started (UTC)</th></tr></thead>
<tbody>
${rows.join('\n')}
</tbody>
</table></div>`;
}

function formatDuration(ms: number | null): string {
  if (ms === null) return '—';
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const seconds = Math.round(ms / 1000);
  return `${Math.floor(seconds / 60)} min ${seconds % 60} s`;
}
