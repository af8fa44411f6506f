import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parse } from 'yaml';
import { findProjectDir } from '../../workers/transform/engine/project-dir.js';
import { loadProject } from '../../workers/transform/engine/bundled/project.js';

const dir = findProjectDir();
const project = loadProject(dir);
const yamlFiles = (folder: string): string[] =>
  readdirSync(folder, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? yamlFiles(join(folder, e.name)) : e.name.endsWith('.yml') ? [join(folder, e.name)] : [],
  );
const properties = new Map(
  yamlFiles(join(dir, 'models')).flatMap((f) =>
    (
      (parse(readFileSync(f, 'utf8')).models ?? []) as {
        name: string;
        description?: string;
        columns?: { name: string; description?: string }[];
      }[]
    ).map((m) => [m.name, m] as const),
  ),
);

describe('the dbt project', () => {
  it.each([...project.models.values()].map((m) => [m.name, m.file] as const))(
    'describes %s and every one of its columns',
    (name) => {
      const model = properties.get(name);
      expect(model?.description?.trim().length).toBeGreaterThan(20);
      for (const column of model?.columns ?? [])
        expect(`${column.name}: ${column.description ?? ''}`.length).toBeGreaterThan(column.name.length + 8);
      expect(model?.columns?.length).toBeGreaterThan(1);
    },
  );

  it('names models by layer: stg_<source>__ in staging/<source>, int_ in intermediate, fct_/dim_ in marts', () => {
    for (const { name, file } of project.models.values()) {
      const layer = file.split('/')[1];
      if (layer === 'staging') expect(`${name} ${file}`).toMatch(/^stg_([a-z]+)__[a-z_]+s models\/staging\/\1\//);
      else if (layer === 'intermediate') expect(name).toMatch(/^int_[a-z_]+__[a-z]+$/);
      else expect(name).toMatch(/^(fct|dim)_[a-z_]+$/);
    }
  });

  it('gives every singular test an explicit severity', () => {
    for (const test of project.singularTests)
      expect(`${basename(test.file)}: ${test.sql}`).toMatch(/config\(severity='(error|warn)'\)/);
  });

  it('reads every connection setting of its profile from the environment', () => {
    const output = parse(readFileSync(join(dir, 'profiles.yml'), 'utf8')).crypto_pipeline.outputs.pipeline as Record<
      string,
      unknown
    >;
    for (const key of ['host', 'port', 'user', 'password', 'dbname', 'schema'])
      expect(String(output[key])).toMatch(/env_var\('DBT_[A-Z]+'/);
  });

  it("ties the snapshots' freshness thresholds to the tick interval", () => {
    const snapshots = project.sources.get('coingecko.coin_market_snapshots');
    expect(snapshots).toMatchObject({ loadedAtField: 'loaded_at' });
    expect(JSON.stringify(snapshots?.freshness)).toContain("var('tick_interval_minutes')");
  });
});
