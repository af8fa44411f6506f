import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Partition maintenance that never makes loads queue behind DDL for long:
 *
 * - raw.ensure_snapshot_partitions creates each day's table on its own and then ATTACHes it. `create
 *   table … partition of` takes an ACCESS EXCLUSIVE lock on the parent, so it waited behind any open
 *   load transaction and every later load queued behind it; ATTACH PARTITION takes SHARE UPDATE
 *   EXCLUSIVE, which loads (ROW EXCLUSIVE) and readers (ACCESS SHARE) do not conflict with.
 * - raw.drop_snapshot_partition(day, lock_timeout_ms) waits at most that long for the parent's lock
 *   (dropping a partition needs ACCESS EXCLUSIVE on it). A load running longer makes it answer 'busy'
 *   instead of waiting; retention tries again after the next transform. Loads queue behind a waiting
 *   drop for at most the timeout. DETACH … CONCURRENTLY would not wait at all, but it cannot run inside
 *   a function, and the transform worker's role does not own the table.
 * - raw.analyze_snapshot_partition(day): the transform worker's role may not ANALYZE raw tables, and
 *   autovacuum analyzes a new, insert-only partition late (see core/snapshots/partition-statistics.ts).
 */
export class PartitionMaintenance1765300000000 implements MigrationInterface {
  name = 'PartitionMaintenance1765300000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      create or replace function raw.ensure_snapshot_partitions(p_from date, p_to date) returns integer
      language plpgsql security definer set search_path = pg_catalog, raw as $fn$
      declare
        d date := p_from;
        created integer := 0;
        part text;
        space text;
      begin
        perform pg_advisory_xact_lock(hashtext('raw.coin_market_snapshots partitions'));
        -- A table created on its own does not inherit the parent's tablespace as PARTITION OF does:
        -- name it (an operator who moved raw to its own disk keeps every new day there).
        select t.spcname into space
          from pg_class c join pg_tablespace t on t.oid = c.reltablespace
         where c.oid = 'raw.coin_market_snapshots'::regclass;
        while d <= p_to loop
          part := 'coin_market_snapshots_p' || to_char(d, 'YYYYMMDD');
          if to_regclass('raw.' || part) is null then
            -- Columns, defaults, storage and compression as the parent's; ATTACH adds the parent's indexes.
            execute format('create table raw.%I (like raw.coin_market_snapshots including all excluding indexes)%s',
                           part, case when space is null then '' else format(' tablespace %I', space) end);
            execute format(
              'alter table raw.coin_market_snapshots attach partition raw.%I for values from (%L) to (%L)',
              part, d::timestamptz at time zone 'UTC', (d + 1)::timestamptz at time zone 'UTC');
            created := created + 1;
          end if;
          d := d + 1;
        end loop;
        return created;
      end
      $fn$;

      drop function raw.drop_snapshot_partition(date);
      create function raw.drop_snapshot_partition(p_day date, p_lock_timeout_ms integer) returns text
      language plpgsql security definer set search_path = pg_catalog, raw as $fn$
      declare
        part text := 'coin_market_snapshots_p' || to_char(p_day, 'YYYYMMDD');
      begin
        if to_regclass('raw.' || part) is null then return 'absent'; end if;
        perform set_config('lock_timeout', greatest(p_lock_timeout_ms, 1) || 'ms', true);
        begin
          perform pg_advisory_xact_lock(hashtext('raw.coin_market_snapshots partitions'));
          execute format('drop table raw.%I', part);
        exception when lock_not_available then
          return 'busy';
        end;
        return 'dropped';
      end
      $fn$;
      revoke all on function raw.drop_snapshot_partition(date, integer) from public;
      grant execute on function raw.drop_snapshot_partition(date, integer) to cdp_transformer;

      create function raw.analyze_snapshot_partition(p_day date) returns boolean
      language plpgsql security definer set search_path = pg_catalog, raw as $fn$
      declare
        part text := 'coin_market_snapshots_p' || to_char(p_day, 'YYYYMMDD');
      begin
        if to_regclass('raw.' || part) is null then return false; end if;
        execute format('analyze raw.%I', part);
        return true;
      end
      $fn$;
      revoke all on function raw.analyze_snapshot_partition(date) from public;
      grant execute on function raw.analyze_snapshot_partition(date) to cdp_transformer;
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      drop function raw.analyze_snapshot_partition(date);
      drop function raw.drop_snapshot_partition(date, integer);
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

      create or replace function raw.ensure_snapshot_partitions(p_from date, p_to date) returns integer
      language plpgsql security definer set search_path = pg_catalog, raw as $fn$
      declare
        d date := p_from;
        created integer := 0;
        part text;
      begin
        perform pg_advisory_xact_lock(hashtext('raw.coin_market_snapshots partitions'));
        while d <= p_to loop
          part := 'coin_market_snapshots_p' || to_char(d, 'YYYYMMDD');
          if to_regclass('raw.' || part) is null then
            execute format(
              'create table raw.%I partition of raw.coin_market_snapshots for values from (%L) to (%L)',
              part, d::timestamptz at time zone 'UTC', (d + 1)::timestamptz at time zone 'UTC');
            created := created + 1;
          end if;
          d := d + 1;
        end loop;
        return created;
      end
      $fn$;
    `);
  }
}
