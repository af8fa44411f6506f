import { errorMessage } from '../errors.js';
import type { Logger } from '../log/logger.js';

type Closer = { name: string; close: () => Promise<unknown>; timeoutMs: number };

/**
 * Graceful shutdown: on SIGTERM/SIGINT, closers run in reverse order of registration (workers first,
 * since they were started last, then queues, Redis and Postgres). A closer that hangs past the
 * timeout is abandoned; the process exits either way.
 */
export class Lifecycle {
  private readonly closers: Closer[] = [];
  private stopping: Promise<void> | undefined;

  constructor(
    private readonly logger: Logger,
    private readonly timeoutMs: number,
  ) {}

  /** `timeoutMs` overrides the default for a closer that has a deadline of its own to keep. */
  onShutdown(name: string, close: () => Promise<unknown>, timeoutMs = this.timeoutMs): void {
    this.closers.push({ name, close, timeoutMs });
  }

  installSignalHandlers(exit: (code: number) => void = (code) => process.exit(code)): void {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      process.once(signal, () => {
        this.logger.info('shutting down', { signal });
        void this.shutdown().then(
          () => exit(0),
          () => exit(1),
        );
      });
    }
  }

  shutdown(): Promise<void> {
    this.stopping ??= this.runClosers();
    return this.stopping;
  }

  private async runClosers(): Promise<void> {
    for (const closer of [...this.closers].reverse()) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), closer.timeoutMs);
      });
      try {
        const outcome = await Promise.race([closer.close().then(() => 'closed' as const), timeout]);
        if (outcome === 'timeout')
          this.logger.warn('gave up waiting for a closer', { closer: closer.name, timeoutMs: closer.timeoutMs });
      } catch (error) {
        this.logger.warn('closer failed', { closer: closer.name, reason: errorMessage(error) });
      } finally {
        clearTimeout(timer);
      }
    }
  }
}
