import type { GenericTestSpec } from './project.js';

/** dbt's name for a generic test node, e.g. not_null_dim_coins_coin_id. */
export function genericTestName(spec: GenericTestSpec, renderedArgs: Record<string, unknown>): string {
  const owner = spec.model ?? `source_${spec.source!.replace('.', '_')}`;
  const base = `${spec.test}_${owner}_${spec.column}`;
  if (spec.test === 'accepted_values')
    return `${base}__${(renderedArgs.values as unknown[]).map(String).join('__')}`.replace(/[^A-Za-z0-9_]/g, '_');
  if (spec.test === 'relationships')
    return `${base}__${String(renderedArgs.field)}__${String(spec.args.to)}`.replace(/[^A-Za-z0-9_]/g, '_');
  return base;
}

const quoteLiteral = (value: unknown) => `'${String(value).replace(/'/g, "''")}'`;
const quoteIdent = (name: string) => `"${name.replace(/"/g, '""')}"`;

/**
 * The SQL of dbt's four built-in generic tests, as dbt-core writes them: each selects the failing rows.
 * `relation` is the tested model or source; `args.to` has already been rendered to a relation.
 */
export function genericTestSql(spec: GenericTestSpec, relation: string, args: Record<string, unknown>): string {
  const column = quoteIdent(spec.column);
  switch (spec.test) {
    case 'unique':
      return `select ${column} as unique_field, count(*) as n_records from ${relation} where ${column} is not null group by ${column} having count(*) > 1`;
    case 'not_null':
      return `select ${column} from ${relation} where ${column} is null`;
    case 'accepted_values':
      return `with all_values as (select ${column} as value_field, count(*) as n_records from ${relation} group by ${column})
              select * from all_values where value_field not in (${(args.values as unknown[]).map(quoteLiteral).join(', ')})`;
    case 'relationships':
      return `with child as (select ${column} as from_field from ${relation} where ${column} is not null),
                   parent as (select ${quoteIdent(String(args.field))} as to_field from ${String(args.to)})
              select from_field from child left join parent on child.from_field = parent.to_field where parent.to_field is null`;
    default:
      throw new Error(`unknown generic test ${spec.test}`);
  }
}
