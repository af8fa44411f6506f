import pg from 'pg';
import { PermanentError, RateLimitedError, RetryableError } from '../../../core/errors.js';
import { classifyUnclassified } from '../../../core/jobs/run-job.js';

function serverError(code: string, message: string): pg.DatabaseError {
  const error = new pg.DatabaseError(message, message.length, 'error');
  error.code = code;
  return error;
}

describe(classifyUnclassified.name, () => {
  it('fails a raw Postgres permission error for good, naming the table and the SQLSTATE', () => {
    const classified = classifyUnclassified(serverError('42501', 'permission denied for table pipeline_batches'), 'load');
    expect(classified).toBeInstanceOf(PermanentError);
    expect((classified as Error).message).toBe('load job, Postgres: permission denied for table pipeline_batches (42501)');
  });

  it('fails an undefined table or column for good too (class 42 never clears)', () => {
    expect(classifyUnclassified(serverError('42P01', 'relation "pipeline.gone" does not exist'), 'tick')).toBeInstanceOf(PermanentError);
    expect(classifyUnclassified(serverError('42703', 'column "gone" does not exist'), 'tick')).toBeInstanceOf(PermanentError);
  });

  it('leaves other raw Postgres errors to the default (retried), untouched', () => {
    for (const code of ['57P01', '53100', '40P01', '23505']) {
      const error = serverError(code, `server said ${code}`);
      expect(classifyUnclassified(error, 'load')).toBe(error);
    }
  });

  it('leaves errors already classified, and non-Postgres errors, as they are', () => {
    const ours = [new PermanentError('no'), new RetryableError('later'), new RateLimitedError('429', 1000)];
    for (const error of ours) expect(classifyUnclassified(error, 'fetch')).toBe(error);
    const plain = Object.assign(new Error('socket'), { code: 'ECONNRESET' });
    expect(classifyUnclassified(plain, 'fetch')).toBe(plain);
  });
});
