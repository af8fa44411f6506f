import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseEnv } from 'node:util';
import { loadConfig, VARIABLES } from '../../../core/config/index.js';
import {
  renderConfigTable,
  renderEnvExample,
  replaceConfigTable,
  TABLE_END,
  TABLE_START,
  writeEnvDocs,
} from '../../../scripts/gen-env-docs.js';

const ENV_EXAMPLE = new URL('../../../.env.example', import.meta.url);
const variables = Object.values(VARIABLES);

describe('.env.example', () => {
  it('is the committed output of scripts/gen-env-docs.ts', () => {
    const committed = readFileSync(ENV_EXAMPLE, 'utf8');
    if (committed !== renderEnvExample()) {
      throw new Error(
        '.env.example is out of date with core/config/variables.ts: run `npm run build && node dist/scripts/gen-env-docs.js` and commit the result',
      );
    }
  });
});

describe(renderEnvExample.name, () => {
  const example = renderEnvExample();

  it('starts with a header saying what the file is and that the real environment wins', () => {
    expect(example).toMatch(/^# .*every environment variable/);
    expect(example).toContain('Copy this file to .env');
    expect(example).toContain('real environment win');
  });

  it('documents every variable with its description and expectation, then its line', () => {
    for (const variable of variables) {
      const entry = new RegExp(`^# (.*)\\n(# )?${variable.name}=(.*)$`, 'm').exec(example);
      expect(entry).not.toBeNull();
      expect(entry![1]).toContain(variable.description);
      expect(entry![1]).toContain(`(expects ${variable.parser.expects})`);
    }
  });

  it('sets non-secret defaults and comments out variables without a default', () => {
    expect(example).toMatch(/^TICK_INTERVAL=60s$/m);
    expect(example).toMatch(/^QUEUE_PREFIX=cdp$/m);
    expect(example).toMatch(/^# COIN_IDS=$/m);
    expect(example).toMatch(/^# COINGECKO_API_KEY=$/m);
    expect(example).toMatch(/^# DASHBOARD_PASSWORD=$/m);
  });

  it('never assigns a secret variable, so production still demands explicit connection URLs', () => {
    const assigned = parseEnv(example);
    for (const variable of variables)
      if ('secret' in variable && variable.secret) expect(assigned).not.toHaveProperty(variable.name);
    expect(() => loadConfig({ ...assigned, NODE_ENV: 'production' })).toThrow(/DATABASE_URL[\s\S]*REDIS_URL/);
  });

  it('loads into exactly the default configuration', () => {
    expect(loadConfig(parseEnv(example))).toEqual(loadConfig({}));
  });
});

describe(renderConfigTable.name, () => {
  const table = renderConfigTable();
  const rows = table.split('\n');

  it('is a Variable | Default | Description table with one row per variable', () => {
    expect(rows.slice(0, 2)).toEqual(['| Variable | Default | Description |', '|---|---|---|']);
    expect(rows).toHaveLength(variables.length + 2);
    for (const row of rows) expect(row.replace(/\\\|/g, '').split('|')).toHaveLength(5);
  });

  it('lists every variable with its default and description, secrets marked', () => {
    for (const variable of variables) {
      const row = rows.find((r) => r.startsWith(`| \`${variable.name}\``));
      expect(row).toBeDefined();
      expect(row).toContain(variable.description);
      expect(row).toContain(variable.parser.expects);
      const secret = 'secret' in variable && variable.secret;
      expect(row!.startsWith(`| \`${variable.name}\` (secret) |`)).toBe(Boolean(secret));
    }
    expect(table).toContain('| `TICK_INTERVAL` | `60s` |');
    expect(table).toContain('| `COIN_IDS` | — |');
  });
});

describe(replaceConfigTable.name, () => {
  it('replaces only the text between the markers', () => {
    const readme = `# Title\n\n## Configuration\n${TABLE_START}\nold table\n${TABLE_END}\n\n## Next\n`;
    expect(replaceConfigTable(readme, '| t |')).toBe(
      `# Title\n\n## Configuration\n${TABLE_START}\n\n| t |\n\n${TABLE_END}\n\n## Next\n`,
    );
  });

  it('is stable when run twice', () => {
    const once = replaceConfigTable(`${TABLE_START}${TABLE_END}`)!;
    expect(replaceConfigTable(once)).toBe(once);
  });

  it.each([
    ['no markers', '# Title\n'],
    ['only the start marker', `${TABLE_START}\n`],
    ['the markers in the wrong order', `${TABLE_END}\n${TABLE_START}\n`],
  ])('leaves a README with %s alone', (_what, readme) => {
    expect(replaceConfigTable(readme)).toBeUndefined();
  });
});

describe(writeEnvDocs.name, () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'cdp-env-docs-'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('writes .env.example and leaves a missing README missing', () => {
    expect(writeEnvDocs(root)).toEqual([join(root, '.env.example')]);
    expect(readFileSync(join(root, '.env.example'), 'utf8')).toBe(renderEnvExample());
    expect(existsSync(join(root, 'README.md'))).toBe(false);
  });

  it('fills the README table between the markers', () => {
    writeFileSync(join(root, 'README.md'), `# Pipeline\n${TABLE_START}\n${TABLE_END}\n`);
    expect(writeEnvDocs(root)).toEqual([join(root, '.env.example'), join(root, 'README.md')]);
    expect(readFileSync(join(root, 'README.md'), 'utf8')).toBe(
      `# Pipeline\n${TABLE_START}\n\n${renderConfigTable()}\n\n${TABLE_END}\n`,
    );
  });

  it('leaves a README without markers byte for byte alone', () => {
    writeFileSync(join(root, 'README.md'), '# Pipeline\nno table here\n');
    expect(writeEnvDocs(root)).toEqual([join(root, '.env.example')]);
    expect(readFileSync(join(root, 'README.md'), 'utf8')).toBe('# Pipeline\nno table here\n');
  });
});
