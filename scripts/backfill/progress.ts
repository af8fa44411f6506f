import type { HistoryProgress } from '../../core/history/history-ledger.js';

/**
 * One progress line: coins and calls done of the total, rows stored, the call rate since the command
 * started and the time left at that rate.
 */
export function formatProgress(first: HistoryProgress, now: HistoryProgress, elapsedMs: number): string {
  const finished = now.done + now.failed;
  const finishedHere = finished - (first.done + first.failed);
  const perMinute = elapsedMs > 0 ? (finishedHere / elapsedMs) * 60_000 : 0;
  const eta =
    now.pending === 0 ? 'done' : perMinute > 0 ? `ETA ${duration((now.pending / perMinute) * 60_000)}` : 'ETA —';
  return (
    `coins ${now.coinsDone}/${now.coins} · calls ${finished}/${now.items}` +
    (now.failed > 0 ? ` (${now.failed} failed)` : '') +
    ` · ${now.rowsInserted.toLocaleString('en-US')} rows · ${perMinute.toFixed(1)} calls/min · ${eta}`
  );
}

function duration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${s % 60} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}
