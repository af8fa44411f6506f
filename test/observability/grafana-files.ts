import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';

/** Tests run from the repository root (jest's rootDir). */
export const GRAFANA_DIR = path.join(process.cwd(), 'grafana');
export const PROMETHEUS_UID = 'cdp-prometheus';
export const POSTGRES_UID = 'cdp-postgres';

export interface PromQuery {
  readonly source: string;
  readonly expr: string;
}

export interface SqlQuery {
  readonly source: string;
  readonly sql: string;
  readonly format: 'time_series' | 'table';
  /** The panel's type (`candlestick`, `table`...); undefined for alert rules. */
  readonly panelType?: string;
}

/** A dashboard template variable: its name and the values a user can pick (query variables: their SQL). */
export interface TemplateVariable {
  readonly dashboard: string;
  readonly name: string;
  readonly type: string;
  readonly sql?: string;
  readonly values: readonly string[];
}

export interface AlertRule {
  readonly uid: string;
  readonly title: string;
  readonly for: string;
  readonly annotations: Record<string, string>;
  readonly query: { datasourceUid: string; expr?: string; rawSql?: string; format?: string };
  readonly threshold: { type: 'gt' | 'lt'; value: number };
  readonly raw: Record<string, unknown>;
}

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export function yamlFile(relative: string): Json {
  return parse(readFileSync(path.join(GRAFANA_DIR, relative), 'utf8')) as Json;
}

export function dashboards(): Array<{ file: string; json: Json }> {
  const dir = path.join(GRAFANA_DIR, 'dashboards');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .map((file) => ({ file, json: JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as Json }));
}

/** Every panel, rows' nested panels included. */
export function panels(dashboard: Json): Json[] {
  return (dashboard.panels as Json[]).flatMap((p) => [p, ...((p.panels as Json[] | undefined) ?? [])]);
}

export function alertRules(): AlertRule[] {
  const dir = path.join(GRAFANA_DIR, 'provisioning', 'alerting');
  return readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f))
    .flatMap((f) => (yamlFile(path.join('provisioning', 'alerting', f)).groups as Json[] | undefined) ?? [])
    .flatMap((group) => group.rules as Json[])
    .map((rule) => {
      const data = rule.data as Json[];
      const query = data.find((d) => d.datasourceUid !== '__expr__')!;
      const condition = data.find((d) => d.refId === rule.condition)!;
      const evaluator = condition.model.conditions[0].evaluator as { type: 'gt' | 'lt'; params: number[] };
      return {
        uid: rule.uid,
        title: rule.title,
        for: rule.for,
        annotations: rule.annotations,
        query: {
          datasourceUid: query.datasourceUid,
          expr: query.model.expr,
          rawSql: query.model.rawSql,
          format: query.model.format,
        },
        threshold: { type: evaluator.type, value: evaluator.params[0]! },
        raw: rule,
      };
    });
}

/** Every PromQL expression of every dashboard panel and alert rule, named by where it is. */
export function promQueries(): PromQuery[] {
  const fromPanels = dashboards().flatMap(({ file, json }) =>
    panels(json).flatMap((panel) =>
      ((panel.targets as Json[] | undefined) ?? [])
        .filter((t) => (t.datasource?.uid ?? panel.datasource?.uid) === PROMETHEUS_UID)
        .map((t) => ({ source: `${file} / ${panel.title} / ${t.refId}`, expr: t.expr as string })),
    ),
  );
  const fromRules = alertRules()
    .filter((r) => r.query.datasourceUid === PROMETHEUS_UID)
    .map((r) => ({ source: `alert ${r.uid}`, expr: r.query.expr! }));
  return [...fromPanels, ...fromRules];
}

export function sqlQueries(): SqlQuery[] {
  const fromPanels = dashboards().flatMap(({ file, json }) =>
    panels(json).flatMap((panel) =>
      ((panel.targets as Json[] | undefined) ?? [])
        .filter((t) => (t.datasource?.uid ?? panel.datasource?.uid) === POSTGRES_UID)
        .map((t) => ({
          source: `${file} / ${panel.title} / ${t.refId}`,
          sql: t.rawSql as string,
          format: t.format as SqlQuery['format'],
          panelType: panel.type as string,
        })),
    ),
  );
  const fromRules = alertRules()
    .filter((r) => r.query.datasourceUid === POSTGRES_UID)
    .map((r) => ({ source: `alert ${r.uid}`, sql: r.query.rawSql!, format: r.query.format as SqlQuery['format'] }));
  return [...fromPanels, ...fromRules];
}

/** The dbt marts schema (TRANSFORM_SCHEMA `analytics` + `_marts`), which the Market dashboard reads. */
export const MARTS_SCHEMA = 'analytics_marts';

/** Whether a query reads the dbt marts (and so needs a warehouse with transformed data). */
export function readsMarts(sql: string): boolean {
  return new RegExp(`\\b${MARTS_SCHEMA}\\.`).test(sql);
}

/** Schema-qualified relations a query names, e.g. `pipeline.pipeline_runs`, `analytics_marts.fct_coin_candles_$interval`. */
export function relationsOf(sql: string): string[] {
  return [
    ...new Set([...sql.matchAll(/\b(raw|pipeline|analytics_\w+)\.(\w+(?:\$\w+)?)/g)].map((m) => `${m[1]}.${m[2]}`)),
  ];
}

export function templateVariables(): TemplateVariable[] {
  return dashboards().flatMap(({ file, json }) =>
    ((json.templating?.list as Json[] | undefined) ?? []).map((v) => ({
      dashboard: file,
      name: v.name as string,
      type: v.type as string,
      sql:
        v.type === 'query' && v.datasource?.uid === POSTGRES_UID
          ? ((typeof v.query === 'string' ? v.query : v.query?.rawSql) as string)
          : undefined,
      values: ((v.options as Json[] | undefined) ?? []).map((o) => String(o.value)),
    })),
  );
}

/**
 * Dashboard variables substituted as Grafana's SQL datasources do for a single-value variable: the
 * value as is (quotes doubled), so panels write `'$coin'` themselves. Every `$name` / `${name}` must
 * be given a value; Grafana's own `$__` macros are left to expandMacros.
 */
export function expandSqlVariables(sql: string, values: Record<string, string>): string {
  return sql.replace(/\$\{(\w+)\}|\$(?!__)(\w+)/g, (_m, braced: string | undefined, bare: string | undefined) => {
    const name = (braced ?? bare)!;
    if (!(name in values)) throw new Error(`expandSqlVariables: no value for $${name}`);
    return values[name]!.replaceAll("'", "''");
  });
}

/**
 * Dashboard template variables as a one-off Grafana would render them for "All" over a test's whole
 * run: multi-value variables match everything; the range and rate interval cover the test.
 */
export function expandPromVariables(expr: string, range = '10m'): string {
  return expr
    .replaceAll('$__rate_interval', '1m')
    .replaceAll('$__range', range)
    .replace(/\$queue\b/g, '.*');
}

const PROMQL_WORDS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'and',
  'or',
  'unless',
  'offset',
  'bool',
  'inf',
  'nan',
]);

/** Metric names a PromQL expression selects (functions, keywords, labels and strings removed). */
export function metricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, '')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, '')
    .replace(/\[[^\]]*\]/g, '');
  const names = new Set<string>();
  for (const match of stripped.matchAll(/[A-Za-z_:][\w:]*(\s*\()?/g)) {
    const word = match[0].replace(/\s*\($/, '');
    if (match[1] || PROMQL_WORDS.has(word.toLowerCase()) || /^\d/.test(word)) continue;
    names.add(word);
  }
  return [...names];
}
