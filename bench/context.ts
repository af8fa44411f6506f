import type { BenchContext, BenchDatabase } from './benchmark.js';
import { benchDatabaseName, benchPrefix, createBenchDatabase, deletePrefix, dropBenchDatabase } from './services.js';

/** A benchmark's context plus `close()`, which runs every cleanup even when some fail. */
export function createContext(name: string, signal: AbortSignal): BenchContext & { close(): Promise<void> } {
  const cleanups: (() => Promise<unknown> | unknown)[] = [];
  const log = (message: string) =>
    process.stderr.write(`[${new Date().toISOString().slice(11, 19)} ${name}] ${message}\n`);
  return {
    name,
    signal,
    log,
    defer: (cleanup) => void cleanups.push(cleanup),
    async database(): Promise<BenchDatabase> {
      // Registered before creating, so a failed migration still drops it.
      const dbName = benchDatabaseName(name);
      cleanups.push(() => dropBenchDatabase(dbName));
      return createBenchDatabase(dbName);
    },
    prefix(): string {
      const prefix = benchPrefix(name);
      cleanups.push(() => deletePrefix(prefix));
      return prefix;
    },
    async close() {
      for (const cleanup of cleanups.reverse()) {
        try {
          await cleanup();
        } catch (error) {
          log(`cleanup failed: ${(error as Error).message}`);
        }
      }
    },
  };
}
