import { MarketSnapshot } from '../../../core/db/entities/market-snapshot.js';
import { RAW_SNAPSHOT_COLUMNS, type RawColumn } from '../../../core/snapshots/raw-columns.js';
import { useEntityDataSource } from '../../helpers/database.js';

/**
 * core/snapshots/raw-columns.ts declares raw.coin_market_snapshots once for the code (the COPY column
 * list and snapshotRow follow from it). The two places that cannot be derived from it, the table the
 * migrations made and the TypeORM entity, are held to it here: a column added, dropped, renamed,
 * retyped or made nullable in one of the three and not the others fails.
 */
interface ColumnShape {
  readonly name: string;
  readonly type: string;
  readonly nullable: boolean;
  /** Whether Postgres fills it in when a load leaves it out. */
  readonly hasDefault: boolean;
}

const byName = (a: ColumnShape, b: ColumnShape) => a.name.localeCompare(b.name);
const declared: ColumnShape[] = RAW_SNAPSHOT_COLUMNS.map((c: RawColumn) => ({
  name: c.name,
  type: c.type,
  nullable: c.nullable,
  hasDefault: 'columnDefault' in c.value,
})).sort(byName);

/** information_schema's data_type for the types the declaration names by TypeORM's spelling. */
const INFORMATION_SCHEMA_TYPES: Record<string, string> = { 'timestamp with time zone': 'timestamptz' };

describe('raw.coin_market_snapshots as core/snapshots/raw-columns.ts declares it', () => {
  const held = useEntityDataSource();

  it('is the table a migrated database has: every column, with its type, nullability and default', async () => {
    const { rows } = await held.db.pool.query<{
      column_name: string;
      data_type: string;
      is_nullable: 'YES' | 'NO';
      column_default: string | null;
    }>(
      `select column_name, data_type, is_nullable, column_default from information_schema.columns
        where table_schema = 'raw' and table_name = 'coin_market_snapshots'`,
    );
    const actual: ColumnShape[] = rows
      .map((r) => ({
        name: r.column_name,
        type: INFORMATION_SCHEMA_TYPES[r.data_type] ?? r.data_type,
        nullable: r.is_nullable === 'YES',
        hasDefault: r.column_default !== null,
      }))
      .sort(byName);
    expect(actual.length).toBeGreaterThan(30);
    expect(actual).toEqual(declared);
  });

  it('is what the TypeORM entity maps', () => {
    const metadata = held.dataSource.getMetadata(MarketSnapshot);
    const actual: ColumnShape[] = metadata.columns
      .map((c) => ({
        name: c.databaseName,
        type: String(c.type),
        nullable: c.isNullable,
        hasDefault: c.default !== undefined,
      }))
      .sort(byName);
    expect(actual).toEqual(declared);
    expect(metadata.primaryColumns.map((c) => c.databaseName)).toEqual(['coin_id', 'vs_currency', 'last_updated']);
  });
});
