import { useEntityDataSource } from '../../helpers/database.js';

/**
 * The migrations are the schema; the entities describe it to TypeORM. If the two drift apart,
 * `typeorm migration:generate -d dist/ormconfig.js` writes a migration that "fixes" the database
 * to match the entities (dropping indexes, constraints and defaults the migrations made). The
 * comparison it runs is the schema builder's log(): on a freshly migrated database it must be empty.
 */
describe('TypeORM entities match the migrations', () => {
  const held = useEntityDataSource();

  it('a migrated database needs no schema change according to the entities', async () => {
    const sql = await held.dataSource.driver.createSchemaBuilder().log();
    const queries = sql.upQueries.map((q) => q.query);
    // The queries themselves in the failure message, so a future drift says what drifted.
    expect({ count: queries.length, queries }).toEqual({ count: 0, queries: [] });
  });
});
