import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { loadConfig } from '../../../core/config/index.js';
import { createDashboardMetrics } from '../../../dashboard/metrics/dashboard-metrics.js';
import { dbtVars } from '../../../workers/transform/engine/dbt-env.js';
import { alertRules, dashboards, GRAFANA_DIR } from '../../observability/grafana-files.js';

/**
 * STALE_AFTER is the one staleness threshold (core/config/variables.ts). The dashboard judges by it and
 * exports it; the transform worker hands it to dbt; Grafana's freshness alert compares with what the
 * dashboard exports. What cannot read the configuration states no number of its own, except
 * dbt_project.yml's default for dbt run by hand, which must be STALE_AFTER's default.
 * test/dashboard/stale-after.test.ts and the transform runner tests show a non-default value at work.
 */
const ROOT = new URL('../../../', import.meta.url).pathname;
const read = (path: string) => readFileSync(`${ROOT}${path}`, 'utf8');
const defaults = loadConfig({});
const configured = loadConfig({ STALE_AFTER: '7m' });

describe('STALE_AFTER, the one staleness threshold', () => {
  it("defaults dbt run by hand to STALE_AFTER's default (dbt_project.yml var stale_after_seconds)", () => {
    const vars = (parse(read('dbt/dbt_project.yml')) as { vars: Record<string, unknown> }).vars;
    expect(vars.stale_after_seconds).toBe(defaults.freshness.staleAfterSeconds);
    expect(Object.keys(vars).filter((name) => name.startsWith('stale_after'))).toEqual(['stale_after_seconds']);
  });

  it('is what the transform worker passes dbt as stale_after_seconds (dbt --vars and the bundled runner)', () => {
    expect(dbtVars(defaults).stale_after_seconds).toBe(defaults.freshness.staleAfterSeconds);
    expect(dbtVars(configured).stale_after_seconds).toBe(420);
  });

  it('is what dim_coin_freshness judges by, reporting and comparing with the var', () => {
    const sql = read('dbt/models/marts/market/dim_coin_freshness.sql');
    expect(sql.match(/\{\{ var\('stale_after_seconds'\) \}\}/g)).toHaveLength(2);
    expect(sql).toMatch(/\{\{ var\('stale_after_seconds'\) \}\} as stale_after_seconds/);
    expect(sql).toMatch(
      /loaded_at < now\(\) - make_interval\(secs => \{\{ var\('stale_after_seconds'\) \}\}\) as is_stale/,
    );
  });

  it('is exported by the dashboard as cdp_freshness_stale_after_seconds, the value its freshness is judged by', async () => {
    const metrics = createDashboardMetrics([], {
      timeoutMs: 100,
      freshness: { pool: {} as never, staleAfterSeconds: configured.freshness.staleAfterSeconds },
    });
    expect(await metrics.registry.getSingleMetricAsString('cdp_freshness_stale_after_seconds')).toMatch(
      /^cdp_freshness_stale_after_seconds 420$/m,
    );
  });

  it("is what Grafana's data-stale rule compares the age with: the dashboard's gauge, not a number of its own", () => {
    const rule = alertRules().find((r) => r.uid === 'cdp-data-stale')!;
    expect(rule.query.expr!.replace(/\s+/g, ' ')).toBe(
      'time() - max(cdp_freshness_last_load_timestamp_seconds) - max(cdp_freshness_stale_after_seconds)',
    );
    expect(rule.threshold).toEqual({ type: 'gt', value: 0 });
  });

  it('is named, not stated, wherever Grafana describes it', () => {
    const texts = [
      read('grafana/provisioning/alerting/rules.yaml'),
      ...dashboards().map(({ json }) => JSON.stringify(json)),
      readFileSync(`${GRAFANA_DIR}/README.md`, 'utf8'),
    ];
    for (const text of texts) expect(text).not.toMatch(/\b(15 ?min(ute)?s?|900 ?s)\b/);
    const rule = alertRules().find((r) => r.uid === 'cdp-data-stale')!;
    expect(`${rule.annotations.summary} ${rule.annotations.description}`).toContain('STALE_AFTER');
  });
});
