import { copyBuffers } from '../../../core/db/copy-text.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/database.js';

describe(copyBuffers.name, () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db.drop();
  });

  it('copies UTF-8 lines given as several slices, multi-byte text intact', async () => {
    const client = await db.pool.connect();
    try {
      await client.query('create temp table copied (n int, note text)');
      const text = Buffer.from(['1\tΞther 🦄\n', '2\tplain\n', '3\t₿\\n\n'].join(''));
      // Cut inside Ξ: a slice need not end on a character.
      const chunks = [text.subarray(0, 3), text.subarray(3, 16), text.subarray(16)];
      expect(await copyBuffers(client, 'copied', ['n', 'note'], chunks)).toBe(3);
      expect((await client.query('select n, note from copied order by n')).rows).toEqual([
        { n: 1, note: 'Ξther 🦄' },
        { n: 2, note: 'plain' },
        { n: 3, note: '₿\n' },
      ]);
    } finally {
      client.release();
    }
  });

  it('copies a batch-sized text of thousands of lines', async () => {
    const client = await db.pool.connect();
    try {
      await client.query('create temp table many (n int, note text)');
      const text = Buffer.from(
        Array.from({ length: 5000 }, (_, n) => `${n}\t${'x'.repeat(600)}\\t${n}\\\\\n`).join(''),
      );
      expect(await copyBuffers(client, 'many', ['n', 'note'], [text])).toBe(5000);
      const result = await client.query(
        'select count(*)::int as rows, sum(n)::int as sum, min(length(note))::int as len from many',
      );
      expect(result.rows[0]).toEqual({ rows: 5000, sum: (4999 * 5000) / 2, len: 600 + 1 + 1 + 1 });
    } finally {
      client.release();
    }
  });

  it('rejects with the COPY error and leaves the connection usable', async () => {
    const client = await db.pool.connect();
    try {
      await client.query('create temp table typed (n int)');
      await expect(copyBuffers(client, 'typed', ['n'], [Buffer.from('1\nnot a number\n')])).rejects.toMatchObject({
        code: '22P02',
      });
      expect((await client.query('select 1 as ok')).rows).toEqual([{ ok: 1 }]);
    } finally {
      client.release();
    }
  });
});
