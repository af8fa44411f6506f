import type { HistoryProgress } from '../../../core/history/history-ledger.js';
import { formatProgress } from '../../../scripts/backfill/progress.js';

const start: HistoryProgress = {
  items: 100,
  done: 0,
  failed: 0,
  pending: 100,
  calls: 0,
  rowsInserted: 0,
  pointsRejected: 0,
  coinsDone: 0,
  coins: 50,
};
const MINUTE_MS = 60_000;

describe(formatProgress.name, () => {
  it('shows coins and calls done of the total, rows, the rate and the time left at that rate', () => {
    const now = { ...start, done: 30, pending: 70, calls: 31, rowsInserted: 21_630, coinsDone: 10 };
    expect(formatProgress(start, now, MINUTE_MS)).toBe(
      'coins 10/50 · calls 30/100 · 21,630 rows · 30.0 calls/min · ETA 2 min 20 s',
    );
  });

  it('counts failed calls as finished and says how many failed', () => {
    const now = { ...start, done: 8, failed: 2, pending: 90, coinsDone: 5 };
    expect(formatProgress(start, now, MINUTE_MS)).toBe(
      'coins 5/50 · calls 10/100 (2 failed) · 0 rows · 10.0 calls/min · ETA 9 min 0 s',
    );
  });

  it('measures the rate from what finished since the command started, not what an earlier run did', () => {
    const resumed = { ...start, done: 60, pending: 40 };
    const now = { ...resumed, done: 80, pending: 20 };
    expect(formatProgress(resumed, now, 2 * MINUTE_MS)).toContain('· 10.0 calls/min · ETA 2 min 0 s');
  });

  it('has no ETA before anything finished', () => {
    expect(formatProgress(start, start, 0)).toBe('coins 0/50 · calls 0/100 · 0 rows · 0.0 calls/min · ETA —');
    expect(formatProgress(start, start, 5000)).toContain('ETA —');
  });

  it('says done when nothing is pending', () => {
    const now = { ...start, done: 100, pending: 0, coinsDone: 50 };
    expect(formatProgress(start, now, 10 * MINUTE_MS)).toMatch(/· done$/);
  });

  it('writes long ETAs in hours and minutes, short ones in seconds', () => {
    const slow = { ...start, items: 10_000, done: 1, pending: 9_999 };
    expect(formatProgress({ ...start, items: 10_000, pending: 10_000 }, slow, MINUTE_MS)).toContain('ETA 166 h 39 min');
    const fast = { ...start, done: 99, pending: 1 };
    expect(formatProgress(start, fast, MINUTE_MS)).toContain('ETA 1 s');
  });
});
