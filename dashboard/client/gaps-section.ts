/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
import { api, byId, duration, el, fill, utc } from './dom.js';

/** The Pipeline page's "Coverage gaps" section (GET /pipeline/gaps): open gaps and what repaired them. */
interface CoverageGap {
  gapId: number;
  from: string;
  to: string;
  seconds: number;
  coins: number;
  coinsTracked: number;
  status: string;
  repairedAt: string | null;
  historyRunId: string | null;
  pointsStored: number | null;
  calls: number;
  note: string | null;
}

export async function loadGaps(): Promise<void> {
  const { gaps, open } = await api<{ gaps: CoverageGap[]; open: number }>('/pipeline/gaps?limit=20');
  byId('gaps-total').textContent =
    gaps.length === 0
      ? 'No gap in coverage found: every stretch between loaded ticks is shorter than GAP_THRESHOLD.'
      : `${open} open${gaps.length === 20 ? '; newest 20 shown' : ''}.`;
  fill(
    byId('gaps').querySelector('tbody')!,
    gaps.map((g) =>
      el(
        'tr',
        { 'data-gap-id': String(g.gapId) },
        el('td', { class: 'left muted' }, `${utc(g.from)} → ${utc(g.to)}`),
        el('td', {}, duration(g.seconds * 1000)),
        el('td', {}, g.coins < g.coinsTracked ? `${g.coins} of ${g.coinsTracked}` : String(g.coins)),
        el(
          'td',
          { class: `left status-${g.status}`, title: g.historyRunId ? `history run ${g.historyRunId}` : undefined },
          g.status,
        ),
        el('td', {}, String(g.calls)),
        el('td', {}, g.pointsStored === null ? '—' : g.pointsStored.toLocaleString('en-US')),
        el('td', { class: 'left muted' }, g.note ?? (g.repairedAt ? `repaired ${utc(g.repairedAt)}` : '')),
      ),
    ),
    'No gap.',
    7,
  );
}
