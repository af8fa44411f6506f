import express from 'express';
import { createApiRouter, type ApiDeps } from '../../../dashboard/api/api-router.js';
import { API_QUERIES, type ApiPath } from '../../../dashboard/api/query-schemas.js';
import { call, serve, type Served } from '../http.js';

/**
 * GET /api/v1/openapi.json: the OpenAPI 3.1 document, generated from the schemas that validate each
 * request. Checked against the router itself (the routes Express really serves), so a route added
 * without a schema, or a schema without a route, fails here. The router is built over a stand-in
 * pool that fails any use: the document reads no table.
 */
let served: Served;
let router: express.Router;
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the document's shape is what is under test
let doc: any;

beforeAll(async () => {
  const pool = new Proxy(
    {},
    {
      get: (_target, name) => {
        throw new Error(`the OpenAPI document must not touch the database (pool.${String(name)})`);
      },
    },
  ) as ApiDeps['pool'];
  router = createApiRouter({
    pool,
    martsSchema: 'analytics_marts',
    staleAfterSeconds: 900,
    queues: [],
    timeoutMs: 1000,
  });
  const app = express();
  app.use('/api/v1', router);
  served = await serve(app);
  const reply = await call(`${served.url}/api/v1/openapi.json`);
  expect(reply.status).toBe(200);
  expect(reply.headers.get('content-type')).toMatch(/^application\/json/);
  doc = reply.json();
});
afterAll(async () => {
  await served?.close();
});

/** The GET routes the router serves, as OpenAPI writes paths ({id} for :id). */
function servedRoutes(): string[] {
  return router.stack
    .filter((layer) => layer.route?.path !== undefined)
    .map((layer) => String(layer.route!.path).replace(/:([A-Za-z]+)/g, '{$1}'))
    .sort();
}

describe('GET /api/v1/openapi.json', () => {
  it('is an OpenAPI 3.1 document of /api/v1', () => {
    expect(doc).toMatchObject({ openapi: '3.1.0', info: { title: expect.any(String), version: '1.0.0' } });
    expect(doc.servers).toEqual([{ url: '/api/v1' }]);
  });

  it('lists every route the router serves, and nothing else', () => {
    expect(Object.keys(doc.paths).sort()).toEqual(servedRoutes());
    expect(servedRoutes()).toContain('/openapi.json');
  });

  it.each(Object.keys(API_QUERIES) as ApiPath[])(
    'documents %s with exactly the parameters its schema validates',
    (path) => {
      const operation = doc.paths[path.replace(/:([A-Za-z]+)/g, '{$1}')].get;
      const query = operation.parameters.filter((p: { in: string }) => p.in === 'query');
      expect(query.map((p: { name: string }) => p.name)).toEqual(Object.keys(API_QUERIES[path].shape));
      for (const parameter of operation.parameters) {
        expect([parameter.name, typeof parameter.description, typeof parameter.schema?.type]).toEqual([
          parameter.name,
          'string',
          'string',
        ]);
      }
      expect(operation.parameters.some((p: { in: string }) => p.in === 'path')).toBe(path.includes(':id'));
      expect(typeof operation.operationId).toBe('string');
      expect(operation.summary).not.toBe(path); // every route says what it returns
      expect(Object.keys(operation.responses)).toEqual(expect.arrayContaining(['200', '400']));
    },
  );

  it('gives each parameter its type, bounds and default as validated', () => {
    const coins = doc.paths['/coins'].get.parameters;
    const byName = (name: string) => coins.find((p: { name: string }) => p.name === name).schema;
    expect(byName('pageSize')).toMatchObject({ type: 'integer', minimum: 1, maximum: 100, default: 25 });
    expect(byName('sort')).toMatchObject({
      type: 'string',
      default: 'rank',
      enum: expect.arrayContaining(['rank', 'volume']),
    });
    expect(byName('q')).toMatchObject({ type: 'string', maxLength: 64 });
    const id = doc.paths['/coins/{id}/candles'].get.parameters.find((p: { in: string }) => p.in === 'path');
    expect(id).toMatchObject({ name: 'id', required: true, schema: { type: 'string', pattern: expect.any(String) } });
  });

  // The dashboard benchmark requests every route of this document, filling in these examples; a
  // parameter with neither an example nor a default would leave it unable to (and it fails loudly).
  it('gives every parameter without a default a valid example', () => {
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const p of (item as { get: { parameters: Record<string, unknown>[] } }).get.parameters) {
        const schema = p.schema as { default?: unknown; pattern?: string };
        if (schema.default !== undefined) continue;
        if (!p.required) continue;
        expect([path, p.name, typeof p.example]).toEqual([path, p.name, 'string']);
        if (schema.pattern) expect(String(p.example)).toMatch(new RegExp(schema.pattern));
      }
    }
  });

  it('has unique operation ids', () => {
    const ids = Object.values(doc.paths).map((p) => (p as { get: { operationId: string } }).get.operationId);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
