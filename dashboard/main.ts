/** Dashboard process: market, coin and pipeline pages, the /api/v1 JSON API with live updates, Bull Board, /metrics (incl. queue gauges) and health probes. */
import type { AddressInfo } from 'node:net';
import { boot } from '../core/process/boot.js';
import { createRedis } from '../core/queues/redis.js';
import { errorMessage } from '../core/errors.js';
import { Runtime } from '../core/runtime.js';
import { createApp } from './app.js';
import { migrationCheck } from './http/migration-check.js';

const SERVICE = 'dashboard';
const { config, logger, lifecycle } = boot(SERVICE);
const runtime = new Runtime(config, logger, SERVICE);
lifecycle.onShutdown('runtime', () => runtime.close());
// Probes must fail fast during an outage; the runtime's client would queue the PING until Redis returns.
const probeRedis = createRedis(config.redis.url, 'fail-fast', `cdp:${SERVICE}:probe`);
probeRedis.on('error', () => undefined); // the readiness probe reports it
lifecycle.onShutdown('probe redis', () => probeRedis.quit().catch(() => probeRedis.disconnect()));
const migrations = migrationCheck(config.postgres.url);
lifecycle.onShutdown('migration check', () => migrations.close());

const app = createApp({
  config,
  pool: runtime.pool,
  redis: probeRedis,
  queues: (key) => runtime.queue(key),
  checkMigrations: migrations.pending,
  logger,
});

const server = app.listen(config.dashboard.port, config.dashboard.host);
await new Promise<void>((resolve, reject) => {
  server.once('listening', resolve);
  server.once('error', reject);
}).catch((error: unknown) => {
  logger.error('dashboard could not listen', {
    host: config.dashboard.host,
    port: config.dashboard.port,
    reason: errorMessage(error),
  });
  return lifecycle.shutdown().then(() => process.exit(1));
});
// Registered last, so closed first: no new requests while the connections below go away.
lifecycle.onShutdown('http server', () => new Promise<void>((resolve) => server.close(() => resolve())));

const { port } = server.address() as AddressInfo;
const host = ['0.0.0.0', '::', ''].includes(config.dashboard.host) ? 'localhost' : config.dashboard.host;
logger.info('dashboard listening', {
  url: `http://${host.includes(':') ? `[${host}]` : host}:${port}/`,
  board: config.dashboard.credentials ? 'basic auth' : 'read-only',
});
