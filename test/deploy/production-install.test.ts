/**
 * Every process kind starts from an install with production dependencies only, as the image has
 * them (`npm ci --omit=dev`): a runtime import of a devDependency (the `yaml` crash of the
 * transform worker in compose) fails here rather than in a user's container.
 *
 * Each entry point is started with a bad setting: ES modules are linked before any code runs, so
 * reaching the configuration check (exit 78, 2 for the simulator) proves every static import
 * resolved. Dynamic `import()`s are resolved from the same install by specifier.
 */
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ENTRY_POINTS } from '../../scripts/lib/entry-points.js';

const ROOT = new URL('../../', import.meta.url).pathname;
/** What the image runs besides the process kinds (compose.yaml's migrate, the manual tick). */
const SCRIPTS = ['dist/scripts/migrate.js', 'dist/scripts/tick.js'];
const app = mkdtempSync(join(tmpdir(), 'cdp-prod-install-'));

beforeAll(() => {
  for (const file of ['package.json', 'package-lock.json']) cpSync(join(ROOT, file), join(app, file));
  // The npm cache already holds every package (make test ran npm ci first), so this stays local.
  const install = spawnSync(
    'npm',
    ['ci', '--omit=dev', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'],
    { cwd: app, encoding: 'utf8' },
  );
  if (install.status !== 0) throw new Error(`npm ci --omit=dev failed:\n${install.stderr}`);
  // Copies, not symlinks: Node resolves packages from a module's real path.
  cpSync(join(ROOT, 'dist'), join(app, 'dist'), { recursive: true });
  cpSync(join(ROOT, 'dbt'), join(app, 'dbt'), { recursive: true });
}, 300_000);

afterAll(() => rmSync(app, { recursive: true, force: true }));

function start(entry: string, env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [entry], {
      cwd: app,
      env: { PATH: process.env.PATH ?? '', NODE_ENV: 'production', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

describe('an install with production dependencies only', () => {
  it('has none of the packages only the dev dependencies need (the check would prove nothing otherwise)', () => {
    const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { dev?: boolean }>;
    };
    const devOnly = Object.entries(lock.packages)
      .filter(([path, p]) => p.dev && path.startsWith('node_modules/'))
      .map(([path]) => path);
    expect(devOnly).toEqual(expect.arrayContaining(['node_modules/jest', 'node_modules/ts-jest']));
    expect(devOnly.filter((path) => existsSync(join(app, path)))).toEqual([]);
  });

  it.each(Object.entries(ENTRY_POINTS).filter(([kind]) => kind !== 'simulator'))(
    'starts the %s process up to its configuration check',
    async (_kind, entry) => {
      const { code, output } = await start(entry, { LOG_LEVEL: 'loud' });
      expect(output).not.toMatch(/ERR_MODULE_NOT_FOUND|Cannot find (package|module)/);
      expect({ code, output }).toEqual({ code: 78, output: expect.stringContaining('LOG_LEVEL="loud"') });
    },
  );

  it('starts the simulator up to its settings check', async () => {
    const { code, output } = await start(ENTRY_POINTS.simulator, { SIM_PORT: 'eighty' });
    expect(output).not.toMatch(/ERR_MODULE_NOT_FOUND|Cannot find (package|module)/);
    expect({ code, output }).toEqual({ code: 2, output: expect.stringContaining('SIM_PORT') });
  });

  it.each(SCRIPTS)('starts %s up to its configuration check', async (entry) => {
    const { code, output } = await start(entry, { LOG_LEVEL: 'loud' });
    expect(output).not.toMatch(/ERR_MODULE_NOT_FOUND|Cannot find (package|module)/);
    expect({ code, output }).toEqual({ code: 78, output: expect.stringContaining('LOG_LEVEL="loud"') });
  });

  it('resolves every package a dynamic import() names', () => {
    const files = readdirSync(join(app, 'dist'), { recursive: true, encoding: 'utf8' }).filter(
      (f) => f.endsWith('.js') && !f.startsWith('bench/'),
    );
    const specifiers = new Set<string>();
    for (const f of files) {
      for (const m of readFileSync(join(app, 'dist', f), 'utf8').matchAll(/\bimport\(\s*['"]([^'"./][^'"]*)['"]\s*\)/g))
        specifiers.add(m[1]!);
    }
    const bare = [...specifiers].filter((s) => !s.startsWith('node:') && !builtinModules.includes(s));
    const probe = spawnSync(
      process.execPath,
      ['--input-type=module', '-e', `for (const s of ${JSON.stringify(bare)}) import.meta.resolve(s)`],
      { cwd: app, encoding: 'utf8' },
    );
    expect(probe.stderr).toBe('');
    expect(probe.status).toBe(0);
  });
});
