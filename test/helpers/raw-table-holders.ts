import type pg from 'pg';

/** A session holding a lock on raw.coin_market_snapshots until released. */
export interface RawTableHolder {
  /** Whether its transaction is still open (pg_stat_activity says so). */
  isOpen(): Promise<boolean>;
  release(): Promise<void>;
}

/**
 * A long-running load: a transaction that has inserted one snapshot at `at` (creating its partition
 * first) and stays open, holding ROW EXCLUSIVE on the raw table as a load's COPY does.
 */
export async function holdRawTableInLoad(pool: pg.Pool, at: string): Promise<RawTableHolder> {
  await pool.query('select raw.ensure_snapshot_partitions($1::date, $1::date)', [at.slice(0, 10)]);
  const client = await pool.connect();
  await client.query('begin');
  await client.query(
    `insert into raw.coin_market_snapshots (coin_id, vs_currency, last_updated, run_id, batch_no, symbol, name, record)
     values ('long-load', 'usd', $1, 'mlong', 0, 'l', 'Long', '{}')`,
    [at],
  );
  const pid = (await client.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0]!.pid;
  return {
    async isOpen() {
      const result = await pool.query<{ open: boolean }>(
        "select exists (select 1 from pg_stat_activity where pid = $1 and state like 'idle in transaction%') as open",
        [pid],
      );
      return result.rows[0]!.open;
    },
    async release() {
      await client.query('rollback');
      client.release();
    },
  };
}
