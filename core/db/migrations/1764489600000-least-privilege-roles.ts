import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Least-privilege roles (issue "Reliability and security"). Each process kind connects as one:
 *
 *   cdp_loader       scheduler, fetch and load workers: write raw.* and the run ledger
 *   cdp_transformer  transform worker / dbt: read raw.*, build the dbt schemas, record results
 *   cdp_reader       dashboard, Grafana: read the marts and the pipeline tables, nothing else
 *
 * The roles are created NOLOGIN when missing; deploy/postgres/initdb gives them LOGIN and passwords.
 * Partition DDL needs the table owner, so it goes through SECURITY DEFINER functions that do only
 * that. The reader sees the dbt marts schema (analytics_marts, from the default TRANSFORM_SCHEMA)
 * through default privileges on what cdp_transformer creates there; change them with the schema.
 */
/**
 * Rights on the database itself. They live in the shared catalog (pg_database), so unlike every other
 * grant here they do not travel with `CREATE DATABASE … TEMPLATE`: a clone needs them applied again.
 */
export const DATABASE_GRANTS = `
      do $db$ begin
        execute format('grant connect, temporary on database %I to cdp_loader, cdp_transformer', current_database());
        execute format('grant connect on database %I to cdp_reader', current_database());
        -- dbt creates its own schemas (analytics_staging, _intermediate, _marts).
        execute format('grant create on database %I to cdp_transformer', current_database());
      end $db$;`;

export class LeastPrivilegeRoles1764489600000 implements MigrationInterface {
  name = 'LeastPrivilegeRoles1764489600000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      do $roles$ begin
        if not exists (select from pg_roles where rolname = 'cdp_loader') then create role cdp_loader nologin; end if;
        if not exists (select from pg_roles where rolname = 'cdp_transformer') then create role cdp_transformer nologin; end if;
        if not exists (select from pg_roles where rolname = 'cdp_reader') then create role cdp_reader nologin; end if;
      end $roles$;

      ${DATABASE_GRANTS}

      -- loader
      grant usage on schema raw, pipeline to cdp_loader;
      grant select, insert, update on raw.coins to cdp_loader;
      grant select, insert on raw.coin_market_snapshots to cdp_loader;
      grant select, insert, update on pipeline.pipeline_runs, pipeline.pipeline_batches to cdp_loader;
      grant select, insert on pipeline.quarantined_records to cdp_loader;
      grant usage on sequence pipeline.quarantined_records_quarantine_id_seq to cdp_loader;

      -- Partition DDL as the owner, for the loader (create) and the transformer (retention drop).
      alter function raw.ensure_snapshot_partitions(date, date) security definer set search_path = pg_catalog, raw;
      revoke all on function raw.ensure_snapshot_partitions(date, date) from public;
      grant execute on function raw.ensure_snapshot_partitions(date, date) to cdp_loader, cdp_transformer;

      create function raw.drop_snapshot_partition(p_day date) returns boolean
      language plpgsql security definer set search_path = pg_catalog, raw as $fn$
      declare
        part text := 'coin_market_snapshots_p' || to_char(p_day, 'YYYYMMDD');
      begin
        if to_regclass('raw.' || part) is null then return false; end if;
        perform pg_advisory_xact_lock(hashtext('raw.coin_market_snapshots partitions'));
        execute format('drop table raw.%I', part);
        return true;
      end
      $fn$;
      revoke all on function raw.drop_snapshot_partition(date) from public;
      grant execute on function raw.drop_snapshot_partition(date) to cdp_transformer;

      -- transformer
      grant usage on schema raw, pipeline to cdp_transformer;
      grant select on all tables in schema raw to cdp_transformer;
      grant select on all tables in schema pipeline to cdp_transformer;
      grant update on pipeline.pipeline_runs, pipeline.pipeline_batches to cdp_transformer;
      grant insert, update on pipeline.transform_runs, pipeline.transform_node_results to cdp_transformer;
      grant usage on sequence pipeline.transform_runs_transform_run_id_seq to cdp_transformer;

      -- reader
      grant usage on schema pipeline to cdp_reader;
      grant select on all tables in schema pipeline to cdp_reader;
      create schema if not exists analytics_marts;
      grant all on schema analytics_marts to cdp_transformer;
      grant usage on schema analytics_marts to cdp_reader;
      grant select on all tables in schema analytics_marts to cdp_reader;
      alter default privileges for role cdp_transformer in schema analytics_marts grant select on tables to cdp_reader;
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      alter default privileges for role cdp_transformer in schema analytics_marts revoke select on tables from cdp_reader;
      drop function if exists raw.drop_snapshot_partition(date);
      alter function raw.ensure_snapshot_partitions(date, date) security invoker;
      revoke all on all tables in schema raw, pipeline from cdp_loader, cdp_transformer, cdp_reader;
      revoke all on schema raw, pipeline from cdp_loader, cdp_transformer, cdp_reader;
    `);
  }
}
