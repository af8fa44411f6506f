import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { exportedSeriesNames } from './exported-metrics.js';
import {
  alertRules,
  dashboards,
  MARTS_SCHEMA,
  metricNames,
  panels,
  POSTGRES_UID,
  PROMETHEUS_UID,
  promQueries,
  relationsOf,
  sqlQueries,
  templateVariables,
  yamlFile,
} from './grafana-files.js';

const ROOT = process.cwd();
const PROCESS_KINDS = ['scheduler', 'fetch-worker', 'load-worker', 'transform-worker', 'dashboard'];

describe('Prometheus configuration', () => {
  it.each(['prometheus.yml', 'prometheus.local.yml'])('%s passes promtool check config', (file) => {
    const output = execFileSync('promtool', ['check', 'config', path.join(ROOT, 'prometheus', file)], {
      encoding: 'utf8',
    });
    expect(output).toContain('SUCCESS');
  });

  it('discovers every replica of each worker kind through DNS on 9464, and the dashboard on 3000, labelled by kind', () => {
    const config = parse(readFileSync(path.join(ROOT, 'prometheus', 'prometheus.yml'), 'utf8')) as {
      scrape_configs: Array<{
        job_name: string;
        dns_sd_configs: Array<{ names: string[]; type: string; port: number }>;
        relabel_configs: Array<{ target_label: string; replacement: string }>;
      }>;
    };
    const byKind = Object.fromEntries(
      config.scrape_configs.map((job) => [
        job.relabel_configs.find((r) => r.target_label === 'kind')?.replacement,
        job.dns_sd_configs[0],
      ]),
    );
    expect(Object.keys(byKind).sort()).toEqual([...PROCESS_KINDS].sort());
    for (const kind of PROCESS_KINDS) {
      expect(byKind[kind]).toEqual(
        expect.objectContaining({ names: [kind], type: 'A', port: kind === 'dashboard' ? 3000 : 9464 }),
      );
    }
  });
});

describe('Grafana provisioning', () => {
  const datasources = yamlFile('provisioning/datasources/datasources.yaml').datasources as Array<Record<string, any>>; // eslint-disable-line @typescript-eslint/no-explicit-any
  const uids = new Set(datasources.map((d) => d.uid as string));

  it('pins the uids every dashboard and rule refers to, with the warehouse credentials taken from the environment', () => {
    expect([...uids].sort()).toEqual([POSTGRES_UID, PROMETHEUS_UID].sort());
    const postgres = datasources.find((d) => d.uid === POSTGRES_UID)!;
    expect(postgres.type).toBe('grafana-postgresql-datasource');
    expect(postgres.user).toMatch(/^\$(\{\w+\}|__env\{\w+\})$/);
    expect(postgres.secureJsonData.password).toMatch(/^\$(\{\w+\}|__env\{\w+\})$/);
  });

  it('loads dashboards from files that the UI cannot overwrite', () => {
    const providers = yamlFile('provisioning/dashboards/dashboards.yaml').providers as Array<Record<string, unknown>>;
    expect(providers).toEqual([expect.objectContaining({ type: 'file', allowUiUpdates: false })]);
  });

  it('has dashboards with unique uids whose panels and variables use only provisioned datasources', () => {
    const all = dashboards();
    expect(all.map((d) => d.file)).toContain('pipeline-health.json');
    expect(new Set(all.map((d) => d.json.uid)).size).toBe(all.length);
    for (const { file, json } of all) {
      for (const panel of panels(json).filter((p) => p.type !== 'row')) {
        const used = [
          panel.datasource?.uid,
          ...(panel.targets ?? []).map((t: { datasource?: { uid?: string } }) => t.datasource?.uid),
        ];
        for (const uid of used)
          expect({ file, panel: panel.title, uid, known: uids.has(uid) }).toEqual(
            expect.objectContaining({ known: true }),
          );
      }
      for (const variable of json.templating.list) {
        // Custom variables list their values and query nothing.
        if (variable.type === 'custom')
          expect({ file, variable: variable.name, options: variable.options.length > 0 }).toEqual(
            expect.objectContaining({ options: true }),
          );
        else
          expect({ file, variable: variable.name, known: uids.has(variable.datasource?.uid) }).toEqual(
            expect.objectContaining({ known: true }),
          );
      }
    }
  });

  it('gives the Market dashboard a coin variable from dim_coins and an interval variable, which the candlestick panel uses', () => {
    const market = dashboards().find((d) => d.file === 'market.json')!.json;
    const variables = templateVariables().filter((v) => v.dashboard === 'market.json');
    expect(variables.find((v) => v.name === 'coin')).toEqual(
      expect.objectContaining({ type: 'query', sql: expect.stringContaining(`${MARTS_SCHEMA}.dim_coins`) }),
    );
    expect(variables.find((v) => v.name === 'interval')?.values).toEqual(['hourly', 'daily']);
    const candles = panels(market).filter((p) => p.type === 'candlestick');
    expect(candles).toHaveLength(1);
    expect(candles[0].targets[0].rawSql).toMatch(/fct_coin_candles_\$interval[\s\S]*coin_id = '\$coin'/);
    // Every query the panels send mentions only variables the dashboard defines.
    const names = new Set(variables.map((v) => v.name));
    for (const panel of panels(market)) {
      for (const target of panel.targets ?? []) {
        for (const [, name] of (target.rawSql as string).matchAll(/\$(?!__)(\w+)/g))
          expect({ panel: panel.title, name, known: names.has(name!) }).toEqual(
            expect.objectContaining({ known: true }),
          );
      }
    }
  });

  it('gives the pipeline health dashboard a queue variable that its queue panels filter on', () => {
    const health = dashboards().find((d) => d.file === 'pipeline-health.json')!.json;
    expect(health.templating.list.map((v: { name: string }) => v.name)).toContain('queue');
    expect(promQueries().filter((q) => q.expr.includes('queue=~"$queue"')).length).toBeGreaterThanOrEqual(4);
  });

  it('gives every alert rule a known datasource, a summary, a description of what to check, a `for` and a linked dashboard', () => {
    const dashboardUids = new Set(dashboards().map((d) => d.json.uid));
    const rules = alertRules();
    expect(rules.map((r) => r.uid)).toEqual(
      expect.arrayContaining([
        'cdp-data-stale',
        'cdp-coins-stale',
        'cdp-coverage-gap-open',
        'cdp-ticks-failing',
        'cdp-queue-backlog',
        'cdp-coingecko-429',
        'cdp-worker-kind-down',
        'cdp-schema-drift',
        'cdp-transform-test-failures',
        'cdp-price-anomalies',
      ]),
    );
    for (const rule of rules) {
      expect({ rule: rule.uid, known: uids.has(rule.query.datasourceUid) }).toEqual({ rule: rule.uid, known: true });
      expect(rule.annotations.summary?.length).toBeGreaterThan(10);
      expect(rule.annotations.description?.length).toBeGreaterThan(60);
      expect(rule.for).toMatch(/^\d+[smh]$/);
      expect(dashboardUids.has(rule.raw.dashboardUid)).toBe(true);
      expect(Number.isFinite(rule.threshold.value)).toBe(true);
      // Grafana alert conditions only accept time series from SQL.
      if (rule.query.rawSql) expect(rule.query.format).toBe('time_series');
      // Grafana may expand `$...` in provisioned rule models as environment variables (it has, by
      // version), which turns $__timeFilter(x) into (x): rule SQL states its window with now().
      if (rule.query.rawSql)
        expect({ rule: rule.uid, dollar: rule.query.rawSql.includes('$') }).toEqual({ rule: rule.uid, dollar: false });
    }
  });

  it('sends alerts to a webhook whose URL comes from the environment, through a policy using that contact point', () => {
    const points = yamlFile('provisioning/alerting/contact-points.yaml').contactPoints as Array<{
      name: string;
      receivers: Array<{ type: string; settings: { url: string } }>;
    }>;
    expect(points[0]!.receivers[0]).toEqual(
      expect.objectContaining({
        type: 'webhook',
        settings: expect.objectContaining({ url: expect.stringMatching(/^\$\{\w+\}$/) }),
      }),
    );
    const policies = yamlFile('provisioning/alerting/policies.yaml').policies as Array<{
      receiver: string;
      routes: Array<{ receiver: string }>;
    }>;
    const names = new Set(points.map((p) => p.name));
    for (const policy of policies)
      for (const receiver of [policy.receiver, ...policy.routes.map((r) => r.receiver)])
        expect(names.has(receiver)).toBe(true);
  });
});

describe('metric names in panels and alert rules', () => {
  const exported = exportedSeriesNames();

  it('reads metric names out of PromQL (and so can catch a typo)', () => {
    expect(
      metricNames('sum by (queue) (rate(cdp_jobs_totl{queue=~"$queue",status="completed"}[5m])) / on (queue) up'),
    ).toEqual(['cdp_jobs_totl', 'up']);
    expect(
      metricNames(
        'time() - max(cdp_freshness_last_load_timestamp_seconds) or label_replace(vector(0), "kind", "x", "", "")',
      ),
    ).toEqual(['cdp_freshness_last_load_timestamp_seconds']);
    expect(exported.has('cdp_jobs_totl')).toBe(false);
  });

  it('only uses metrics some pipeline process exports', () => {
    const unknown = promQueries().flatMap((q) =>
      metricNames(q.expr)
        .filter((name) => !exported.has(name))
        .map((name) => `${q.source}: ${name}`),
    );
    expect(unknown).toEqual([]);
  });

  it('has queries to test: PromQL in panels and rules, SQL in panels and the test-failure rule', () => {
    expect(promQueries().length).toBeGreaterThan(20);
    expect(sqlQueries().map((q) => q.source)).toEqual(expect.arrayContaining(['alert cdp-transform-test-failures']));
  });
});

describe('tables in SQL panels and alert rules', () => {
  const MIGRATIONS = readdirSync(path.join(ROOT, 'core', 'db', 'migrations'))
    .map((file) => readFileSync(path.join(ROOT, 'core', 'db', 'migrations', file), 'utf8'))
    .join('\n');
  const MARTS_DIR = path.join(ROOT, 'dbt', 'models', 'marts');
  const martModels = new Set(
    readdirSync(MARTS_DIR, { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.sql'))
      .map((f) => path.basename(f, '.sql')),
  );
  const variableValues = Object.fromEntries(
    templateVariables()
      .filter((v) => v.values.length > 0)
      .map((v) => [v.name, v.values]),
  );

  /** A relation with `$variable` in its name stands for one relation per value of the variable. */
  const expand = (relation: string): string[] => {
    const match = /\$(\w+)/.exec(relation);
    if (!match) return [relation];
    return (variableValues[match[1]!] ?? [`<no values for $${match[1]}>`]).flatMap((value) =>
      expand(relation.replace(match[0], value)),
    );
  };
  const exists = (relation: string): boolean => {
    const [schema, name] = relation.split('.') as [string, string];
    if (schema === MARTS_SCHEMA) return martModels.has(name);
    if (schema === 'raw' || schema === 'pipeline')
      return new RegExp(`create table ${schema}\\.${name}\\b`).test(MIGRATIONS);
    return false; // staging and intermediate models are not for dashboards
  };

  it('reads table names out of SQL (and so can catch a typo)', () => {
    expect(
      relationsOf(
        "select * from analytics_marts.fct_coin_candles_$interval c join pipeline.pipeline_runz r on r.x = c.y where c.coin_id = '$coin'",
      ),
    ).toEqual(['analytics_marts.fct_coin_candles_$interval', 'pipeline.pipeline_runz']);
    expect(exists('pipeline.pipeline_runz')).toBe(false);
    expect(exists('analytics_marts.dim_coin')).toBe(false);
    expect(expand('analytics_marts.fct_coin_candles_$interval')).toEqual([
      'analytics_marts.fct_coin_candles_hourly',
      'analytics_marts.fct_coin_candles_daily',
    ]);
  });

  it('names only tables a migration creates or marts the dbt project builds', () => {
    const queries = [
      ...sqlQueries(),
      ...templateVariables()
        .filter((v) => v.sql)
        .map((v) => ({ source: `${v.dashboard} / $${v.name}`, sql: v.sql! })),
    ];
    const named = queries.flatMap((q) =>
      relationsOf(q.sql)
        .flatMap(expand)
        .map((relation) => ({ source: q.source, relation })),
    );
    expect(named.length).toBeGreaterThan(15);
    expect(named.filter((n) => !exists(n.relation))).toEqual([]);
    expect(existsSync(MARTS_DIR)).toBe(true);
  });
});
