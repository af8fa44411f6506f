import { Writable } from 'node:stream';
import winston from 'winston';
import { loadConfig, secretValues } from '../../../core/config/index.js';
import { configureLogger, redactForLog, rootLogger } from '../../../core/log/logger.js';

const SECRET = 'CG-sup3r-s3cret-key';
const PASSWORD = 'dashboard-password-42';

/** Collects every line the root logger writes while a test runs (stdout stays quiet). */
const lines: string[] = [];
const capture = new winston.transports.Stream({
  stream: new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  }),
});

function logged(): { raw: string; entries: Record<string, unknown>[] } {
  return { raw: lines.join('\n'), entries: lines.map((line) => JSON.parse(line) as Record<string, unknown>) };
}

beforeAll(() => {
  for (const transport of rootLogger.transports) transport.silent = true;
  rootLogger.add(capture);
});
afterAll(() => {
  rootLogger.remove(capture);
  for (const transport of rootLogger.transports) transport.silent = false;
  configureLogger({ level: 'info', service: 'test', secrets: [] });
});
beforeEach(() => {
  lines.length = 0;
  configureLogger({ level: 'debug', service: 'logger-test', secrets: [SECRET, PASSWORD] });
});

describe(configureLogger.name, () => {
  it('writes JSON lines with the service, level and metadata', () => {
    rootLogger.info('tick planned', { runId: 't1', batches: 3 });
    const [entry] = logged().entries;
    expect(entry).toMatchObject({
      level: 'info',
      message: 'tick planned',
      service: 'logger-test',
      pid: process.pid,
      runId: 't1',
      batches: 3,
    });
    expect(entry).toHaveProperty('timestamp');
  });

  it('honours the configured level', () => {
    configureLogger({ level: 'warn', service: 'logger-test', secrets: [] });
    rootLogger.info('hidden');
    rootLogger.warn('shown');
    expect(logged().entries.map((e) => e.message)).toEqual(['shown']);
  });

  it.each<[string, () => void]>([
    ['a message', () => rootLogger.warn(`calling with key ${SECRET} and ${PASSWORD}`)],
    ['metadata', () => rootLogger.info('request', { apiKey: SECRET, password: PASSWORD })],
    [
      'a nested object',
      () =>
        rootLogger.info('request', {
          request: { headers: { 'x-cg-pro-api-key': SECRET }, list: [{ p: `x${PASSWORD}x` }] },
        }),
    ],
    ['an Error in metadata', () => rootLogger.error('fetch failed', { error: new Error(`401 for key ${SECRET}`) })],
    ['an Error logged directly', () => rootLogger.error(new Error(`401 for key ${SECRET}`))],
    ['an Error after a message', () => rootLogger.error('fetch failed', new Error(`401 for key ${SECRET}`))],
    ["a child logger's fields", () => rootLogger.child({ queue: 'fetch', jobId: SECRET }).info(`job ${PASSWORD}`)],
  ])('redacts secrets from %s', (_what, log) => {
    log();
    const { raw } = logged();
    expect(lines.length).toBeGreaterThan(0);
    expect(raw).not.toContain(SECRET);
    expect(raw).not.toContain(PASSWORD);
    expect(raw).toContain('[redacted]');
  });

  it('redacts the secret in both the message and the stack of an Error', () => {
    rootLogger.error('fetch failed', { error: new Error(`401 for key ${SECRET}`) });
    const error = logged().entries[0]!.error as { name: string; message: string; stack: string };
    expect(error.name).toBe('Error');
    expect(error.message).toBe('401 for key [redacted]');
    expect(error.stack).toMatch(/^Error: 401 for key \[redacted\]\n\s+at /);
  });

  it('keeps the stack of an Error logged directly, redacted', () => {
    rootLogger.error(new Error(`401 for key ${SECRET}`));
    const entry = logged().entries[0]!;
    expect(entry.message).toBe('401 for key [redacted]');
    expect(entry.stack).toMatch(/^Error: 401 for key \[redacted\]\n\s+at /);
  });

  it('redacts the passwords of the configured connection URLs, encoded or not', () => {
    const config = loadConfig({
      DATABASE_URL: 'postgres://app:p%40ss-w0rd@db:5432/x',
      REDIS_URL: 'redis://:redis-pass@cache:6379',
    });
    configureLogger({ level: 'info', service: 'logger-test', secrets: secretValues(config) });
    rootLogger.info(`connecting to ${config.postgres.url} and ${config.redis.url}`, { decoded: 'p@ss-w0rd' });
    const { raw } = logged();
    for (const secret of ['p%40ss-w0rd', 'p@ss-w0rd', 'redis-pass']) expect(raw).not.toContain(secret);
    expect(logged().entries[0]!.message).toBe(
      'connecting to postgres://app:[redacted]@db:5432/x and redis://:[redacted]@cache:6379',
    );
  });

  it('ignores secrets shorter than 4 characters, which would shred every line', () => {
    configureLogger({ level: 'info', service: 'logger-test', secrets: ['abc', SECRET] });
    rootLogger.info(`abc ${SECRET}`);
    expect(logged().entries[0]!.message).toBe('abc [redacted]');
  });

  it('leaves lines untouched when there are no secrets', () => {
    configureLogger({ level: 'info', service: 'logger-test', secrets: [] });
    rootLogger.info(`key ${SECRET}`);
    expect(logged().entries[0]!.message).toBe(`key ${SECRET}`);
  });
});

describe(redactForLog.name, () => {
  it('replaces every occurrence of every secret', () => {
    expect(redactForLog(`${SECRET}/${PASSWORD}/${SECRET}`)).toBe('[redacted]/[redacted]/[redacted]');
  });
});
