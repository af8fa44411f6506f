import { copyBuffers, copyLines, copyTextLine } from '../../../core/db/copy-text.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/database.js';

describe(copyLines.name, () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db.drop();
  });

  it('copies every line, across several ~1 MB chunks', async () => {
    const client = await db.pool.connect();
    try {
      await client.query('create temp table copied (n int, note text)');
      const lines = Array.from({ length: 5000 }, (_, n) => copyTextLine([n, `${'x'.repeat(600)}\t${n}\\`]));
      expect(await copyLines(client, 'copied', ['n', 'note'], lines)).toBe(5000);
      const result = await client.query('select count(*)::int as rows, sum(n)::int as sum, min(length(note))::int as len from copied');
      expect(result.rows[0]).toEqual({ rows: 5000, sum: (4999 * 5000) / 2, len: 600 + 1 + 1 + 1 });
    } finally {
      client.release();
    }
  });

  it('rejects with the COPY error and leaves the connection usable', async () => {
    const client = await db.pool.connect();
    try {
      await client.query('create temp table typed (n int)');
      await expect(copyLines(client, 'typed', ['n'], ['1\n', 'not a number\n'])).rejects.toMatchObject({ code: '22P02' });
      expect((await client.query('select 1 as ok')).rows).toEqual([{ ok: 1 }]);
    } finally {
      client.release();
    }
  });
});

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

  it('rejects with the COPY error and leaves the connection usable', async () => {
    const client = await db.pool.connect();
    try {
      await client.query('create temp table typed (n int)');
      await expect(copyBuffers(client, 'typed', ['n'], [Buffer.from('1\nnot a number\n')])).rejects.toMatchObject({ code: '22P02' });
      expect((await client.query('select 1 as ok')).rows).toEqual([{ ok: 1 }]);
    } finally {
      client.release();
    }
  });
});
