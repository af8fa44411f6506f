/**
 * Errors decide retries where they arise. Handlers throw one of these; the job wrapper
 * (core/jobs/run-job.ts) tells BullMQ what to do with each. Anything else counts as retryable.
 */

/** Transient: 5xx, timeouts, connection loss, deadlocks. Retried with exponential backoff and jitter. */
export class RetryableError extends Error {
  constructor(message: string, options?: { cause?: unknown; retryAfterMs?: number }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'RetryableError';
    this.retryAfterMs = options?.retryAfterMs;
  }
  /** Server-suggested wait before the next attempt, when one was given. */
  readonly retryAfterMs: number | undefined;
}

/** Will never succeed as is: other 4xx, payload schema violations, constraint violations. Fails at once. */
export class PermanentError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : options);
    this.name = 'PermanentError';
  }
}

/** HTTP 429: the whole fetch queue pauses for `retryAfterMs`; the attempt is not used up. */
export class RateLimitedError extends Error {
  constructor(
    message: string,
    readonly retryAfterMs: number,
  ) {
    super(message);
    this.name = 'RateLimitedError';
  }
}

/**
 * SQLSTATEs a retry can cure, by prefix (a whole class, or one code). Everything else with a SQLSTATE
 * (42501 permission denied, 42P01 undefined table, 23xxx constraints, 22xxx bad data, XX001 corruption…)
 * fails the same way every time, so it is permanent and its message becomes the job's reason.
 */
const RETRYABLE_SQLSTATE_PREFIXES = [
  '08', // connection exception: refused, lost, cannot establish
  '40000',
  '40001',
  '40003',
  '40P01', // rolled back: serialization failure, deadlock, outcome unknown (not 40002, a deferred constraint)
  '53', // insufficient resources: 53100 disk full, 53200 out of memory, 53300 too many connections; all can clear
  '55P03', // lock not available (lock_timeout)
  '57014', // statement timeout / cancel
  '57P01',
  '57P02',
  '57P03',
  '57P05', // admin shutdown (restart -m fast), crash shutdown, starting up / recovering, idle session timeout
  '25P03', // idle-in-transaction timeout ended the session
  '58000',
  '58030', // system error, I/O error
];
const RETRYABLE_NODE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/** Maps a pg driver error to RetryableError or PermanentError, keeping the SQLSTATE in the message. */
export function classifyPostgresError(error: unknown, doing: string): RetryableError | PermanentError {
  const err = error as { code?: string; message?: string } | undefined;
  const code = err?.code;
  const detail = `${doing}: ${err?.message ?? String(error)}${code ? ` (${code})` : ''}`;
  if (code && RETRYABLE_NODE_CODES.has(code)) return new RetryableError(detail, { cause: error });
  if (code && /^[0-9A-Z]{5}$/.test(code)) {
    return RETRYABLE_SQLSTATE_PREFIXES.some((p) => code.startsWith(p))
      ? new RetryableError(detail, { cause: error })
      : new PermanentError(detail, { cause: error });
  }
  // No SQLSTATE: the connection died under us ("Connection terminated unexpectedly") or similar.
  return new RetryableError(detail, { cause: error });
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
