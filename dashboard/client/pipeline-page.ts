/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
import { api, byId, duration, el, fill, setText, start, utc } from './dom.js';
import { loadGaps } from './gaps-section.js';
import { initOperations, loadOperations } from './operations-section.js';

interface Run {
  runId: string;
  status: string;
  durationMs: number | null;
  batchesLoaded: number;
  batchesPlanned: number;
  batchesSuperseded: number;
  rowsLoaded: number;
  recordsRejected: number;
  transformJobId: string | null;
  transformStatus: string;
  startedAt: string;
  error: string | null;
}
interface Node {
  uniqueId: string;
  resourceType: string;
  name: string;
  status: string;
  executionTimeMs: number;
  failures: number | null;
  message: string | null;
}
interface TransformRun {
  transformRunId: number;
  runId: string;
  runner: string;
  status: string;
  startedAt: string;
  durationMs: number | null;
  modelsBuilt: number;
  testsPassed: number;
  testsWarned: number;
  testsFailed: number;
  error: string | null;
  nodes: Node[];
}
interface Freshness {
  lastLoadedAt: string | null;
  ageSeconds: number | null;
  staleAfterSeconds: number;
  stale: boolean;
  trackedCoins: number;
  staleCoins: number;
  lastTickSeconds: { load: number | null; transform: number | null } | null;
}
interface CallBudget {
  runId: string;
  callsNeeded: number;
  callsAllowed: number | null;
  overloaded: boolean;
  supersededLastHour: number;
}
interface QueueDepth {
  key: string;
  name: string;
  counts: Record<string, number> | null;
}
interface StaleCoin {
  id: string;
  name: string;
  symbol: string;
  rank: number | null;
  loadedAt: string;
  secondsSinceLoaded: number;
}
interface Quarantined {
  runId: string;
  batchNo: number;
  recordIndex: number;
  coinId: string | null;
  reason: string;
  quarantinedAt: string;
}

/** A run id on one line, shortened with "…" when long; the whole id in its title (app.css code.run-id). */
const runIdCode = (runId: string) => el('code', { class: 'run-id', title: runId }, runId);
const board = (queue: string | undefined, jobId: string) =>
  queue ? `/queues/queue/${encodeURIComponent(queue)}/${encodeURIComponent(jobId)}` : '/queues';
/** An age or limit in whole seconds (8 s, 6 min 55 s): it counts up each second, so no tenths. */
const seconds = (s: number | null | undefined) =>
  s === null || s === undefined ? '—' : s < 60 ? `${Math.floor(s)} s` : duration(Math.round(s) * 1000);

/**
 * The freshness cards count up between fetches and turn stale by themselves once the newest load is
 * older than STALE_AFTER: a page left open must not say "Fresh · 6 min ago" for ever when the
 * scheduler, Redis or this dashboard's connection stops. The newest load's age is measured against
 * the server's age plus the time since the fetch (or lastLoadedAt on this clock, if that is older),
 * the tick ages from when they were fetched.
 */
let freshness: { data: Freshness; fetchedAt: number } | undefined;
const REFRESH_MS = 30_000;

function showFreshness(): void {
  if (!freshness) return;
  const { data: f, fetchedAt } = freshness;
  const since = (Date.now() - fetchedAt) / 1000;
  const age =
    f.lastLoadedAt === null
      ? null
      : Math.max((f.ageSeconds ?? 0) + since, (Date.now() - Date.parse(f.lastLoadedAt)) / 1000);
  const stale = f.stale || (age !== null && age > f.staleAfterSeconds);
  setText('fresh-state', stale ? 'Stale' : 'Fresh', stale ? 'stale' : 'ok');
  setText(
    'fresh-age',
    age === null ? 'nothing in 7 days' : `${seconds(Math.floor(age))} ago (limit ${seconds(f.staleAfterSeconds)})`,
  );
  const tick = (s: number | null | undefined) => seconds(s === null || s === undefined ? s : Math.floor(s + since));
  setText('fresh-tick', `${tick(f.lastTickSeconds?.load)} / ${tick(f.lastTickSeconds?.transform)}`);
}

/**
 * Calls needed vs allowed, from the newest tick's ledger row: when a tick needs more CoinGecko calls
 * than the rate limit allows in one interval, newer ticks supersede unfetched batches, and the page
 * says so rather than letting the runs table alone show it.
 */
function showCallBudget(budget: CallBudget | null): void {
  const overload = byId('overload');
  if (!budget) {
    setText('call-budget', 'no tick yet', '');
    overload.hidden = true;
    return;
  }
  const allowed = budget.callsAllowed === null ? 'unlimited' : String(budget.callsAllowed);
  setText('call-budget', `${budget.callsNeeded} / ${allowed}`, budget.overloaded ? 'stale' : 'ok');
  overload.hidden = !budget.overloaded;
  overload.textContent = budget.overloaded
    ? `Overloaded: a tick needs ${budget.callsNeeded} CoinGecko calls but the rate limit allows ${allowed} per tick interval. ` +
      `Batches not fetched when the next tick is planned are superseded by it (${budget.supersededLastHour} in the last hour). ` +
      'Track fewer coins, lengthen TICK_INTERVAL or use a plan with a higher rate limit.'
    : '';
}

interface StaleObservation {
  coinId: string;
  vsCurrency: string;
  lastUpdated: string;
  runId: string;
  recordedAt: string;
}

async function load(): Promise<void> {
  const [{ freshness: f }, { callBudget }, { queues }, { runs }, { transformRuns }, quarantine, inactive] =
    await Promise.all([
      api<{ freshness: Freshness }>('/pipeline/freshness'),
      api<{ callBudget: CallBudget | null }>('/pipeline/call-budget'),
      api<{ queues: QueueDepth[] }>('/pipeline/queues'),
      api<{ runs: Run[] }>('/runs?limit=20'),
      api<{ transformRuns: TransformRun[] }>('/pipeline/transform-runs?limit=5'),
      api<{ records: Quarantined[]; total: number }>('/pipeline/quarantine?limit=50'),
      api<{ observations: StaleObservation[]; total: number; coins: number }>('/pipeline/stale-observations?limit=50'),
    ]);
  // Per-coin freshness comes from a mart: before the first transform there is none (503), not an error.
  const stale = await api<{ coins: StaleCoin[]; total: number }>('/pipeline/stale-coins?limit=50').catch(
    () => undefined,
  );
  await loadGaps();
  freshness = { data: f, fetchedAt: Date.now() };
  showFreshness();
  setText('fresh-coins', `${f.staleCoins} / ${f.trackedCoins}`, f.staleCoins > 0 ? 'stale' : '');
  showCallBudget(callBudget);

  fill(
    byId('queues').querySelector('tbody')!,
    queues.map((q) =>
      el(
        'tr',
        {},
        el('td', { class: 'left' }, el('a', { href: `/queues/queue/${encodeURIComponent(q.name)}` }, q.key)),
        ...['waiting', 'active', 'delayed', 'waiting-children', 'failed', 'completed'].map((s) =>
          el('td', { class: s === 'failed' && q.counts?.[s] ? 'down' : '' }, q.counts ? (q.counts[s] ?? 0) : '?'),
        ),
      ),
    ),
    'No queues.',
    7,
  );

  const transformQueue = queues.find((q) => q.key === 'transform')?.name;
  fill(
    byId('ticks').querySelector('tbody')!,
    runs.map((r) =>
      el(
        'tr',
        {},
        el('td', { class: 'left' }, runIdCode(r.runId)),
        el('td', { class: `left status-${r.status}`, title: r.error ?? undefined }, r.status),
        el('td', {}, duration(r.durationMs)),
        el(
          'td',
          {},
          `${r.batchesLoaded}/${r.batchesPlanned}` +
            (r.batchesSuperseded ? ` (${r.batchesSuperseded} superseded)` : ''),
        ),
        el('td', {}, r.rowsLoaded.toLocaleString('en-US')),
        el('td', { class: r.recordsRejected ? 'down' : '' }, r.recordsRejected),
        el(
          'td',
          { class: `left status-${r.transformStatus}` },
          r.transformJobId
            ? el('a', { href: board(transformQueue, r.transformJobId) }, r.transformStatus)
            : r.transformStatus,
        ),
        el('td', { class: 'left muted' }, utc(r.startedAt)),
      ),
    ),
    'No ticks yet.',
    8,
  );

  byId('transform-runs').replaceChildren(
    ...(transformRuns.length === 0
      ? [el('p', { class: 'muted' }, 'No dbt run yet.')]
      : transformRuns.map((t, i) => {
          const details = el(
            'details',
            { 'data-transform-run-id': String(t.transformRunId) },
            el(
              'summary',
              {},
              el('span', { class: `status-${t.status}` }, t.status),
              ` · run ${t.transformRunId} for `,
              runIdCode(t.runId),
              ` · ${t.runner} · ${duration(t.durationMs)} · ${t.modelsBuilt} models · tests ${t.testsPassed} passed, ${t.testsWarned} warned, ${t.testsFailed} failed · ${utc(t.startedAt)}`,
            ),
            t.error ? el('p', { class: 'stale' }, t.error) : null,
            el(
              'div',
              { class: 'table' },
              el(
                'table',
                {},
                el(
                  'thead',
                  {},
                  el(
                    'tr',
                    {},
                    el('th', { class: 'left' }, 'Node'),
                    el('th', { class: 'left' }, 'Type'),
                    el('th', { class: 'left' }, 'Result'),
                    el('th', {}, 'Time'),
                    el('th', { class: 'left' }, 'Message'),
                  ),
                ),
                el(
                  'tbody',
                  {},
                  ...t.nodes.map((n) =>
                    el(
                      'tr',
                      {},
                      el('td', { class: 'left' }, n.name),
                      el('td', { class: 'left muted' }, n.resourceType),
                      el(
                        'td',
                        { class: `left status-${n.status.replace(' ', '-')}` },
                        n.status + (n.failures ? ` (${n.failures})` : ''),
                      ),
                      el('td', {}, duration(n.executionTimeMs)),
                      el('td', { class: 'left muted' }, n.message ?? ''),
                    ),
                  ),
                ),
              ),
            ),
          );
          if (i === 0) details.setAttribute('open', '');
          return details;
        })),
  );

  byId('stale-total').textContent = stale
    ? `${stale.total} coin${stale.total === 1 ? '' : 's'} with no snapshot loaded within ${seconds(f.staleAfterSeconds)}${stale.total > stale.coins.length ? `, stalest ${stale.coins.length} shown` : ''}.`
    : 'Per-coin freshness appears after the first transform run.';
  fill(
    byId('stale-coins').querySelector('tbody')!,
    (stale?.coins ?? []).map((c) =>
      el(
        'tr',
        {},
        el(
          'td',
          { class: 'left' },
          el('a', { href: `/coins/${encodeURIComponent(c.id)}` }, `${c.name} (${c.symbol.toUpperCase()})`),
        ),
        el('td', {}, c.rank === null ? '—' : String(c.rank)),
        el('td', {}, utc(c.loadedAt)),
        el('td', {}, seconds(c.secondsSinceLoaded)),
      ),
    ),
    'No stale coin.',
    4,
  );

  // Observations older than the raw retention window: CoinGecko lists these coins, but not loaded.
  byId('stale-observations-total').textContent =
    `${inactive.coins} coin${inactive.coins === 1 ? '' : 's'} listed by CoinGecko with a last update older than the raw retention window: recorded once each, not loaded${inactive.total > inactive.observations.length ? `; newest ${inactive.observations.length} shown` : ''}.`;
  fill(
    byId('stale-observations').querySelector('tbody')!,
    inactive.observations.map((o) =>
      el(
        'tr',
        {},
        el('td', { class: 'left' }, o.coinId),
        el('td', { class: 'left' }, utc(o.lastUpdated)),
        el('td', { class: 'left muted' }, utc(o.recordedAt)),
        el('td', { class: 'left' }, el('code', {}, o.runId)),
      ),
    ),
    'None.',
    4,
  );

  byId('quarantine-total').textContent =
    `${quarantine.total} rejected record${quarantine.total === 1 ? '' : 's'} in all${quarantine.total > quarantine.records.length ? `, newest ${quarantine.records.length} shown` : ''}.`;
  fill(
    byId('quarantine').querySelector('tbody')!,
    quarantine.records.map((q) =>
      el(
        'tr',
        {},
        el('td', { class: 'left muted' }, utc(q.quarantinedAt)),
        el('td', { class: 'left' }, runIdCode(q.runId), ` / ${q.batchNo} / ${q.recordIndex}`),
        el('td', { class: 'left' }, q.coinId ?? '—'),
        el('td', { class: 'left' }, q.reason),
      ),
    ),
    'Nothing quarantined.',
    4,
  );
}

interface HistoryRun {
  historyRunId: string;
  kind: string;
  status: string;
  rangeFrom: string;
  rangeTo: string;
  coins: number;
  calls: { total: number; done: number; failed: number; pending: number };
  rowsStored: number;
  pointsRejected: number;
  failures: Array<{ coinId: string; error: string }>;
}

/** Backfills, the first-start backfill and gap repairs, with their progress (the ledger's history tables). */
async function loadHistory(): Promise<void> {
  const { historyRuns } = await api<{ historyRuns: HistoryRun[] }>('/pipeline/history?limit=10');
  fill(
    byId('history-runs').querySelector('tbody')!,
    historyRuns.map((r) =>
      el(
        'tr',
        { 'data-status': r.status },
        el('td', { class: 'left' }, runIdCode(r.historyRunId)),
        el('td', { class: 'left' }, r.kind),
        el('td', { class: `left ${r.status === 'failed' ? 'down' : r.status === 'partial' ? 'stale' : ''}` }, r.status),
        el('td', { class: 'left muted' }, `${utc(r.rangeFrom)} → ${utc(r.rangeTo)}`),
        el('td', {}, String(r.coins)),
        el('td', {}, `${r.calls.done}/${r.calls.failed}/${r.calls.total}`),
        el('td', {}, r.rowsStored.toLocaleString('en-US')),
        el('td', {}, String(r.pointsRejected)),
        el('td', { class: 'left' }, r.failures.map((f) => `${f.coinId}: ${f.error}`).join('; ') || '—'),
      ),
    ),
    'No history run yet.',
    9,
  );
}

initOperations();
start(async () => {
  await Promise.all([load(), loadHistory(), loadOperations()]);
});
window.setInterval(showFreshness, 1000);
// Queues, ticks and freshness change without a transform run (which is all the live update reports).
let refreshing = false;
window.setInterval(() => {
  if (refreshing) return;
  refreshing = true;
  Promise.all([load(), loadHistory(), loadOperations()])
    .catch((error: unknown) => console.error('refresh failed', error))
    .finally(() => {
      refreshing = false;
    });
}, REFRESH_MS);
