import querystring from 'node:querystring';
import { z } from 'zod';
import { API_PARAMS } from '../../../dashboard/api/api-router.js';
import { ParamError, parseQuery } from '../../../dashboard/api/params.js';
import { API_PATH_PARAMS, API_QUERIES, type ApiPath } from '../../../dashboard/api/query-schemas.js';

/**
 * The /api/v1 query schemas (dashboard/api/query-schemas.ts) as a future OpenAPI document would read
 * them: JSON Schema on both sides, a description for every parameter, and that description being
 * exactly what a 400 says. (The HTTP behaviour is market-api.test.ts's and api-fuzz.test.ts's.)
 * Needs no server; it is in the integration project only because jest.config.mjs lists unit files.
 */
const PATHS = Object.keys(API_QUERIES) as ApiPath[];

describe('API_QUERIES', () => {
  it('is where API_PARAMS comes from', () => {
    expect(Object.keys(API_PARAMS)).toEqual(PATHS);
    for (const path of PATHS) expect([path, API_PARAMS[path]]).toEqual([path, Object.keys(API_QUERIES[path].shape)]);
  });

  it.each(PATHS)(
    '%s converts to JSON Schema for the query as sent and as parsed, every parameter described',
    (path) => {
      for (const io of ['input', 'output'] as const) {
        const schema = z.toJSONSchema(API_QUERIES[path], { io }) as {
          additionalProperties?: boolean;
          properties?: Record<string, { description?: string; type?: string }>;
        };
        expect(schema.additionalProperties).toBe(false);
        expect(Object.keys(schema.properties ?? {})).toEqual(API_PARAMS[path]);
        for (const [name, property] of Object.entries(schema.properties ?? {}))
          expect([io, name, typeof property.description]).toEqual([io, name, 'string']);
      }
    },
  );

  it('describes integers as strings of digits on the wire and as bounded integers with their default once parsed', () => {
    const wire = z.toJSONSchema(API_QUERIES['/runs'], { io: 'input' });
    const parsed = z.toJSONSchema(API_QUERIES['/runs'], { io: 'output' });
    expect(wire.properties!.limit).toMatchObject({
      type: 'string',
      pattern: '^[0-9]+$',
      description: 'an integer from 1 to 500',
    });
    expect(parsed.properties!.limit).toMatchObject({ type: 'integer', minimum: 1, maximum: 500, default: 50 });
    expect(z.toJSONSchema(API_PATH_PARAMS).properties!.id).toMatchObject({
      type: 'string',
      pattern: '^[a-z0-9][a-z0-9._-]{0,99}$',
    });
  });

  it.each(PATHS.filter((path) => API_PARAMS[path].length > 0))(
    '%s: a bad value of each parameter is refused with its description',
    (path) => {
      for (const name of API_PARAMS[path]) {
        let error: unknown;
        try {
          parseQuery(API_QUERIES[path], querystring.parse(`${name}=%00&${name}=%00`)); // repeated and a control character: bad for every kind
        } catch (caught) {
          error = caught;
        }
        expect(error).toBeInstanceOf(ParamError);
        expect({ param: (error as ParamError).param, message: (error as ParamError).message }).toEqual({
          param: name,
          message: `${name} must be ${(API_QUERIES[path].shape as Record<string, z.ZodType>)[name]!.description}`,
        });
      }
    },
  );

  it('fills in the defaults and trims search text, blank meaning none', () => {
    expect(parseQuery(API_QUERIES['/coins'], querystring.parse(''))).toEqual({
      sort: 'rank',
      order: 'asc',
      page: 1,
      pageSize: 25,
      changeWindow: '24h', // the screener's window; no bound is set
    });
    expect(parseQuery(API_QUERIES['/coins'], querystring.parse('q=%20bit%20&page=007'))).toMatchObject({
      q: 'bit',
      page: 7,
    });
    expect(parseQuery(API_QUERIES['/coins'], querystring.parse('q=%20%20')).q).toBeUndefined();
    expect(parseQuery(API_QUERIES['/coins/:id/candles'], querystring.parse(''))).toEqual({
      interval: 'hourly',
      range: '7d',
    });
  });
});
