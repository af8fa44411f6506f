import { execFile, execFileSync } from 'node:child_process';
import { chownSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { runMigrations } from '../../core/db/data-source.js';
import { freePort } from './free-port.js';

const run = promisify(execFile);
const BIN = '/usr/lib/postgresql/15/bin';
// initdb and postgres refuse to run as root; in that case they run as the `postgres` OS user.
const AS_ROOT = process.getuid?.() === 0;

function pgCommand(tool: string, args: readonly string[]): [string, string[]] {
  return AS_ROOT
    ? ['runuser', ['-u', 'postgres', '--', path.join(BIN, tool), ...args]]
    : [path.join(BIN, tool), [...args]];
}

async function pgTool(tool: string, args: readonly string[]): Promise<string> {
  const [file, argv] = pgCommand(tool, args);
  try {
    return (await run(file, argv, { timeout: 60_000 })).stdout;
  } catch (error) {
    const e = error as { stderr?: string; stdout?: string; message: string };
    throw new Error(`${tool} ${args.join(' ')} failed: ${e.stderr || e.stdout || e.message}`);
  }
}

/** Instances not yet stopped, so a test process that dies early still shuts them down. */
const live = new Set<PrivatePostgres>();
process.once('exit', () => {
  for (const instance of live) instance.stopSync();
});

/**
 * A PostgreSQL 15 cluster of the test's own (initdb into a temp dir, free port, trust auth), so a
 * test can restart it, fill its disk or break it without touching the shared server. Databases are
 * created and migrated with the project's migrations, as in production.
 */
export class PrivatePostgres {
  private readonly mounts: string[] = [];
  private constructor(
    readonly port: number,
    readonly dir: string,
  ) {}

  get dataDir(): string {
    return path.join(this.dir, 'data');
  }

  static async start(): Promise<PrivatePostgres> {
    const dir = mkdtempSync(path.join(tmpdir(), 'cdp-pg-'));
    if (AS_ROOT) chownSync(dir, ...postgresIds());
    const instance = new PrivatePostgres(await freePort(), dir);
    live.add(instance);
    try {
      await pgTool('initdb', [
        '-D',
        instance.dataDir,
        '-U',
        'postgres',
        '-A',
        'trust',
        '-E',
        'UTF8',
        '--locale=C',
        '--no-sync',
      ]);
      // fsync off: a Postgres crash (immediate stop) still finds its writes in the OS page cache, which
      // is all these tests need; synchronous_commit stays on so a committed load survives a crash.
      const options = `-p ${instance.port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off -c shared_buffers=32MB -c max_connections=60`;
      await pgTool('pg_ctl', [
        '-D',
        instance.dataDir,
        '-l',
        path.join(dir, 'server.log'),
        '-o',
        options,
        '-w',
        '-t',
        '60',
        'start',
      ]);
    } catch (error) {
      await instance.stop();
      throw error;
    }
    return instance;
  }

  url(database = 'postgres'): string {
    return `postgres://postgres@127.0.0.1:${this.port}/${database}`;
  }

  /** Creates a database and applies the project's migrations to it; returns its URL. */
  async createDatabase(name: string): Promise<string> {
    const admin = new pg.Client({ connectionString: this.url() });
    await admin.connect();
    try {
      await admin.query(`create database ${name}`);
    } finally {
      await admin.end();
    }
    await runMigrations(this.url(name));
    return this.url(name);
  }

  /** `pg_ctl restart -m <mode>`: fast ends every session (57P01) and checkpoints; immediate crashes and recovers from WAL. */
  async restart(mode: 'fast' | 'immediate'): Promise<void> {
    // -l again: without it the new postmaster would log to (and hold open) pg_ctl's stdout pipe.
    await pgTool('pg_ctl', [
      '-D',
      this.dataDir,
      '-l',
      path.join(this.dir, 'server.log'),
      '-m',
      mode,
      '-w',
      '-t',
      '60',
      'restart',
    ]);
  }

  /**
   * A tmpfs of `sizeBytes` mounted under the instance's dir, with an empty directory `tablespace`
   * inside it owned by postgres (CREATE TABLESPACE wants an empty directory). The rest of the mount
   * is free for filler files. Unmounted by stop().
   */
  mountTinyDisk(name: string, sizeBytes: number): { mount: string; tablespaceDir: string } {
    const mount = path.join(this.dir, name);
    mkdirSync(mount);
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeBytes},mode=0755`, 'tmpfs', mount]);
    this.mounts.push(mount);
    const tablespaceDir = path.join(mount, 'tablespace');
    mkdirSync(tablespaceDir);
    if (AS_ROOT) chownSync(tablespaceDir, ...postgresIds());
    return { mount, tablespaceDir };
  }

  async stop(): Promise<void> {
    live.delete(this);
    await pgTool('pg_ctl', ['-D', this.dataDir, '-m', 'immediate', '-w', 'stop']).catch(() => undefined);
    this.cleanup();
  }

  /** Synchronous stop for process exit (no event loop left). */
  stopSync(): void {
    live.delete(this);
    try {
      const [file, argv] = pgCommand('pg_ctl', ['-D', this.dataDir, '-m', 'immediate', '-w', 'stop']);
      execFileSync(file, argv, { stdio: 'ignore', timeout: 30_000 });
    } catch {
      // not running
    }
    this.cleanup();
  }

  private cleanup(): void {
    for (const mount of this.mounts.splice(0).reverse()) {
      try {
        execFileSync('umount', ['-l', mount], { stdio: 'ignore' });
      } catch {
        // already gone
      }
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function postgresIds(): [number, number] {
  const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
  return [uid, gid];
}
