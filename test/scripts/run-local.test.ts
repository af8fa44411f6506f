import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** `make demo` runs the built script (npm test builds dist/ first), from the repository root. */
const RUN_LOCAL = path.join(process.cwd(), 'dist/scripts/run-local.js');

describe('scripts/run-local with bad configuration', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'cdp-run-local-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('stops with exit code 78 and the list of problems, as every worker does, without a stack trace or starting anything', async () => {
    const logsDir = path.join(dir, 'logs');
    const child = spawn(process.execPath, [RUN_LOCAL, '--once', '--logs-dir', logsDir], {
      cwd: process.cwd(),
      env: {
        PATH: process.env.PATH ?? '',
        ENV_FILE: '/nonexistent',
        DASHBOARD_PASSWORD: 'correct-horse-battery-staple',
        TICK_INTERVAL: 'soon',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    // Should the settings be accepted after all, it would start the pipeline: stop it rather than hang.
    const guard = setTimeout(() => child.kill('SIGTERM'), 30_000);
    const [code] = (await once(child, 'exit')) as [number | null];
    clearTimeout(guard);

    expect({ code, stderr }).toEqual({
      code: 78,
      stderr:
        'run-local: Invalid configuration (2 problems):\n' +
        '  - DASHBOARD_USER: expected to be set together with its partner (DASHBOARD_USER and DASHBOARD_PASSWORD)\n' +
        '  - TICK_INTERVAL="soon": expected a duration like 500ms, 30s, 5m, 1h (or plain milliseconds), at least 1000ms\n',
    });
    expect(stdout).toBe('');
    expect(stderr).not.toMatch(/^\s+at /m);
    expect(stderr).not.toContain('correct-horse-battery-staple');
    // It stopped before starting any process (each one would log there).
    expect(existsSync(logsDir)).toBe(false);
  });
});
