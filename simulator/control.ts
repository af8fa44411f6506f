/**
 * The control surface for tests and benchmarks: the in-process `control` object and the same
 * operations over HTTP under `/__sim` (never rate limited or faulted).
 */
import type { IncomingMessage } from 'node:http';
import { vsRate } from './currencies.js';
import { parseFaultPatch, SimulatorOptionsError, type FaultSettings } from './options.js';
import type { RequestLogEntry, SimulatorStats } from './request-log.js';
import { errorMessage, json, type ApiResponse } from './responses.js';
import type { SimulatorState } from './state.js';

export const CONTROL_PREFIX = '/__sim';

/** Operations on a running simulator. */
export interface SimulatorControl {
  /** Counters since start or the last reset. */
  stats(): SimulatorStats;
  /** API requests with `t >= sinceMs` (the last 100k at most), oldest first. */
  requests(sinceMs?: number): RequestLogEntry[];
  /** Current fault settings (a copy). */
  faults(): FaultSettings;
  /** Merges validated settings (`failNext` appends); throws {@link SimulatorOptionsError} on bad input. */
  setFaults(patch: Partial<FaultSettings>): FaultSettings;
  /** Restores the start options and zeroes stats, the request log and rate windows. */
  reset(): void;
  /** Every active coin id, in the universe's stable order (well-known coins first). */
  universeIds(): string[];
  /**
   * The records `GET /coins/markets?ids=…&vs_currency=…` would return at `atMs` (default now), in
   * the default `market_cap_desc` order and without pagination; faults on records apply.
   * `changeTimeframes` as `price_change_percentage` asks for them (the pipeline asks for 1h,24h,7d).
   */
  marketsSnapshot(
    ids: string[],
    vsCurrency?: string,
    atMs?: number,
    changeTimeframes?: readonly string[],
  ): Record<string, unknown>[];
}

export function createControl(state: SimulatorState): SimulatorControl {
  return {
    stats: () => state.log.stats(),
    requests: (sinceMs) => state.log.since(sinceMs),
    faults: () => structuredClone(state.settings),
    setFaults(patch) {
      state.applyPatch(parseFaultPatch(patch));
      return structuredClone(state.settings);
    },
    reset: () => state.reset(),
    universeIds: () => state.sim.coins.map((c) => c.id),
    marketsSnapshot(ids, vsCurrency = 'usd', atMs = state.clock(), changeTimeframes = []) {
      const rate = vsRate(vsCurrency.toLowerCase());
      if (rate === undefined) throw new Error(`unsupported vs_currency ${vsCurrency}`);
      return state.sim.markets(
        { ids, order: 'market_cap_desc', rate, extras: { sparkline: false, changeTimeframes: [...changeTimeframes] } },
        state.settings,
        atMs,
      );
    },
  };
}

const MAX_BODY_BYTES = 1 << 20;

/** Serves `/__sim/*`. */
export async function handleControlRequest(
  control: SimulatorControl,
  req: IncomingMessage,
  url: URL,
): Promise<ApiResponse> {
  const route = `${req.method} ${url.pathname.slice(CONTROL_PREFIX.length)}`;
  switch (route) {
    case 'GET /stats':
      return json(200, control.stats());
    case 'GET /requests': {
      const since = Number(url.searchParams.get('since') ?? 0);
      if (!Number.isFinite(since)) return errorMessage(400, 'since must be epoch milliseconds');
      return json(200, control.requests(since));
    }
    case 'GET /faults':
      return json(200, control.faults());
    case 'POST /faults': {
      let patch: unknown;
      try {
        patch = JSON.parse((await readBody(req)) || '{}');
      } catch {
        return errorMessage(400, 'body must be JSON');
      }
      try {
        return json(200, control.setFaults(patch as Partial<FaultSettings>));
      } catch (error) {
        if (error instanceof SimulatorOptionsError)
          return json(400, { error: 'invalid settings', problems: error.problems });
        throw error;
      }
    }
    case 'POST /reset':
      control.reset();
      return json(200, { reset: true });
    case 'GET /universe':
      return json(200, control.universeIds());
    default:
      return errorMessage(404, 'Not Found');
  }
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new SimulatorOptionsError(['body too large']);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}
