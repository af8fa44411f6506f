/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
import { connectLive } from './live-connection.js';
/**
 * Browser side, shared by the page modules: API calls, element building, number formats and the
 * live-update subscription. Compiled by tsc with the server code and served from /assets/js/.
 */

/**
 * The newest transform run a live update told us of. Sent with API calls so a replica that has not
 * seen that run yet checks before answering from its response cache (api/response-cache.ts).
 */
let seenRun: number | null = null;

export async function api<T>(path: string): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (seenRun !== null) headers['x-transform-run'] = String(seenRun);
  const response = await fetch(`/api/v1${path}`, { headers });
  if (!response.ok) {
    const body = (await response.json().catch(() => ({}))) as { error?: string };
    throw new Error(body.error ?? `HTTP ${response.status}`);
  }
  return (await response.json()) as T;
}

type Child = Node | string | number | null | undefined | false;

/** Builds an element; text children become text nodes, so nothing from the API is parsed as HTML. */
export function el(tag: string, attrs: Record<string, string | undefined> = {}, ...children: Child[]): HTMLElement {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) if (value !== undefined) node.setAttribute(name, value);
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    node.append(typeof child === 'object' ? child : String(child));
  }
  return node;
}

export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const node = document.getElementById(id);
  if (!node) throw new Error(`#${id} missing`);
  return node as T;
}

export function setText(id: string, text: string, className?: string): void {
  const node = byId(id);
  node.textContent = text;
  if (className !== undefined) node.className = `value ${className}`;
}

export function fill(tbody: HTMLElement, rows: HTMLElement[], emptyText: string, columns: number): void {
  tbody.replaceChildren(
    ...(rows.length ? rows : [el('tr', {}, el('td', { class: 'left muted', colspan: String(columns) }, emptyText))]),
  );
}

const compact = new Intl.NumberFormat('en-US', { notation: 'compact', maximumFractionDigits: 2 });

export function usdCompact(value: number | null | undefined): string {
  return value === null || value === undefined ? '—' : `$${compact.format(value)}`;
}

export function pct(value: number | null | undefined, digits = 2): string {
  return value === null || value === undefined ? '—' : `${value > 0 ? '+' : ''}${value.toFixed(digits)}%`;
}

export function trend(value: number | null | undefined): string {
  return value === null || value === undefined || value === 0 ? '' : value > 0 ? 'up' : 'down';
}

/** Every time on the pages, in one format: 2026-12-07 15:28:11 UTC. */
export function utc(value: string | null | undefined): string {
  const time = value ? new Date(value) : undefined;
  return time && !Number.isNaN(time.getTime()) ? `${time.toISOString().slice(0, 19).replace('T', ' ')} UTC` : '—';
}

/** 850 ms, 4.2 s, 6 min 55 s, 15 min, 2 h 5 min: no zero tail ("15 min 0 s"). */
export function duration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '—';
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const seconds = Math.round(ms / 1000);
  const [h, m, s] = [Math.floor(seconds / 3600), Math.floor(seconds / 60) % 60, seconds % 60];
  if (h > 0) return m ? `${h} h ${m} min` : `${h} h`;
  return s ? `${m} min ${s} s` : `${m} min`;
}

/** A chart price scale (and its crosshair label) for dollar amounts, in the cards' format: $9.77T. */
export const usdCompactPriceFormat = {
  type: 'custom',
  formatter: (price: number) => usdCompact(price),
  minMove: 1,
} as const;

export interface TransformFinished {
  transformRunId: number | null;
  runId: string | null;
  status: string | null;
  finishedAt: string | null;
  /** The newest snapshot load in the marts (live/transform-watch.ts). */
  dataAt: string | null;
}

/** An age in whole seconds (8 s, 16 min 3 s): it counts up each second, so no tenths. */
const age = (s: number) => (s < 60 ? `${Math.max(0, Math.floor(s))} s` : duration(Math.floor(s) * 1000));

/**
 * The header's warning on every page once its data is older than STALE_AFTER (the body's
 * data-stale-after): checked each second against the data time the newest live update told of, so
 * it appears by itself when loads or transforms stop (no event comes then), and goes when a run with
 * newer data does. Measured on this browser's clock.
 */
function staleWarning(): (dataAt: string | null) => void {
  const node = byId('stale-warning');
  const limit = Number(document.body.dataset.staleAfter);
  let at: number | null | undefined; // undefined until the first live update
  const show = () => {
    if (at === undefined || !(limit > 0)) return;
    const seconds = at === null ? null : (Date.now() - at) / 1000;
    const stale = seconds === null || seconds > limit;
    node.hidden = !stale;
    node.textContent = !stale
      ? ''
      : seconds === null
        ? 'Stale data: nothing loaded in 7 days'
        : `Stale data: ${age(seconds)} old (limit ${age(limit)})`;
  };
  window.setInterval(show, 1000);
  return (dataAt) => {
    at = dataAt ? Date.parse(dataAt) : null;
    show();
  };
}

/**
 * Subscribes to /api/v1/events. `refresh` runs whenever a transform run newer than the one the page
 * was drawn from finishes; "Last updated" shows when that run finished (the data's time), and the
 * body's data-transform-run attribute its id (tests wait on it).
 */
export function live(refresh: () => Promise<void>): void {
  const status = byId('live-status');
  const stamp = byId('last-updated');
  const warn = staleWarning();
  let seen: number | null | undefined;
  const source = connectLive(); // one event stream for all tabs (live-connection.ts)
  source.addEventListener('open', () => status.classList.add('on'));
  source.addEventListener('error', () => status.classList.remove('on'));
  source.addEventListener('transform', (event) => {
    const data = JSON.parse((event as MessageEvent<string>).data) as TransformFinished;
    const show = () => {
      stamp.textContent = data.finishedAt ? utc(data.finishedAt) : 'no transform yet';
      if (data.finishedAt) stamp.setAttribute('datetime', data.finishedAt);
      document.body.dataset.transformRun = String(data.transformRunId ?? '');
      warn(data.dataAt);
    };
    if (seen === undefined || seen === data.transformRunId) {
      seen = data.transformRunId;
      seenRun = data.transformRunId;
      show();
      return;
    }
    seen = data.transformRunId;
    seenRun = data.transformRunId;
    refresh().then(show, (error: unknown) => console.error('refresh failed', error));
  });
}

/**
 * Page state kept in the query string (a view can be linked and reloaded): `name`'s value when
 * `valid` accepts it, else `fallback`. A value the API would refuse (a hand-edited or outdated link),
 * or a name given twice, falls back and is listed in `ignored`, for urlNotice().
 */
export function urlParam(name: string, fallback: string, valid: (value: string) => boolean, ignored: string[]): string {
  const values = new URL(location.href).searchParams.getAll(name);
  if (values.length === 0) return fallback;
  if (values.length === 1 && valid(values[0]!)) return values[0]!;
  ignored.push(`${name}=${values.join(',')}`);
  return fallback;
}

/** A line after `anchor` saying what the link asked for that the page did not use. */
export function urlNotice(anchor: HTMLElement, text: string): void {
  const node =
    document.getElementById('url-notice') ??
    anchor.insertAdjacentElement('afterend', el('p', { id: 'url-notice', class: 'muted', role: 'status' }))!;
  node.textContent = text;
}

/** The notice for the names urlParam() ignored. */
export const ignoredNotice = (ignored: string[]) =>
  `Ignored ${ignored.join(', ')} in the link: not a valid value; showing the default instead.`;

/**
 * Wide tables scroll sideways in their box (.table), and on a phone nothing showed they did. While a
 * box's table is wider than the box, a line above it says so, and a shadow marks each side with more
 * to see (classes more-left and more-right, app.css). Boxes added later (the dbt runs) are picked up.
 */
function scrollHints(): void {
  const update = (box: HTMLElement) => {
    const hidden = box.scrollWidth - box.clientWidth;
    const right = hidden - box.scrollLeft > 1;
    box.classList.toggle('more-right', right);
    box.classList.toggle('more-left', box.scrollLeft > 1);
    const before = box.previousElementSibling;
    const hint = before?.classList.contains('scroll-hint') ? before : undefined;
    if (hidden > 1 && !hint) box.before(el('p', { class: 'scroll-hint muted' }, 'Wide table: scroll sideways →'));
    if (hidden <= 1) hint?.remove();
  };
  const sized = new ResizeObserver((entries) => {
    for (const entry of entries) {
      const box = (entry.target as HTMLElement).closest<HTMLElement>('.table');
      if (box) update(box);
    }
  });
  const watch = () => {
    for (const box of document.querySelectorAll<HTMLElement>('.table:not([data-scroll-hint])')) {
      box.dataset.scrollHint = '';
      box.addEventListener('scroll', () => update(box), { passive: true });
      sized.observe(box);
      if (box.firstElementChild) sized.observe(box.firstElementChild);
    }
  };
  new MutationObserver(watch).observe(document.body, { childList: true, subtree: true });
  watch();
}

/** Runs the page's first load, showing a failure in place of the content instead of a blank page. */
export function start(load: () => Promise<void>): void {
  scrollHints();
  load()
    .then(() => document.body.setAttribute('data-loaded', 'true'))
    .catch((error: unknown) => {
      document
        .querySelector('main')
        ?.prepend(
          el(
            'p',
            { class: 'stale', role: 'alert' },
            `Could not load: ${error instanceof Error ? error.message : String(error)}`,
          ),
        );
      document.body.setAttribute('data-loaded', 'error');
    });
  live(load);
}
