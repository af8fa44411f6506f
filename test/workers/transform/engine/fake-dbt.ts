import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A STAND-IN for dbt: dbt-core cannot be installed here (no PyPI), so the dbt runner is tested against
 * this executable. It records its arguments and DBT_* environment (and PGOPTIONS), writes artifacts shaped like dbt
 * 1.x's target/run_results.json and sources.json, and exits with FAKE_DBT_BUILD_EXIT (default 0).
 * With FAKE_DBT_FAIL_TEST set, that test is reported as failing.
 */
export function installFakeDbt(): { dir: string; callsFile: string } {
  const dir = mkdtempSync(join(tmpdir(), 'cdp-fake-dbt-'));
  const callsFile = join(dir, 'calls.jsonl');
  const script = `#!/usr/bin/env node
const fs = require('node:fs');
const path = require('node:path');
const args = process.argv.slice(2);
const opt = (name) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : undefined; };
const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith('DBT_') || k === 'PGOPTIONS'));
fs.appendFileSync(${JSON.stringify(callsFile)}, JSON.stringify({ args, env }) + '\\n');
const target = opt('--target-path');
const t = (s) => ({ name: 'execute', started_at: '2026-11-27T10:00:0' + s + '.000000Z', completed_at: '2026-11-27T10:00:0' + s + '.500000Z' });
const meta = { dbt_schema_version: 'https://schemas.getdbt.com/dbt/run-results/v6.json', dbt_version: '1.12.6', generated_at: '2026-11-27T10:00:09Z', invocation_id: 'fake' };
if (args[0] === 'source') {
  fs.writeFileSync(opt('--output'), JSON.stringify({ metadata: meta, elapsed_time: 0.2, results: [
    { unique_id: 'source.crypto_pipeline.coingecko.coin_market_snapshots', status: 'pass', max_loaded_at: '2026-11-27T09:59:00Z', snapshotted_at: '2026-11-27T10:00:00Z', max_loaded_at_time_ago_in_s: 60, execution_time: 0.05, timing: [t(0)], adapter_response: {}, thread_id: 'Thread-1' } ] }));
  process.exit(0);
}
const failing = process.env.FAKE_DBT_FAIL_TEST;
const results = [
  { unique_id: 'model.crypto_pipeline.stg_coingecko__coin_markets', status: 'success', execution_time: 0.1, timing: [t(1)], adapter_response: { _message: 'CREATE VIEW', code: 'CREATE VIEW', rows_affected: -1 }, message: 'CREATE VIEW', failures: null, thread_id: 'Thread-1' },
  { unique_id: 'model.crypto_pipeline.int_coin_prices__hourly', status: 'success', execution_time: 0.4, timing: [t(2)], adapter_response: { _message: 'INSERT 0 120', code: 'INSERT', rows_affected: 120 }, message: 'INSERT 0 120', failures: null, thread_id: 'Thread-1' },
  { unique_id: 'test.crypto_pipeline.not_null_dim_coins_coin_id.8a2c9d1e0f', status: 'pass', execution_time: 0.02, timing: [t(3)], adapter_response: {}, message: null, failures: 0, thread_id: 'Thread-1' },
  { unique_id: 'test.crypto_pipeline.assert_snapshot_24h_range_consistent', status: 'warn', execution_time: 0.02, timing: [t(4)], adapter_response: {}, message: 'Got 2 results, configured to warn if != 0', failures: 2, thread_id: 'Thread-1' },
];
if (failing) {
  results.push({ unique_id: 'test.crypto_pipeline.' + failing, status: 'fail', execution_time: 0.02, timing: [t(5)], adapter_response: {}, message: 'Got 1 result, configured to fail if != 0', failures: 1, thread_id: 'Thread-1' });
  results.push({ unique_id: 'model.crypto_pipeline.fct_coin_candles_hourly', status: 'skipped', execution_time: 0, timing: [], adapter_response: {}, message: null, failures: null, thread_id: 'Thread-1' });
}
fs.mkdirSync(target, { recursive: true });
if (process.env.FAKE_DBT_BUILD_EXIT !== '2') fs.writeFileSync(path.join(target, 'run_results.json'), JSON.stringify({ metadata: meta, results, elapsed_time: 1.2, args: {} }));
if (process.env.FAKE_DBT_BUILD_EXIT === '2') console.error('Encountered an error: Database Error: connection refused');
process.exit(Number(process.env.FAKE_DBT_BUILD_EXIT ?? (failing ? 1 : 0)));
`;
  writeFileSync(join(dir, 'dbt'), script);
  chmodSync(join(dir, 'dbt'), 0o755);
  return { dir, callsFile };
}
