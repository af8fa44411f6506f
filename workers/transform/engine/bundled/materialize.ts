import { createHash } from 'node:crypto';
import type pg from 'pg';
import type { IndexSpec } from './plan.js';

export interface Relation {
  readonly schema: string;
  readonly identifier: string;
}

export const relationName = (r: Relation) => `"${r.schema}"."${r.identifier}"`;

async function inTransaction<T>(client: pg.ClientBase, work: () => Promise<T>): Promise<T> {
  await client.query('begin');
  try {
    const result = await work();
    await client.query('commit');
    return result;
  } catch (error) {
    await client.query('rollback').catch(() => undefined);
    throw error;
  }
}

/** view: replaced in one transaction (dependent views would be dropped: keep marts as tables). */
export async function buildView(client: pg.ClientBase, relation: Relation, sql: string): Promise<number | null> {
  await inTransaction(client, async () => {
    await client.query(`drop view if exists ${relationName(relation)} cascade`);
    await client.query(`create view ${relationName(relation)} as (\n${sql}\n)`);
  });
  return null;
}

/**
 * dbt-postgres' create_indexes: `create [unique] index <name> on <relation> [using <type>] (<columns>)`.
 * The name is derived from the index's definition (dbt adds a timestamp; stable names are easier to read).
 */
async function createIndexes(client: pg.ClientBase, relation: Relation, indexes: readonly IndexSpec[]): Promise<void> {
  for (const index of indexes) {
    const hash = createHash('md5')
      .update(`${index.columns.join(',')}|${index.unique}|${index.type ?? ''}`)
      .digest('hex')
      .slice(0, 12);
    const name = `${relation.identifier.slice(0, 48)}__${hash}`;
    const columns = index.columns.map((c) => `"${c.replace(/"/g, '""')}"`).join(', ');
    await client.query(
      `create ${index.unique ? 'unique ' : ''}index "${name}" on ${relationName(relation)} ${index.type ? `using ${index.type} ` : ''}(${columns})`,
    );
  }
}

/** table: built beside the old one and swapped in (with its indexes), so readers never see it empty. */
export async function buildTable(
  client: pg.ClientBase,
  relation: Relation,
  sql: string,
  indexes: readonly IndexSpec[] = [],
): Promise<number | null> {
  const temp: Relation = { schema: relation.schema, identifier: `${relation.identifier}__dbt_tmp` };
  return inTransaction(client, async () => {
    await client.query(`drop table if exists ${relationName(temp)}`);
    const created = await client.query(`create table ${relationName(temp)} as (\n${sql}\n)`);
    await client.query(`drop table if exists ${relationName(relation)} cascade`);
    await client.query(`alter table ${relationName(temp)} rename to "${relation.identifier}"`);
    await createIndexes(client, relation, indexes);
    return created.rowCount;
  });
}

/**
 * incremental, delete+insert (or append without a unique key), as dbt-postgres does it: the model's
 * rows go to a temp table; target rows sharing a unique key with them are deleted; the temp rows are
 * inserted, by the target's column names. All in one transaction.
 */
export async function mergeIncremental(
  client: pg.ClientBase,
  relation: Relation,
  sql: string,
  uniqueKey: readonly string[],
): Promise<number | null> {
  const temp = `"${relation.identifier}__dbt_tmp"`;
  return inTransaction(client, async () => {
    await client.query(`create temp table ${temp} on commit drop as (\n${sql}\n)`);
    const columns = await client.query<{ column_name: string }>(
      `select column_name from information_schema.columns where table_schema = $1 and table_name = $2 order by ordinal_position`,
      [relation.schema, relation.identifier],
    );
    const list = columns.rows.map((c) => `"${c.column_name}"`).join(', ');
    if (uniqueKey.length > 0) {
      // The statement of dbt-adapters' default__get_delete_insert_merge_sql (dbt-postgres uses it). The `in (select distinct ...)`
      // form matters: Postgres estimates the unanalyzed temp table's distinct keys low and probes the
      // target's unique-key index per key; the older `delete ... using <temp> where <keys match>` form
      // was planned as a hash join over a sequential scan of the whole target, a cost that grew with the
      // mart's history.
      const keys = uniqueKey.map((k) => `"${k}"`).join(', ');
      await client.query(
        `delete from ${relationName(relation)} as DBT_INTERNAL_DEST where (${keys}) in (select distinct ${keys} from ${temp} as DBT_INTERNAL_SOURCE)`,
      );
    }
    const inserted = await client.query(`insert into ${relationName(relation)} (${list}) select ${list} from ${temp}`);
    return inserted.rowCount;
  });
}
