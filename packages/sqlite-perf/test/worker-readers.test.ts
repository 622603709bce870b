import { describe, expect, it } from 'vitest';
import { isSqlitePerfError } from '../src/index';
import { openTemp, rejectionOf } from './helpers';

async function workerDb(threads = 2) {
  const db = openTemp({ readerThreads: threads });
  await db.write((tx) =>
    tx.exec('CREATE TABLE files (id INTEGER PRIMARY KEY, name TEXT, body BLOB)'),
  );
  return db;
}

describe('reader workers', () => {
  it('answers query and queryOne from worker threads', async () => {
    const db = await workerDb();
    await db.insertMany(
      'files',
      Array.from({ length: 100 }, (_, id) => ({ id, name: `f${id}`, body: null })),
    );

    const [all, one, none] = await Promise.all([
      db.query<{ id: number }>('SELECT id FROM files WHERE id < ? ORDER BY id', [3]),
      db.queryOne<{ name: string }>('SELECT name FROM files WHERE id = :id', { id: 42 }),
      db.queryOne('SELECT * FROM files WHERE id = -1'),
    ]);

    expect(all).toEqual([{ id: 0 }, { id: 1 }, { id: 2 }]);
    expect(one).toEqual({ name: 'f42' });
    expect(none).toBeUndefined();
    expect(db.stats().workers).toMatchObject({ size: 2, inFlight: 0, completed: 3 });
  });

  it('spreads concurrent queries over the workers and sees the latest commit', async () => {
    const db = await workerDb();
    const reads = [];
    for (let id = 0; id < 50; id++) {
      await db.write((tx) => tx.run('INSERT INTO files (id, name) VALUES (?, ?)', [id, `f${id}`]));
      reads.push(db.queryOne<{ n: number }>('SELECT count(*) AS n FROM files'));
    }

    const counts = (await Promise.all(reads)).map((row) => row!.n);

    // Each read was sent after its write committed, so it sees at least that many rows.
    for (const [index, count] of counts.entries()) {
      expect(count).toBeGreaterThanOrEqual(index + 1);
    }
  });

  it('returns BLOBs intact', async () => {
    const db = await workerDb(1);
    const body = Buffer.from(Array.from({ length: 70_000 }, (_, index) => index % 251));
    await db.write((tx) => tx.run('INSERT INTO files (name, body) VALUES (?, ?)', ['big', body]));

    const row = await db.queryOne<{ body: Uint8Array }>('SELECT body FROM files');

    expect(Buffer.from(row!.body).equals(body)).toBe(true);
  });

  it('reports SQL errors with the SQLite code', async () => {
    const db = await workerDb(1);
    const error = await rejectionOf(db.query('SELECT * FROM missing'));

    expect(isSqlitePerfError(error, 'QUERY_FAILED')).toBe(true);
    expect((error as { sqliteCode?: string }).sqliteCode).toBe('SQLITE_ERROR');
  });

  it('rejects a statement that returns no rows', async () => {
    const db = await workerDb(1);
    const error = await rejectionOf(db.query("INSERT INTO files (name) VALUES ('x')"));

    expect(isSqlitePerfError(error, 'INVALID_ARGUMENT')).toBe(true);
    expect((error as Error).message).toContain('returns no rows');
    expect(await db.read((conn) => conn.all('SELECT * FROM files'))).toEqual([]);
  });

  it('reports a missing file per query and recovers', async () => {
    const db = await workerDb(1);
    const { rmSync } = await import('node:fs');
    for (const suffix of ['', '-wal', '-shm']) {
      rmSync(db.path + suffix, { force: true });
    }
    db.checkHealth();
    await db.write((tx) =>
      tx.exec('CREATE TABLE files (id INTEGER PRIMARY KEY, name TEXT, body BLOB)'),
    );
    await db.write((tx) => tx.run("INSERT INTO files (name) VALUES ('new')"));

    // The worker reopens on the new file instead of crashing.
    let rows: unknown[] = [];
    for (let attempt = 0; attempt < 50; attempt++) {
      rows = await db.query('SELECT name FROM files').catch(() => []);
      if (rows.length > 0) {
        break;
      }
    }

    expect(rows).toEqual([{ name: 'new' }]);
    expect(db.stats().workers.size).toBe(1);
  });

  it('rejects readerThreads for an in-memory database', async () => {
    const { openDatabase } = await import('../src/index');

    expect(() => openDatabase(':memory:', { readerThreads: 1 })).toThrow(/readerThreads/);
  });
});
