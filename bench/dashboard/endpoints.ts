/**
 * The endpoints the dashboard benchmark requests, derived from the dashboard's own OpenAPI document
 * (GET /api/v1/openapi.json, dashboard/api/openapi.ts): a route added to the API is benched without
 * an edit here. Each parameter is filled in from the document: an enum spreads over its values, a
 * parameter named in SPREAD over the synthetic data's keys (every coin, every page), any other from
 * its example, else left out (its default applies). A required parameter with no example stops the
 * benchmark, naming it.
 */

/** What a request to the endpoint is timed to: the whole JSON body, or the first byte of a stream. */
export type EndpointKind = 'json' | 'first-byte';

export interface BenchEndpoint {
  /** The path as documented, e.g. /api/v1/coins/{id}/candles. */
  readonly name: string;
  readonly kind: EndpointKind;
  /** A request path with parameters filled in; a new one each call, spread over the keys a user could ask for. */
  readonly path: (rnd: () => number) => string;
}

interface Parameter {
  readonly name: string;
  readonly in: string;
  readonly required?: boolean;
  readonly example?: unknown;
  readonly schema?: { readonly enum?: readonly string[]; readonly default?: unknown };
}

interface Operation {
  readonly parameters?: readonly Parameter[];
  readonly responses?: Record<string, { readonly content?: Record<string, unknown> }>;
}

/** Values spread over the benchmark's data, by parameter name. */
export type Spread = Readonly<Partial<Record<string, (rnd: () => number) => string>>>;

export const pickFrom = <T>(rnd: () => number, values: readonly T[]): T => values[Math.floor(rnd() * values.length)]!;

/** Every GET operation of `doc` as a benchmark endpoint; throws for a parameter it cannot fill in. */
export function endpointsFromOpenApi(doc: unknown, spread: Spread): BenchEndpoint[] {
  const { servers, paths } = doc as { servers?: { url: string }[]; paths?: Record<string, { get?: Operation }> };
  const base = servers?.[0]?.url ?? '';
  if (!paths) throw new Error('the OpenAPI document has no paths');
  const missing: string[] = [];
  const endpoints = Object.entries(paths).flatMap(([path, item]) => {
    const op = item.get;
    if (!op) return [];
    const content = Object.keys(op.responses?.['200']?.content ?? {});
    const kind: EndpointKind = content.some((c) => c !== 'application/json') ? 'first-byte' : 'json';
    const fill: { name: string; in: string; value: (rnd: () => number) => string }[] = [];
    for (const p of op.parameters ?? []) {
      const example = p.example;
      const values = p.schema?.enum;
      const value =
        spread[p.name] ??
        (values?.length
          ? (rnd: () => number) => pickFrom(rnd, values)
          : example !== undefined
            ? () => String(example)
            : undefined);
      if (value) fill.push({ name: p.name, in: p.in, value });
      else if (p.required || p.in === 'path') missing.push(`${path}: parameter "${p.name}" (${p.in})`);
    }
    return [
      {
        name: `${base}${path}`,
        kind,
        path: (rnd: () => number) => {
          let url = `${base}${path}`;
          const query = new URLSearchParams();
          for (const f of fill) {
            if (f.in === 'path') url = url.replace(`{${f.name}}`, encodeURIComponent(f.value(rnd)));
            else query.set(f.name, f.value(rnd));
          }
          const q = query.toString();
          return q ? `${url}?${q}` : url;
        },
      },
    ];
  });
  if (missing.length > 0)
    throw new Error(
      `the OpenAPI document gives no example for ${missing.join(', ')}: the benchmark cannot request ` +
        'these routes; add an example where the parameter is documented (dashboard/api/openapi.ts)',
    );
  return endpoints;
}
