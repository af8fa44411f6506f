import { formatDurationMs, parseDurationMs } from '../../../core/config/durations.js';

describe(parseDurationMs.name, () => {
  it.each([
    ['250ms', 250],
    ['1500', 1500],
    ['30s', 30_000],
    ['1.5s', 1500],
    ['5m', 300_000],
    ['1h', 3_600_000],
    ['7d', 604_800_000],
    [' 90s ', 90_000],
    ['90 s', 90_000],
    ['2H', 7_200_000],
    ['0', 0],
  ])('reads %j as %d ms', (text, ms) => {
    expect(parseDurationMs(text)).toBe(ms);
  });

  it.each(['', 'soon', '-5s', '5 minutes', '5x', '1e3', '1,5s', 's', '5s5'])('rejects %j', (text) => {
    expect(parseDurationMs(text)).toBeUndefined();
  });
});

describe(formatDurationMs.name, () => {
  it.each([
    [86_400_000, '1d'],
    [7_200_000, '2h'],
    [120_000, '2m'],
    [90_000, '90s'],
    [1500, '1500ms'],
    [0, '0ms'],
  ])('renders %d ms as %j', (ms, text) => {
    expect(formatDurationMs(ms)).toBe(text);
  });

  it('round-trips through parseDurationMs', () => {
    for (const ms of [1, 999, 1000, 61_000, 3_600_000, 172_800_000])
      expect(parseDurationMs(formatDurationMs(ms))).toBe(ms);
  });
});
