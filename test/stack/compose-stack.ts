/**
 * The compose stack as the stack test drives it: docker-compose 1.29 on compose.yaml (its `name:`
 * line dropped, since 1.29 rejects the key, and `-p` given instead), one override that runs the
 * transform worker on the runtime image with the bundled runner (no dbt image can be built here),
 * and an env file of fresh random secrets. Only published ports on 127.0.0.1 and `docker exec` reach
 * the stack.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { waitFor } from '../helpers/wait-for.js';

const run = promisify(execFile);
export const ROOT = new URL('../../', import.meta.url).pathname;
export const DOCKER = process.env.DOCKER ?? '/usr/bin/docker';
export const PROJECT = process.env.STACK_PROJECT ?? 'cdpstacktest';
export const IMAGE_TAG = process.env.CDP_TAG ?? 'stack-test';
export const COINS = 500;

const secret = () => randomBytes(18).toString('hex');

/** compose.yaml exactly, but for the top-level `name:` key docker-compose 1.29 cannot read. */
export function composeWithoutName(text: string): string {
  const lines = text.split('\n');
  const at = lines.findIndex((l) => /^name:\s/.test(l));
  if (at < 0) throw new Error('compose.yaml has no top-level name: line (update the stack test)');
  return [...lines.slice(0, at), ...lines.slice(at + 1)].join('\n');
}

export interface StackFiles {
  readonly dir: string;
  readonly env: Record<string, string>;
}

export function writeStackFiles(dir: string): StackFiles {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'compose.yaml'), composeWithoutName(readFileSync(join(ROOT, 'compose.yaml'), 'utf8')));
  // The only departure from compose.yaml: no dbt image here (no PyPI), so the transform worker runs
  // the runtime image and the bundled runner executes the same dbt project.
  writeFileSync(
    join(dir, 'no-dbt-image.yaml'),
    [
      'services:',
      '  transform-worker:',
      `    image: crypto-data-pipeline:${IMAGE_TAG}`,
      '    build:',
      '      context: .',
      '      target: runtime',
      '',
    ].join('\n'),
  );
  const env: Record<string, string> = {
    CDP_TAG: IMAGE_TAG,
    POSTGRES_PASSWORD: secret(),
    REDIS_PASSWORD: secret(),
    CDP_LOADER_PASSWORD: secret(),
    CDP_TRANSFORMER_PASSWORD: secret(),
    CDP_READER_PASSWORD: secret(),
    GF_ADMIN_PASSWORD: secret(),
    // Grafana is not started (no image here); compose interpolates its variables all the same.
    CDP_ALERT_WEBHOOK_URL: 'http://grafana-not-started.invalid/',
    COINGECKO_API_KEY: `CG-${secret()}`,
    COINGECKO_PLAN: 'demo',
    COINGECKO_BASE_URL: 'http://simulator:8484/api/v3',
    // Longer than the latency the graceful-stop check injects, so the call is in flight, not failed.
    COINGECKO_TIMEOUT: '120s',
    DASHBOARD_PASSWORD: secret(),
    // The simulator's market moves every 10 s: a 15 s tick always sees a new step, so each tick
    // loads every coin once.
    TICK_INTERVAL: '15s',
    TRACK_TOP_N: String(COINS),
    // The checks count ticks' calls and jobs; history is tested against the simulator outside the stack.
    BACKFILL_DAYS: '0',
    // Gaps are recorded but not repaired: a repair's calls (one per coin, up to 250) would share the
    // limit with the ticks these checks count; repair is tested against the simulator outside the stack.
    GAP_REPAIR_MAX_COINS: '0',
    TRANSFORM_RUNNER: 'bundled',
    DASHBOARD_PUBLISH: '127.0.0.1:',
    SIMULATOR_PUBLISH: '127.0.0.1:',
    PROMETHEUS_PUBLISH: '127.0.0.1:',
    GRAFANA_PUBLISH: '127.0.0.1:',
  };
  writeFileSync(
    join(dir, 'stack.env'),
    `${Object.entries(env)
      .map(([k, v]) => `${k}=${v}`)
      .join('\n')}\n`,
  );
  return { dir, env };
}

export interface Output {
  readonly stdout: string;
  readonly stderr: string;
}

export async function docker(args: readonly string[], timeoutMs = 120_000): Promise<Output> {
  return run(DOCKER, args, { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024, env: cleanEnv() });
}

// docker-compose interpolates from its own environment before the env file: hand it only what it
// needs, so nothing of the test runner's environment leaks into the stack.
function cleanEnv(): NodeJS.ProcessEnv {
  return {
    PATH: `/usr/bin:${process.env.PATH ?? ''}`,
    HOME: process.env.HOME ?? '/root',
    DOCKER_HOST: process.env.DOCKER_HOST,
  };
}

export class Stack {
  constructor(readonly files: StackFiles) {}

  compose(args: readonly string[], timeoutMs = 600_000): Promise<Output> {
    const { dir } = this.files;
    return run(
      'docker-compose',
      [
        '-p',
        PROJECT,
        '--project-directory',
        ROOT,
        '--env-file',
        join(dir, 'stack.env'),
        '-f',
        join(dir, 'compose.yaml'),
        '-f',
        join(dir, 'no-dbt-image.yaml'),
        '--profile',
        'simulator',
        ...args,
      ],
      { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024, env: cleanEnv() },
    );
  }

  /** Container ids of a service, running or not, oldest replica first. */
  async containers(service: string, all = true): Promise<string[]> {
    const { stdout } = await docker([
      'ps',
      ...(all ? ['-a'] : []),
      '-q',
      '--filter',
      `label=com.docker.compose.project=${PROJECT}`,
      '--filter',
      `label=com.docker.compose.service=${service}`,
    ]);
    const ids = stdout.split('\n').filter(Boolean);
    const numbers = await Promise.all(
      ids.map(async (id) =>
        Number(
          (
            await docker(['inspect', '-f', '{{ index .Config.Labels "com.docker.compose.container-number" }}', id])
          ).stdout.trim(),
        ),
      ),
    );
    return ids
      .map((id, i) => ({ id, n: numbers[i]! }))
      .sort((a, b) => a.n - b.n)
      .map((c) => c.id);
  }

  async container(service: string): Promise<string> {
    const [id] = await this.containers(service);
    if (!id) throw new Error(`no container for service ${service}`);
    return id;
  }

  async inspect<T>(id: string, format: string): Promise<T> {
    return JSON.parse((await docker(['inspect', '-f', `{{ json ${format} }}`, id])).stdout) as T;
  }

  /** One SQL statement through psql in the postgres container, as the schema owner. */
  async sql(statement: string): Promise<string[][]> {
    const { stdout } = await docker([
      'exec',
      await this.container('postgres'),
      'psql',
      '-X',
      '-U',
      'postgres',
      '-d',
      'crypto_pipeline',
      '-v',
      'ON_ERROR_STOP=1',
      '-tA',
      '-F',
      '\t',
      '-c',
      statement,
    ]);
    return stdout
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => l.split('\t'));
  }

  async scalar(statement: string): Promise<string> {
    return (await this.sql(statement))[0]?.[0] ?? '';
  }

  /** http://127.0.0.1:PORT where compose published a service's container port. */
  async url(service: string, port: number): Promise<string> {
    const { stdout } = await this.compose(['port', service, String(port)]);
    const published = stdout.trim();
    if (!/^127\.0\.0\.1:\d+$/.test(published))
      throw new Error(`${service}:${port} is published on "${published}", not on 127.0.0.1`);
    return `http://${published}`;
  }

  async logs(service: string): Promise<string> {
    const { stdout, stderr } = await this.compose(['logs', '--no-color', service]);
    return stdout + stderr;
  }
}

/** waitFor (test/helpers/wait-for.ts) with the bound first, as the stack test reads best; 1 s polls. */
export function eventually<T>(
  what: string,
  timeoutMs: number,
  check: () => Promise<T | undefined>,
  intervalMs = 1000,
): Promise<T> {
  return waitFor(what, check, timeoutMs, intervalMs);
}
