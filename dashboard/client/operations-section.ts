/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
import { createChart, emptyState, lwc, type Lwc } from './charts.js';
import { api, byId, duration, el, ignoredNotice, urlNotice, urlParam } from './dom.js';

/**
 * The Pipeline page's operations view (GET /pipeline/operations): trends of tick duration, rows
 * loaded, rejects, queue backlog and dbt run time over a window chosen by the buttons and kept in the
 * URL (?window=), bucketed by the server. Every bucket of the window arrives, empty ones with nulls:
 * the charts space points by index, not time, so empty buckets are drawn as gaps (whitespace points)
 * to keep the time axis honest.
 */
interface Bucket {
  start: string;
  ticks: number;
  loadedSecondsAvg: number | null;
  loadedSecondsMax: number | null;
  transformedSecondsAvg: number | null;
  transformedSecondsMax: number | null;
  rowsLoaded: number;
  rowsPerTick: number | null;
  rejected: number;
  rejectedPerTick: number | null;
  fetchJobsWaitingMax: number | null;
  loadJobsWaitingMax: number | null;
  transformRuns: number;
  transformSecondsAvg: number | null;
  transformSecondsMax: number | null;
}
interface Operations {
  window: string;
  bucketSeconds: number;
  from: string;
  to: string;
  buckets: Bucket[];
}

const buttons = () => [...byId('ops-window').querySelectorAll<HTMLButtonElement>('button[data-window]')];
const DEFAULT_WINDOW = buttons().find((b) => b.getAttribute('aria-pressed') === 'true')!.dataset.window!;
const ignored: string[] = [];
let windowKey = urlParam('window', DEFAULT_WINDOW, (v) => buttons().some((b) => b.dataset.window === v), ignored);
if (ignored.length) {
  urlNotice(byId('ops-window'), ignoredNotice(ignored));
  replaceUrl();
}

/** The window is the page's only URL state; the default is left out so the plain URL stays plain. */
function replaceUrl(): void {
  const next = new URL(location.pathname, location.origin);
  if (windowKey !== DEFAULT_WINDOW) next.searchParams.set('window', windowKey);
  history.replaceState(null, '', next);
}

function showWindow(): void {
  for (const b of buttons()) b.setAttribute('aria-pressed', String(b.dataset.window === windowKey));
}

type Value = (b: Bucket) => number | null;
interface SeriesSpec {
  readonly label: string;
  readonly color: string;
  readonly value: Value;
  readonly kind?: 'line' | 'histogram';
}
interface ChartSpec {
  readonly id: string;
  readonly series: readonly SeriesSpec[];
  readonly format: (v: number) => string;
  /** Said over the pane when no bucket of the window has a value. */
  readonly empty: string;
}

const secs = (v: number) => (v < 10 ? `${v.toFixed(1)} s` : v < 120 ? `${Math.round(v)} s` : duration(v * 1000));
const count = (v: number) =>
  new Intl.NumberFormat('en-US', { notation: 'compact', maximumFractionDigits: 1 }).format(Math.round(v * 10) / 10);

const CHARTS: readonly ChartSpec[] = [
  {
    id: 'ops-duration',
    series: [
      { label: 'planned → loaded', color: '#2563eb', value: (b) => b.loadedSecondsAvg },
      { label: 'planned → transformed', color: '#7c3aed', value: (b) => b.transformedSecondsAvg },
    ],
    format: secs,
    empty: 'No finished tick in this window.',
  },
  {
    id: 'ops-rows',
    series: [{ label: 'rows loaded per tick', color: '#16a34a', value: (b) => b.rowsPerTick }],
    format: count,
    empty: 'No tick in this window.',
  },
  {
    id: 'ops-rejects',
    series: [
      { label: 'records rejected', color: '#dc2626', value: (b) => (b.ticks ? b.rejected : null), kind: 'histogram' },
    ],
    format: count,
    empty: 'No tick in this window.',
  },
  {
    id: 'ops-queue',
    series: [
      { label: 'fetch jobs waiting', color: '#b45309', value: (b) => b.fetchJobsWaitingMax },
      { label: 'load jobs waiting', color: '#0891b2', value: (b) => b.loadJobsWaitingMax },
    ],
    format: count,
    empty: 'No queue depth recorded in this window (ticks record it as they are planned).',
  },
  {
    id: 'ops-transform',
    series: [{ label: 'dbt run time', color: '#7c3aed', value: (b) => b.transformSecondsAvg }],
    format: secs,
    empty: 'No finished dbt run in this window.',
  },
];

/** A series with at most this many points is drawn with a marker on each. */
const SPARSE_POINTS = 60;

const drawn = new Map<string, { chart: Lwc.IChartApi; series: Lwc.ISeriesApi<'Line' | 'Histogram'>[] }>();

function chartFor(spec: ChartSpec) {
  let entry = drawn.get(spec.id);
  if (!entry) {
    const chart = createChart(byId(spec.id), {
      localization: { priceFormatter: spec.format },
      rightPriceScale: { borderVisible: false, scaleMargins: { top: 0.15, bottom: 0.05 } },
      handleScroll: false,
      handleScale: false,
    });
    const series = spec.series.map((s) =>
      s.kind === 'histogram'
        ? chart.addSeries(lwc().HistogramSeries, { color: s.color, priceLineVisible: false, lastValueVisible: false })
        : chart.addSeries(lwc().LineSeries, {
            color: s.color,
            lineWidth: 2,
            priceLineVisible: false,
            lastValueVisible: false,
            pointMarkersRadius: 2.5,
          }),
    ) as Lwc.ISeriesApi<'Line' | 'Histogram'>[];
    entry = { chart, series };
    drawn.set(spec.id, entry);
  }
  return entry;
}

function draw(spec: ChartSpec, ops: Operations): void {
  const { chart, series } = chartFor(spec);
  let points = 0;
  spec.series.forEach((s, i) => {
    const data = ops.buckets.map((b) => {
      const time = (Date.parse(b.start) / 1000) as Lwc.UTCTimestamp;
      const value = s.value(b);
      return value === null ? { time } : { time, value };
    });
    const values = data.filter((d) => 'value' in d).length;
    points += values;
    // A line joins only neighbouring buckets: a lone bucket between gaps is a point, visible only as a
    // marker. Markers on every bucket of a dense series would turn the line into a ribbon.
    if (s.kind !== 'histogram') series[i]!.applyOptions({ pointMarkersVisible: values <= SPARSE_POINTS });
    series[i]!.setData(data);
  });
  chart.timeScale().fitContent();
  const container = byId(spec.id);
  container.dataset.points = String(points);
  emptyState(container, points === 0 ? spec.empty : null);
}

/** One line over the charts: what the window holds, in totals. */
function summarise(ops: Operations): string {
  const sum = (v: (b: Bucket) => number) => ops.buckets.reduce((n, b) => n + v(b), 0);
  const ticks = sum((b) => b.ticks);
  const bucket = duration(ops.bucketSeconds * 1000);
  return ticks === 0
    ? `No tick in the last ${ops.window}.`
    : `Last ${ops.window}: ${ticks.toLocaleString('en-US')} ticks, ${sum((b) => b.rowsLoaded).toLocaleString('en-US')} rows loaded, ` +
        `${sum((b) => b.rejected).toLocaleString('en-US')} rejected, ${sum((b) => b.transformRuns)} dbt runs. ` +
        `One point per ${bucket}: the mean of its ticks (rejects: their sum; queue: the most any tick found waiting).`;
}

export async function loadOperations(): Promise<void> {
  const { operations } = await api<{ operations: Operations }>(
    `/pipeline/operations?window=${encodeURIComponent(windowKey)}`,
  );
  if (operations.window !== windowKey) return; // a newer choice is already loading
  byId('ops-summary').textContent = summarise(operations);
  for (const spec of CHARTS) draw(spec, operations);
  document.body.dataset.opsWindow = operations.window;
}

/** Under each chart, its series: colours set from script (the CSP refuses style attributes, not CSSOM). */
function legends(): void {
  for (const spec of CHARTS) {
    const legend = el('p', { class: 'legend muted ops-legend' });
    for (const s of spec.series) {
      const swatch = el('span', { class: 'ops-swatch', 'aria-hidden': 'true' });
      swatch.style.background = s.color;
      legend.append(el('span', { class: 'ops-key' }, swatch, s.label));
    }
    byId(spec.id).after(legend);
  }
}

/** The window buttons: a click loads that window and records it in the URL. */
export function initOperations(): void {
  showWindow();
  legends();
  for (const b of buttons())
    b.addEventListener('click', () => {
      if (b.dataset.window === windowKey) return;
      windowKey = b.dataset.window!;
      showWindow();
      replaceUrl();
      loadOperations().catch((error: unknown) => console.error('operations failed to load', error));
    });
}
