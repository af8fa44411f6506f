import { z } from 'zod';
import { API_PATH_PARAMS, API_QUERIES, type ApiPath } from './query-schemas.js';

/** What each endpoint returns, for the document; a route without one is described by its path. */
const SUMMARIES: Partial<Record<ApiPath, string>> = {
  '/runs': 'The newest ticks from the run ledger, newest first',
  '/market/overview': 'Market totals and top movers of the newest hour',
  '/coins': 'One page of the coin table, sorted and filtered',
  '/coins/:id': 'One coin: its newest snapshot and changes',
  '/coins/:id/candles': "A coin's candles (hourly or daily) over a range",
  '/coins.csv': 'The whole coin table as CSV, sorted and filtered as /coins (streamed)',
  '/coins/:id/candles.csv': "A coin's candles over a range as CSV, every one (streamed)",
  '/pipeline/freshness': 'How recent the loaded data is, judged by STALE_AFTER',
  '/pipeline/transform-runs': 'The newest dbt runs, each with every node result',
  '/pipeline/quarantine': 'The newest rejected records with their reasons, and how many there are',
  '/pipeline/stale-coins': 'Tracked coins without a load within STALE_AFTER',
  '/pipeline/stale-observations':
    'Coins CoinGecko lists with a last update older than the raw retention window (recorded once, not loaded), newest first',
  '/pipeline/queues': 'Job counts of every BullMQ queue',
  '/pipeline/history': 'The newest history runs (backfills, the first-start backfill, gap repairs) with their progress',
  '/pipeline/call-budget':
    "The newest tick's CoinGecko calls needed vs allowed per tick interval, and batches superseded in the last hour",
  '/pipeline/gaps':
    'The newest coverage gaps (no tick loaded for longer than GAP_THRESHOLD), open or repaired, and how many are open',
  '/pipeline/operations':
    'Tick duration, rows loaded, rejects, queue backlog and dbt run time over a window, in buckets (at most 360)',
  '/events': 'Server-sent events: one per finished transform run',
  '/openapi.json': 'This document',
  '/anomalies':
    'Price anomalies of every coin in the last 24 h or 7 d, newest first, filtered by rank band, |z| and direction',
  '/anomalies.csv': 'The anomaly feed as CSV, every row, filtered as /anomalies (streamed)',
};

const ERROR = {
  type: 'object',
  required: ['error'],
  properties: { error: { type: 'string' }, parameter: { type: 'string' } },
} as const;

/**
 * The OpenAPI 3.1 document of /api/v1, generated from API_QUERIES: the schemas that parse every
 * request's query (dashboard/api/query-schemas.ts). A route, a parameter, its type, range, default and
 * description cannot be documented differently from how it is validated. Parameters are given as the
 * handler sees them (io: 'output': an integer is an integer), with the string constraints of the
 * query string as sent (a search text's length and characters) added.
 */
export function openApiDocument(): Record<string, unknown> {
  const paths: Record<string, unknown> = {};
  for (const path of Object.keys(API_QUERIES) as ApiPath[]) {
    const hasId = path.includes(':id');
    const parameters = [
      ...(hasId
        ? [
            {
              name: 'id',
              in: 'path',
              required: true,
              description: API_PATH_PARAMS.shape.id.description,
              schema: jsonSchema(API_PATH_PARAMS.shape.id),
              // Required, so it needs an example: `npm run bench -- dashboard` requests every route with them.
              example: 'bitcoin',
            },
          ]
        : []),
      ...Object.entries(API_QUERIES[path].shape).map(([name, field]) => ({
        name,
        in: 'query',
        required: false,
        description: (field as z.ZodType).description,
        schema: jsonSchema(field as z.ZodType),
      })),
    ];
    const responses: Record<string, unknown> = {
      200: {
        description: 'OK',
        content: {
          [path === '/events' ? 'text/event-stream' : path.endsWith('.csv') ? 'text/csv' : 'application/json']: {},
        },
      },
      400: { description: 'A bad or unknown parameter, named', content: { 'application/json': { schema: ERROR } } },
    };
    if (hasId) responses[404] = { description: 'Unknown coin', content: { 'application/json': { schema: ERROR } } };
    if (
      path.startsWith('/coins') ||
      path.startsWith('/anomalies') ||
      path === '/market/overview' ||
      path === '/pipeline/stale-coins'
    )
      responses[503] = {
        description: 'Market data not built yet (no transform has run)',
        content: { 'application/json': { schema: ERROR } },
      };
    paths[path.replace(/:([A-Za-z]+)/g, '{$1}')] = {
      get: {
        operationId: operationId(path),
        summary: SUMMARIES[path] ?? path,
        parameters,
        responses,
      },
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Crypto Data Pipeline dashboard API',
      // The API's version (the /api/v1 of its paths), not the package's.
      version: '1.0.0',
      description:
        'Read-only JSON over the marts and the pipeline ledger. Every parameter is validated before any query: an unknown or bad one is a 400 naming it.',
    },
    servers: [{ url: '/api/v1' }],
    paths,
  };
}

function jsonSchema(field: z.ZodType): Record<string, unknown> {
  const { $schema: _o, ...output } = z.toJSONSchema(field, { io: 'output', unrepresentable: 'any' }) as Record<
    string,
    unknown
  >;
  const { $schema: _i, ...input } = z.toJSONSchema(field, { io: 'input', unrepresentable: 'any' }) as Record<
    string,
    unknown
  >;
  // The query string's own constraints where both sides are strings (maxLength, pattern of a search).
  if (output.type === 'string' && input.type === 'string') {
    for (const [key, value] of Object.entries(input)) if (!(key in output)) output[key] = value;
  }
  return output;
}

function operationId(path: string): string {
  const words = path
    .replace(/\.json$/, '')
    .split(/[/:-]/)
    .filter(Boolean);
  return ['get', ...words].map((w, i) => (i === 0 ? w : w[0]!.toUpperCase() + w.slice(1))).join('');
}
