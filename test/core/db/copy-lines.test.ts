import type pg from 'pg';
import { copyBuffers, copyLines, copyTextLine } from '../../../core/db/copy-text.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/database.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db.drop();
});

describe(copyLines.name, () => {
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
});

describe(copyBuffers.name, () => {
  it('copies UTF-8 lines given as several slices, multi-byte text intact', async () => {
    const client = await db.pool.connect();
    try {
      await client.query('create temp table copied_bytes (n int, note text)');
      const text = Buffer.from(['1\tΞther 🦄\n', '2\tplain\n', '3\t₿\\n\n'].join(''));
      // Cut inside Ξ: a slice need not end on a character.
      const chunks = [text.subarray(0, 3), text.subarray(3, 16), text.subarray(16)];
      expect(await copyBuffers(client, 'copied_bytes', ['n', 'note'], chunks)).toBe(3);
      expect((await client.query('select n, note from copied_bytes order by n')).rows).toEqual([
        { n: 1, note: 'Ξther 🦄' },
        { n: 2, note: 'plain' },
        { n: 3, note: '₿\n' },
      ]);
    } finally {
      client.release();
    }
  });
});

describe.each([
  ['copyLines', 'typed_lines', (client: pg.PoolClient) => copyLines(client, 'typed_lines', ['n'], ['1\n', 'not a number\n'])],
  ['copyBuffers', 'typed_bytes', (client: pg.PoolClient) => copyBuffers(client, 'typed_bytes', ['n'], [Buffer.from('1\nnot a number\n')])],
])('%s', (_, table, copyBadRow) => {
  it('rejects with the COPY error and leaves the connection usable', async () => {
    const client = await db.pool.connect();
    try {
      // Temp tables live on the pooled connection: one name per case.
      await client.query(`create temp table ${table} (n int)`);
      await expect(copyBadRow(client)).rejects.toMatchObject({ code: '22P02' });
      expect((await client.query('select 1 as ok')).rows).toEqual([{ ok: 1 }]);
    } finally {
      client.release();
    }
  });
});
