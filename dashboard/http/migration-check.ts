import type { DataSource } from 'typeorm';
import { createDataSource, pendingMigrations } from '../../core/db/data-source.js';

/**
 * The readiness probe's "is a migration pending?" over a small TypeORM data source, connected on first
 * use and again after a failure: the dashboard must start (and say "not ready") while Postgres is down.
 */
export function migrationCheck(databaseUrl: string): { pending: () => Promise<boolean>; close: () => Promise<void> } {
  const dataSource = createDataSource(databaseUrl, { poolMax: 1 });
  let connecting: Promise<DataSource> | undefined;
  const connected = (): Promise<DataSource> => {
    if (dataSource.isInitialized) return Promise.resolve(dataSource);
    connecting ??= dataSource.initialize().finally(() => {
      connecting = undefined;
    });
    return connecting;
  };
  return {
    pending: async () => pendingMigrations(await connected()),
    close: async () => {
      await connecting?.catch(() => undefined);
      if (dataSource.isInitialized) await dataSource.destroy();
    },
  };
}
