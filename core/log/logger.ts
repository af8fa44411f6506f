import winston from 'winston';

/**
 * Structured JSON logs. Every line of job work carries queue, jobId, attempt and runId (added by
 * child loggers in the job wrapper). Secret values (API key, passwords) are replaced wherever they
 * appear, including error messages and stacks, so a mistake elsewhere cannot leak them.
 */
export type Logger = winston.Logger;

const REDACTED = '[redacted]';
let secrets: readonly string[] = [];

function redactString(text: string): string {
  let out = text;
  for (const secret of secrets) if (out.includes(secret)) out = out.split(secret).join(REDACTED);
  return out;
}

function redactValue(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return redactString(value);
  if (value === null || typeof value !== 'object') return value;
  // Too deep to walk: flatten to text so a secret buried in it is still caught.
  if (depth > 6) return redactString(safeStringify(value));
  if (value instanceof Error) {
    return {
      name: value.name,
      message: redactString(value.message),
      stack: value.stack ? redactString(value.stack) : undefined,
    };
  }
  if (Array.isArray(value)) return value.map((v) => redactValue(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = redactValue(v, depth + 1);
  return out;
}

function safeStringify(value: object): string {
  try {
    return JSON.stringify(value);
  } catch {
    return '[unserializable]';
  }
}

const redact = winston.format((info) => {
  if (secrets.length === 0) return info;
  for (const key of Object.keys(info)) (info as Record<string, unknown>)[key] = redactValue(info[key]);
  return info;
});

export const rootLogger: Logger = winston.createLogger({
  level: process.env.LOG_LEVEL ?? 'info',
  format: winston.format.combine(
    winston.format.timestamp(),
    winston.format.errors({ stack: true }),
    redact(),
    winston.format.json(),
  ),
  transports: [new winston.transports.Console({ stderrLevels: [] })],
});

/** Called once at start-up by each process, after the configuration is known. */
export function configureLogger(options: { level: string; service: string; secrets: readonly string[] }): Logger {
  secrets = options.secrets.filter((s) => s.length >= 4);
  rootLogger.level = options.level;
  rootLogger.defaultMeta = { service: options.service, pid: process.pid };
  return rootLogger;
}

/** Exposed for tests that scan output for leaked secrets. */
export function redactForLog(text: string): string {
  return redactString(text);
}
