/**
 * Simulator options: their types, defaults, and parsing from `SIM_*` environment variables (for
 * `main.ts`) or from JSON (for `POST /__sim/faults`). Every option is documented where declared.
 */
import type { FailNextFault } from './fail-next.js';
import {
  bool,
  failNextList,
  fraction,
  integer,
  isPlainObject,
  oneOf,
  object,
  stringList,
  stringMap,
  text,
  timestampMap,
  type Field,
} from './option-parsers.js';

export { FAIL_NEXT_KINDS, type FailNextFault, type FailNextKind } from './fail-next.js';

/** Which CoinGecko personality to emulate; decides key headers and the history limit. */
export type Plan = 'public' | 'demo' | 'pro';

/** How a rate-limit rejection looks: CoinGecko's JSON, a plain-text `Throttled`, or Cloudflare HTML. */
export type ThrottleStyle = 'json' | 'text' | 'html';

/** Behaviour that can change while the simulator runs (`POST /__sim/faults`, `control.setFaults`). */
export interface FaultSettings {
  /** SIM_API_KEY: required API key; null disables the key check. */
  apiKey: string | null;
  /** SIM_PLAN: `public` | `demo` | `pro`; which key header is expected and whether history is capped at 365 days. */
  plan: Plan;
  /** SIM_RATE_LIMIT: calls allowed per window per key (or client IP); 0 = unlimited. */
  rateLimit: number;
  /** SIM_RATE_WINDOW_MS: fixed window length, aligned to multiples of it since the Unix epoch. */
  rateWindowMs: number;
  /** SIM_RETRY_AFTER: send `retry-after` (seconds to window end) on 429s. */
  retryAfter: boolean;
  /** SIM_MAX_URL_BYTES: longer request lines get 414. */
  maxUrlBytes: number;
  /** SIM_LATENCY_MS: delay added to every API response. */
  latencyMs: number;
  /** SIM_LATENCY_JITTER_MS: extra uniformly random delay in [0, jitter). */
  latencyJitterMs: number;
  /** SIM_ERROR_RATE: probability of a 5xx Cloudflare-like HTML page. */
  errorRate: number;
  /** SIM_ERROR_STATUS: the status of those errors. */
  errorStatus: number;
  /** SIM_MALFORMED_RATE: probability of a 200 with an HTML (non-JSON) body. */
  malformedRate: number;
  /** SIM_TRUNCATED_RATE: probability of a 200 whose JSON body is cut in the middle. */
  truncatedRate: number;
  /** SIM_TIMEOUT_RATE: probability of never answering (socket destroyed after `hangMs`). */
  timeoutRate: number;
  /** SIM_HANG_MS: how long a timed-out request hangs before its socket is destroyed. */
  hangMs: number;
  /** SIM_INVALID_RECORD_RATE: fraction of /coins/markets records with one wrong-typed or missing field (per coin and step). */
  invalidRecordRate: number;
  /** SIM_INVALID_COIN_IDS: coins whose markets record always has `current_price` as a string. */
  invalidCoinIds: string[];
  /** SIM_BAD_HISTORY_COIN_IDS: coins whose market_chart/range bodies have a null price, a duplicated and an out-of-order timestamp (history-faults.ts). */
  badHistoryCoinIds: string[];
  /**
   * SIM_INACTIVE_COINS: coins CoinGecko still lists but no longer updates (JSON object of id → last_updated):
   * their markets record always carries that old `last_updated`, like the 2021/2022 ones seen in real responses.
   */
  inactiveCoins: Record<string, string>;
  /** SIM_OUTAGE: every API request (including /ping) gets a 503 HTML page. */
  outage: boolean;
  /** SIM_THROTTLE_STYLE: `json` | `text` | `html` body of 429s. */
  throttleStyle: ThrottleStyle;
  /** SIM_RENAME_FIELDS: schema drift, markets field renames (`old:new,...` or a JSON object). */
  renameFields: Record<string, string>;
  /** SIM_STRINGIFY_FIELDS: schema drift, markets numeric fields sent as JSON strings (comma list). */
  stringifyFields: string[];
  /** SIM_EXTRA_FIELDS: schema drift, a JSON object merged into every markets item. */
  extraFields: Record<string, unknown>;
  /** SIM_FAIL_NEXT: JSON array of one-shot faults; `setFaults` appends to it. */
  failNext: FailNextFault[];
}

/** Everything `startSimulator` accepts. */
export interface SimulatorOptions extends FaultSettings {
  /** SIM_HOST: interface to listen on. */
  host: string;
  /** SIM_PORT: port to listen on; 0 picks a free one. */
  port: number;
  /** SIM_SEED: seed of the coin universe and the price paths. */
  seed: number;
  /** SIM_COINS: number of active coins. */
  coins: number;
  /** SIM_STEP_MS: market data changes once per step, like CoinGecko's cache refresh. */
  stepMs: number;
  /** SIM_STALE_FRACTION: fraction of coins that only update every 10 steps. */
  staleFraction: number;
  /** SIM_FAULT_SEED: seed of the fault PRNG; defaults to `seed`. */
  faultSeed: number;
  /** Source of "now" in epoch ms; tests may pin it. Not settable from the environment. */
  clock: () => number;
}

export const DEFAULT_FAULTS: Readonly<FaultSettings> = Object.freeze({
  apiKey: null,
  plan: 'demo',
  rateLimit: 0,
  rateWindowMs: 60_000,
  retryAfter: true,
  maxUrlBytes: 8192,
  latencyMs: 0,
  latencyJitterMs: 0,
  errorRate: 0,
  errorStatus: 503,
  malformedRate: 0,
  truncatedRate: 0,
  timeoutRate: 0,
  hangMs: 120_000,
  invalidRecordRate: 0,
  invalidCoinIds: [],
  badHistoryCoinIds: [],
  inactiveCoins: {},
  outage: false,
  throttleStyle: 'json',
  renameFields: {},
  stringifyFields: [],
  extraFields: {},
  failNext: [],
});

/** Defaults of `startSimulator` (port 0: any free port). `main.ts` uses port 8484 instead. */
export function defaultOptions(seed = 42): SimulatorOptions {
  return {
    ...structuredClone(DEFAULT_FAULTS),
    host: '127.0.0.1',
    port: 0,
    seed,
    coins: 15_000,
    stepMs: 10_000,
    staleFraction: 0,
    faultSeed: seed,
    clock: Date.now,
  };
}

/** Raised with every invalid setting listed at once. */
export class SimulatorOptionsError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid simulator settings:\n  - ${problems.join('\n  - ')}`);
    this.name = 'SimulatorOptionsError';
  }
}

const MAX_MS = 24 * 3600 * 1000;

const FAULT_FIELDS: { [K in keyof FaultSettings]: Field<FaultSettings[K]> } = {
  apiKey: text('SIM_API_KEY', true),
  plan: oneOf('SIM_PLAN', ['public', 'demo', 'pro']),
  rateLimit: integer('SIM_RATE_LIMIT', 0),
  rateWindowMs: integer('SIM_RATE_WINDOW_MS', 1, MAX_MS),
  retryAfter: bool('SIM_RETRY_AFTER'),
  maxUrlBytes: integer('SIM_MAX_URL_BYTES', 64, 1 << 20),
  latencyMs: integer('SIM_LATENCY_MS', 0, MAX_MS),
  latencyJitterMs: integer('SIM_LATENCY_JITTER_MS', 0, MAX_MS),
  errorRate: fraction('SIM_ERROR_RATE'),
  errorStatus: integer('SIM_ERROR_STATUS', 500, 599),
  malformedRate: fraction('SIM_MALFORMED_RATE'),
  truncatedRate: fraction('SIM_TRUNCATED_RATE'),
  timeoutRate: fraction('SIM_TIMEOUT_RATE'),
  hangMs: integer('SIM_HANG_MS', 0, MAX_MS),
  invalidRecordRate: fraction('SIM_INVALID_RECORD_RATE'),
  invalidCoinIds: stringList('SIM_INVALID_COIN_IDS'),
  badHistoryCoinIds: stringList('SIM_BAD_HISTORY_COIN_IDS'),
  inactiveCoins: timestampMap('SIM_INACTIVE_COINS'),
  outage: bool('SIM_OUTAGE'),
  throttleStyle: oneOf('SIM_THROTTLE_STYLE', ['json', 'text', 'html']),
  renameFields: stringMap('SIM_RENAME_FIELDS'),
  stringifyFields: stringList('SIM_STRINGIFY_FIELDS'),
  extraFields: object('SIM_EXTRA_FIELDS'),
  failNext: failNextList('SIM_FAIL_NEXT'),
};

type StaticOptions = Omit<SimulatorOptions, keyof FaultSettings | 'clock'>;

const STATIC_FIELDS: { [K in keyof StaticOptions]: Field<StaticOptions[K]> } = {
  host: text('SIM_HOST', false),
  port: integer('SIM_PORT', 0, 65535),
  seed: integer('SIM_SEED', 0, 0xffffffff),
  coins: integer('SIM_COINS', 1, 1_000_000),
  stepMs: integer('SIM_STEP_MS', 1, MAX_MS),
  staleFraction: fraction('SIM_STALE_FRACTION'),
  faultSeed: integer('SIM_FAULT_SEED', 0, 0xffffffff),
};

/** Environment variable name per option, for documentation and error messages. */
export const ENV_NAMES: Record<string, string> = Object.fromEntries(
  Object.entries({ ...FAULT_FIELDS, ...STATIC_FIELDS }).map(([key, field]) => [key, field.env]),
);

/**
 * Reads `SIM_*` variables over the defaults (port 8484 for the standalone process).
 * Throws {@link SimulatorOptionsError} naming every bad variable and what it expects.
 */
export function parseSimulatorEnv(env: NodeJS.ProcessEnv): SimulatorOptions {
  const fields: Record<string, Field<unknown>> = { ...STATIC_FIELDS, ...FAULT_FIELDS };
  const problems: string[] = [];
  const parsed: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(fields)) {
    const raw = env[field.env];
    if (raw === undefined) continue;
    const result = field.fromText(raw);
    if (result.ok) parsed[key] = result.value;
    else problems.push(`${field.env}=${JSON.stringify(raw)}: expected ${result.expects}`);
  }
  if (problems.length > 0) throw new SimulatorOptionsError(problems);
  const seed = (parsed.seed as number | undefined) ?? 42;
  return { ...defaultOptions(seed), port: 8484, ...parsed };
}

/**
 * Validates a JSON patch of fault settings (unknown keys are errors, so typos do not pass silently).
 * Throws {@link SimulatorOptionsError}.
 */
export function parseFaultPatch(patch: unknown): Partial<FaultSettings> {
  if (!isPlainObject(patch)) throw new SimulatorOptionsError(['the body must be a JSON object']);
  const fields: Record<string, Field<unknown>> = FAULT_FIELDS;
  const problems: string[] = [];
  const parsed: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(patch)) {
    const field = fields[key];
    if (field === undefined) {
      problems.push(`${key}: unknown setting (known: ${Object.keys(fields).join(', ')})`);
      continue;
    }
    const result = field.fromJson(value);
    if (result.ok) parsed[key] = result.value;
    else problems.push(`${key}: expected ${result.expects}`);
  }
  if (problems.length > 0) throw new SimulatorOptionsError(problems);
  return parsed as Partial<FaultSettings>;
}

/** Validates in-process options the same way as JSON (so `startSimulator` rejects nonsense early). */
export function resolveOptions(partial: Partial<SimulatorOptions> = {}): SimulatorOptions {
  const seed = partial.seed ?? 42;
  const merged: SimulatorOptions = { ...defaultOptions(seed), ...partial };
  if (partial.faultSeed === undefined) merged.faultSeed = seed;
  const fields: Record<string, Field<unknown>> = { ...STATIC_FIELDS, ...FAULT_FIELDS };
  const problems: string[] = [];
  for (const [key, field] of Object.entries(fields)) {
    const result = field.fromJson((merged as unknown as Record<string, unknown>)[key]);
    if (!result.ok) problems.push(`${key}: expected ${result.expects}`);
  }
  if (problems.length > 0) throw new SimulatorOptionsError(problems);
  return merged;
}

/** The fault-settings part of full options (a deep copy, so later patches cannot alias it). */
export function faultSettingsOf(options: SimulatorOptions): FaultSettings {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(FAULT_FIELDS))
    out[key] = structuredClone((options as unknown as Record<string, unknown>)[key]);
  return out as unknown as FaultSettings;
}
