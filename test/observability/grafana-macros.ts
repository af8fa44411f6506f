/**
 * The Grafana PostgreSQL macros our panels and rules use, expanded the way Grafana's Postgres
 * datasource does (pkg/tsdb/grafana-postgresql-datasource/macros.go) for a given time range.
 * Unknown macros throw: a new macro in a panel must be taught here before its query is tested.
 */
export function expandMacros(sql: string, range: { from: Date; to: Date }, intervalSeconds = 60): string {
  const from = `'${range.from.toISOString()}'`;
  const to = `'${range.to.toISOString()}'`;
  const expanded = sql
    .replace(/\$__timeFilter\(([^)]+)\)/g, (_m, col: string) => `${col.trim()} BETWEEN ${from} AND ${to}`)
    .replace(/\$__timeFrom\(\)/g, from)
    .replace(/\$__timeTo\(\)/g, to)
    .replace(
      /\$__timeGroupAlias\(([^,)]+),\s*'([^']+)'\)/g,
      (_m, col: string, i: string) => `${timeGroup(col, i)} AS "time"`,
    )
    .replace(/\$__timeGroup\(([^,)]+),\s*'([^']+)'\)/g, (_m, col: string, i: string) => timeGroup(col, i))
    .replace(/\$__interval\b/g, `'${intervalSeconds}s'`);
  const leftover = /\$__\w+/.exec(expanded);
  if (leftover) throw new Error(`expandMacros: macro ${leftover[0]} is not supported by the test expander`);
  return expanded;
}

function timeGroup(column: string, interval: string): string {
  const seconds = intervalSeconds(interval);
  return `floor(extract(epoch from ${column.trim()})/${seconds})*${seconds}`;
}

function intervalSeconds(interval: string): number {
  const match = /^(\d+)(s|m|h|d)$/.exec(interval);
  if (!match) throw new Error(`expandMacros: unsupported interval '${interval}'`);
  return Number(match[1]) * { s: 1, m: 60, h: 3600, d: 86_400 }[match[2] as 's' | 'm' | 'h' | 'd'];
}
