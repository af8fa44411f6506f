/**
 * A CoinGecko API v3 simulator over real HTTP, for the pipeline's tests and benchmarks.
 * `startSimulator()` listens on a free port by default and returns the base URL to point a client at.
 */
import http, { type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { API_PREFIX, handleApiRequest } from './api-handler.js';
import { CONTROL_PREFIX, createControl, handleControlRequest, type SimulatorControl } from './control.js';
import { resolveOptions, type SimulatorOptions } from './options.js';
import { json, type ApiResponse } from './responses.js';
import { SimulatorState } from './state.js';

export type { SimulatorControl } from './control.js';
export type { FailNextFault, FaultSettings, SimulatorOptions } from './options.js';
export type { RequestLogEntry, SimulatorStats } from './request-log.js';

/** A running simulator. */
export interface SimulatorHandle {
  /** Base URL a client uses, e.g. `http://127.0.0.1:43117/api/v3`. */
  url: string;
  port: number;
  control: SimulatorControl;
  /** Stops listening and destroys open sockets, so hanging requests cannot keep the process alive. */
  close(): Promise<void>;
}

/** Starts a simulator; options are validated and missing ones take their defaults. */
export async function startSimulator(options: Partial<SimulatorOptions> = {}): Promise<SimulatorHandle> {
  const resolved = resolveOptions(options);
  const state = new SimulatorState(resolved);
  const control = createControl(state);
  const timers = new Set<NodeJS.Timeout>();
  const sockets = new Set<Socket>();

  const later = (ms: number, fn: () => void) => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      fn();
    }, ms);
    timers.add(timer);
  };

  // Long `ids` lists must reach our 414 check instead of Node's own 431 for oversized headers.
  const server = http.createServer({ maxHeaderSize: 4 << 20 }, (req, res) => {
    const url = new URL(req.url ?? '/', 'http://simulator');
    if (url.pathname === CONTROL_PREFIX || url.pathname.startsWith(`${CONTROL_PREFIX}/`)) {
      handleControlRequest(control, req, url).then(
        (response) => write(res, response),
        (error: unknown) => write(res, json(500, { error: String(error) })),
      );
      return;
    }
    if (url.pathname !== API_PREFIX && !url.pathname.startsWith(`${API_PREFIX}/`)) {
      write(res, json(404, { error: 'Not Found' }));
      return;
    }
    const outcome = handleApiRequest(state, req, url);
    if (outcome.kind === 'hang') {
      later(outcome.hangMs, () => req.socket.destroy());
      return;
    }
    if (outcome.delayMs > 0) later(outcome.delayMs, () => write(res, outcome.response));
    else write(res, outcome.response);
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(resolved.port, resolved.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const host = resolved.host.includes(':') ? `[${resolved.host}]` : resolved.host;

  return {
    url: `http://${host}:${port}${API_PREFIX}`,
    port,
    control,
    close: () =>
      new Promise<void>((resolve, reject) => {
        for (const timer of timers) clearTimeout(timer);
        timers.clear();
        server.close((error) => (error ? reject(error) : resolve()));
        for (const socket of sockets) socket.destroy();
      }),
  };
}

function write(res: ServerResponse, response: ApiResponse): void {
  if (res.destroyed || res.headersSent) return;
  res.writeHead(response.status, {
    'content-type': response.contentType,
    'content-length': Buffer.byteLength(response.body),
    ...response.headers,
  });
  res.end(response.body);
}
