import { toResult } from '../../bench/benchmark.js';
import { formatTable } from '../../bench/report.js';
import { median } from '../../bench/stats.js';

describe(toResult.name, () => {
  it('names the benchmark, keeps the reference and divides value by reference value', () => {
    const result = toResult('load', {
      metric: 'rows/s',
      value: 30_000,
      unit: 'rows/s',
      reference: 'psql \\copy',
      referenceValue: 40_000,
    });
    expect(result).toEqual({
      benchmark: 'load',
      metric: 'rows/s',
      value: 30_000,
      unit: 'rows/s',
      reference: 'psql \\copy',
      reference_value: 40_000,
      ratio: 0.75,
    });
  });

  it('lets a benchmark report under another name', () => {
    expect(
      toResult('tick-latency', {
        benchmark: 'memory',
        metric: 'peak RSS',
        value: 150,
        unit: 'MB',
        reference: 'target',
        referenceValue: 200,
      }).benchmark,
    ).toBe('memory');
  });

  it('has no ratio against a zero reference (e.g. allowed 429s)', () => {
    expect(
      toResult('fetch', { metric: '429s', value: 0, unit: 'responses', reference: 'allowed', referenceValue: 0 }).ratio,
    ).toBeNaN();
  });
});

describe(formatTable.name, () => {
  it('prints a header and one aligned row per result', () => {
    const table = formatTable([
      toResult('fetch', { metric: 'calls', value: 288, unit: 'calls/min', reference: 'allowed', referenceValue: 300 }),
    ]);
    const lines = table.split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^benchmark \| metric \| value \| unit +\| reference \| reference value \| ratio$/);
    expect(lines[2]).toMatch(/\| +0\.96$/); // numbers are right-aligned
    expect(new Set(lines.map((l) => l.length)).size).toBe(1);
  });
});

describe(median.name, () => {
  it('takes the middle value, or the mean of the two middle values', () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeNaN();
  });
});
