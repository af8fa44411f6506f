import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The dashboard connects as cdp_reader, and its readiness probe asks TypeORM whether a migration is
 * pending: TypeORM looks the migrations table up in information_schema (which lists only tables the
 * role has a privilege on; without one it tries to create the table) and then reads it. Reading that
 * one table is all the reader needs; it still cannot write it or anything else in public.
 */
export class ReaderReadsMigrations1764662400000 implements MigrationInterface {
  name = 'ReaderReadsMigrations1764662400000';

  async up(q: QueryRunner): Promise<void> {
    await q.query('grant select on public.typeorm_migrations to cdp_reader');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('revoke select on public.typeorm_migrations from cdp_reader');
  }
}
