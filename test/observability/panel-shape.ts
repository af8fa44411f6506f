import type pg from 'pg';

/** Postgres type oids Grafana reads as numbers, and timestamptz. */
export const NUMERIC = new Set([20, 21, 23, 700, 701, 1700]);
export const TIMESTAMPTZ = 1184;

/**
 * What every Grafana SQL panel needs from its query: rows, unique column names, and for a time
 * series a `time` column (timestamptz or epoch seconds), at least one numeric value column, and
 * rows sorted by time. Returns the column names for panel-specific checks.
 */
export function expectPanelShape(result: pg.QueryResult, format: string | undefined): string[] {
  expect(result.rows.length).toBeGreaterThan(0);
  const names = result.fields.map((f) => f.name);
  expect(new Set(names).size).toBe(names.length);
  if (format === 'time_series') {
    const time = result.fields.find((f) => f.name === 'time');
    expect(time && (time.dataTypeID === TIMESTAMPTZ || NUMERIC.has(time.dataTypeID))).toBe(true);
    expect(result.fields.filter((f) => f.name !== 'time' && NUMERIC.has(f.dataTypeID)).length).toBeGreaterThan(0);
    const times = result.rows.map((r) =>
      new Date(typeof r.time === 'object' ? r.time : Number(r.time) * 1000).getTime(),
    );
    expect(times).toEqual([...times].sort((a, b) => a - b));
  }
  return names;
}
