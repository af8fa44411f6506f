import { z } from 'zod';

/**
 * THE queue registry: every queue's name, payload schema, job names and result type, defined once.
 * Producers validate before adding (every job is built by buildJob, core/queues/build-job.ts), workers
 * validate again on receipt (Redis may hold payloads written by older code). Payloads evolve by adding
 * optional fields only.
 */

const runId = z.string().regex(/^[a-z][A-Za-z0-9_-]{1,80}$/, 'run ids look like t1764230400000');
const coinId = z.string().min(1).max(200);

export const tickPayload = z.object({
  trigger: z.enum(['schedule', 'manual', 'backfill']),
  /** Explicit ids for this tick only (backfill / manual runs); otherwise the configured universe. */
  coinIds: z.array(coinId).max(100_000).optional(),
});

/** Universe refreshes carry nothing: their id comes from the scheduler slot or the job id. */
export const universePayload = z.object({});

export const fetchRequest = z.discriminatedUnion('endpoint', [
  z.object({ endpoint: z.literal('markets'), vsCurrency: z.string(), ids: z.array(coinId).min(1).max(250) }),
  z.object({
    endpoint: z.literal('markets-page'),
    vsCurrency: z.string(),
    page: z.number().int().min(1),
    perPage: z.number().int().min(1).max(250),
  }),
  z.object({ endpoint: z.literal('coins-list') }),
  z
    .object({
      endpoint: z.literal('market-chart-range'),
      coinId,
      vsCurrency: z.string(),
      /** UNIX seconds. */
      from: z.number().int().min(0),
      to: z.number().int().min(0),
    })
    .refine((r) => r.from < r.to, { message: 'from must be before to', path: ['from'] }),
]);

export const fetchPayload = z.object({
  /** The tick, universe refresh or history run this call belongs to; with batchNo, the ledger key. */
  runId,
  /** A history call's item number in pipeline.history_items. */
  batchNo: z.number().int().min(0),
  request: fetchRequest,
});

export const loadPayload = z.object({ runId, batchNo: z.number().int().min(0), vsCurrency: z.string() });
export const transformPayload = z.object({ runId });

export interface TickResult {
  readonly runId: string;
  readonly status: 'planned' | 'replanned' | 'skipped';
  readonly batches: number;
  readonly coins: number;
  readonly reason?: string;
}
export interface UniverseResult {
  readonly refreshId: string;
  readonly coins: number;
  readonly ranked: number;
  readonly deactivated: number;
}
/** Fetch results stay small: the body waits in Redis under payloadKey (see payload-store.ts). */
export interface FetchResult {
  readonly payloadKey: string;
  readonly records: number;
  readonly bytes: number;
  readonly httpStatus: number;
  readonly durationMs: number;
}
export interface LoadResult {
  readonly status: 'loaded' | 'already-loaded';
  readonly rowsLoaded: number;
  readonly rowsDuplicate: number;
  readonly recordsRejected: number;
}
export interface TransformResult {
  readonly status: 'succeeded' | 'coalesced';
  readonly runId: string;
  readonly failedBatches: readonly number[];
  readonly detail?: string;
}

export const QUEUES = {
  tick: {
    name: 'tick',
    payload: tickPayload,
    description: 'One job per tick: plans the batches and enqueues the tick flow',
  },
  universe: {
    name: 'universe',
    payload: universePayload,
    description: 'Refreshes raw.coins (coin list and market-cap ranks)',
  },
  fetch: {
    name: 'fetch',
    payload: fetchPayload,
    description: 'One CoinGecko call per job, rate limited across all processes',
  },
  load: { name: 'load', payload: loadPayload, description: 'COPY of one fetched batch into raw.coin_market_snapshots' },
  transform: {
    name: 'transform',
    payload: transformPayload,
    description: 'One dbt run per tick, after every batch loaded or failed',
  },
} as const;

export type QueueKey = keyof typeof QUEUES;
export type PayloadOf<K extends QueueKey> = z.infer<(typeof QUEUES)[K]['payload']>;
export type ResultOf<K extends QueueKey> = {
  tick: TickResult;
  universe: UniverseResult;
  fetch: FetchResult;
  load: LoadResult;
  transform: TransformResult;
}[K];
export const QUEUE_KEYS = Object.keys(QUEUES) as QueueKey[];

/**
 * The name of each queue's jobs, as Bull Board shows it. BullMQ stores it with every job, so keep
 * these byte-identical: a rename leaves older jobs under the old name. A fetch job is named for the
 * CoinGecko call it makes.
 */
export const JOB_NAMES: { readonly [K in QueueKey]: (data: PayloadOf<K>) => string } = {
  tick: () => 'tick',
  universe: () => 'refresh',
  fetch: ({ request }) => (request.endpoint === 'markets' ? 'coins-markets' : request.endpoint),
  load: () => 'copy-batch',
  transform: () => 'dbt-run',
};

/** A failed payload parse as one line: each field's path and what is wrong with it. */
export function describeIssues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join('.') || '(root)'} ${i.message}`).join('; ');
}

/**
 * Deterministic job ids, one function per scheme, for producers, scripts and tests alike: re-adding a
 * tick's flow adds nothing that already exists. Stored in Redis and shown by Bull Board: keep them stable.
 */
export const jobIds = {
  fetch: (runId: string, batchNo: number) => `fetch-${runId}-${batchNo}`,
  load: (runId: string, batchNo: number) => `load-${runId}-${batchNo}`,
  transform: (runId: string) => `transform-${runId}`,
  /** Ticks and universe refreshes added by hand (not by a scheduler); see producers/run-identity.ts. */
  manualTick: (runId: string) => `tick-${runId}`,
  manualUniverse: (refreshId: string) => `universe-${refreshId}`,
  /** One market_chart/range call of a history run (backfill, first start or gap repair). */
  history: (historyRunId: string, itemNo: number) => `history-${historyRunId}-${itemNo}`,
};

/**
 * BullMQ priorities of the fetch queue (lower runs first; jobs without one run before any that has
 * one). Tick and universe calls carry none, so they always go first; history calls share the same
 * limiter and take only the slots ticks leave. Repairs go before backfills: they fill holes in what
 * the dashboard already shows.
 */
export const FETCH_PRIORITY = { repair: 10, backfill: 20 } as const;

/** Scheduler ids (BullMQ job schedulers). */
export const SCHEDULERS = { tick: 'market-tick', universe: 'universe-refresh' } as const;
