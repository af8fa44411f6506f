/**
 * The healthcheck commands of compose.yaml and the Dockerfile, run for real (they are `node -e`
 * one-liners) against the servers they probe: the metrics server of worker processes, the
 * simulator, and a stand-in answering the dashboard's /healthz. Healthy means exit 0; a wrong status,
 * a closed port or a wrong path means non-zero.
 */
import { execFile } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { startMetricsServer } from '../../core/metrics/server.js';
import { startSimulator } from '../../simulator/server.js';
import { loadCompose, type Service } from './compose-file.js';
import { execForm, instructionsOf, readDockerfile } from './dockerfile-file.js';

const { compose } = loadCompose();

/** The argv a CMD-form healthcheck runs. */
function healthcheckArgv(service: Service): string[] {
  const test = service.healthcheck!.test!;
  const [kind, ...argv] = Array.isArray(test) ? test : ['CMD-SHELL', test];
  if (kind !== 'CMD') throw new Error(`expected an exec-form (CMD) healthcheck, got ${kind}`);
  return argv;
}

function run(argv: string[], env: Record<string, string>): Promise<number> {
  return new Promise((resolve) => {
    execFile(
      argv[0] === 'node' ? process.execPath : argv[0]!,
      argv.slice(1),
      { env: { PATH: process.env.PATH, ...env }, timeout: 10_000 },
      (error) => {
        resolve(error ? (typeof error.code === 'number' ? error.code : 1) : 0);
      },
    );
  });
}

/** A server answering `status` on `path` and 404 elsewhere; port 0 picks a free one. */
async function stub(path: string, status: number): Promise<{ port: number; close(): Promise<void> }> {
  const server = http.createServer((req, res) => res.writeHead(req.url === path ? status : 404).end());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** A port nothing listens on (just released by a server of ours). */
async function closedPort(): Promise<number> {
  const server = await stub('/', 200);
  await server.close();
  return server.port;
}

const dockerfileHealthcheck = (() => {
  const healthcheck = instructionsOf(readDockerfile(), 'runtime')
    .instructions.filter((i) => i.keyword === 'HEALTHCHECK')
    .at(-1)!;
  return execForm(/\bCMD (.*)$/.exec(healthcheck.args)![1]!);
})();

const workerHealthchecks: [string, string[]][] = [
  ['the Dockerfile HEALTHCHECK', dockerfileHealthcheck],
  ...['scheduler', 'fetch-worker', 'load-worker', 'transform-worker'].map((name): [string, string[]] => [
    `${name} (compose)`,
    healthcheckArgv(compose.services[name]!),
  ]),
];

describe.each(workerHealthchecks)('%s, probing a worker process', (_, argv) => {
  it('passes while the metrics server answers /healthz on METRICS_PORT', async () => {
    const server = await startMetricsServer(0, '127.0.0.1');
    try {
      expect(await run(argv, { METRICS_PORT: String(server.port) })).toBe(0);
    } finally {
      await server.close();
    }
  });

  it('fails when nothing listens', async () => {
    expect(await run(argv, { METRICS_PORT: String(await closedPort()) })).not.toBe(0);
  });

  it('fails when /healthz does not answer 200', async () => {
    const server = await stub('/healthz', 503);
    try {
      expect(await run(argv, { METRICS_PORT: String(server.port) })).not.toBe(0);
    } finally {
      await server.close();
    }
  });
});

describe('the dashboard healthcheck', () => {
  const argv = healthcheckArgv(compose.services.dashboard!);

  it('passes when /healthz answers 200 on DASHBOARD_PORT, fails on 503 or a closed port', async () => {
    const healthy = await stub('/healthz', 200);
    const sick = await stub('/healthz', 503);
    try {
      expect(await run(argv, { DASHBOARD_PORT: String(healthy.port) })).toBe(0);
      expect(await run(argv, { DASHBOARD_PORT: String(sick.port) })).not.toBe(0);
      expect(await run(argv, { DASHBOARD_PORT: String(await closedPort()) })).not.toBe(0);
    } finally {
      await Promise.all([healthy.close(), sick.close()]);
    }
  });
});

describe('the simulator healthcheck', () => {
  const argv = healthcheckArgv(compose.services.simulator!);

  it('passes against a running simulator on SIM_PORT, even during a simulated outage', async () => {
    const simulator = await startSimulator({ port: 0, coins: 20, outage: true });
    try {
      expect(await run(argv, { SIM_PORT: String(simulator.port) })).toBe(0);
    } finally {
      await simulator.close();
    }
  });

  it('fails when nothing listens', async () => {
    expect(await run(argv, { SIM_PORT: String(await closedPort()) })).not.toBe(0);
  });
});
