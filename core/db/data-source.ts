import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { Coin } from './entities/coin.js';
import { MarketSnapshot } from './entities/market-snapshot.js';
import { PipelineBatch } from './entities/pipeline-batch.js';
import { PipelineRun } from './entities/pipeline-run.js';
import { QuarantinedRecord } from './entities/quarantined-record.js';
import { InitialSchema1764230400000 } from './migrations/1764230400000-initial-schema.js';
import { LeastPrivilegeRoles1764489600000 } from './migrations/1764489600000-least-privilege-roles.js';
import { SnapshotsLoadedAtIndex1764576000000 } from './migrations/1764576000000-snapshots-loaded-at-index.js';
import { ReaderReadsMigrations1764662400000 } from './migrations/1764662400000-reader-reads-migrations.js';
import { LoadBarrier1764748800000 } from './migrations/1764748800000-load-barrier.js';
import { VanishedTransforms1764835200000 } from './migrations/1764835200000-vanished-transforms.js';
import { History1765000000000 } from './migrations/1765000000000-history.js';
import { SupersededBatches1765100000000 } from './migrations/1765100000000-superseded-batches.js';
import { CoverageGaps1765200000000 } from './migrations/1765200000000-coverage-gaps.js';
import { PartitionMaintenance1765300000000 } from './migrations/1765300000000-partition-maintenance.js';
import { StaleObservations1765400000000 } from './migrations/1765400000000-stale-observations.js';
import { ReplayableRawRecords1765500000000 } from './migrations/1765500000000-replayable-raw-records.js';
import { TransformResults1764403200000 } from './migrations/1764403200000-transform-results.js';
import { QueueDepthAtPlan1765700000000 } from './migrations/1765700000000-queue-depth-at-plan.js';

export const ENTITIES = [Coin, MarketSnapshot, PipelineRun, PipelineBatch, QuarantinedRecord];
/** Every schema change, in order. A new migration is appended here and nowhere else. */
export const MIGRATIONS = [
  InitialSchema1764230400000,
  TransformResults1764403200000,
  LeastPrivilegeRoles1764489600000,
  SnapshotsLoadedAtIndex1764576000000,
  ReaderReadsMigrations1764662400000,
  LoadBarrier1764748800000,
  VanishedTransforms1764835200000,
  History1765000000000,
  SupersededBatches1765100000000,
  CoverageGaps1765200000000,
  PartitionMaintenance1765300000000,
  StaleObservations1765400000000,
  ReplayableRawRecords1765500000000,
  QueueDepthAtPlan1765700000000,
];

export function createDataSource(databaseUrl: string, options: { poolMax?: number } = {}): DataSource {
  return new DataSource({
    type: 'postgres',
    url: databaseUrl,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsTableName: 'typeorm_migrations',
    migrationsTransactionMode: 'each',
    extra: { max: options.poolMax ?? 2, application_name: 'cdp-typeorm' },
    logging: false,
  });
}

/** Applies pending migrations; returns the names applied. Safe to run from many processes at once. */
export async function runMigrations(databaseUrl: string): Promise<string[]> {
  const dataSource = createDataSource(databaseUrl);
  await dataSource.initialize();
  try {
    // Serialize concurrent migrators (demo start, compose migrate job, tests) on one advisory lock.
    await dataSource.query('select pg_advisory_lock(hashtext($1))', ['cdp-migrations']);
    const applied = await dataSource.runMigrations({ transaction: 'each' });
    return applied.map((m) => m.name);
  } finally {
    await dataSource.query('select pg_advisory_unlock_all()').catch(() => undefined);
    await dataSource.destroy();
  }
}

/** Names of migrations not yet applied (readiness checks use this). */
export async function pendingMigrations(dataSource: DataSource): Promise<boolean> {
  return dataSource.showMigrations();
}
