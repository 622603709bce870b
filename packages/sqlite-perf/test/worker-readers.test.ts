import { describe, expect, it } from 'vitest';
import { type Database, isSqlitePerfError } from '../src/index';
import { openTemp, rejectionOf } from './helpers';

/** 200 rows of 1 MB strings: far more than a 16 MiB worker heap holds, and quick to fail. */
const TOO_BIG_FOR_16_MIB =
  'WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n LIMIT 200) ' +
  "SELECT x, printf('%.*c', 1000000, 'x') AS filler FROM n";

async function workersUp(db: Database): Promise<void> {
  while (db.stats().workers.size === 0) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

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

  it('counts worker statement cache lookups', async () => {
    const db = await workerDb(1);
    const before = db.stats().statementCache;

    for (let round = 0; round < 3; round++) {
      await db.query('SELECT id FROM files WHERE id = ?', [round]);
    }
    await rejectionOf(db.query('SELECT nope FROM files'));
    const after = db.stats().statementCache;

    expect(after.misses - before.misses).toBe(2);
    expect(after.hits - before.hits).toBe(2);
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

  it('replaces a worker that runs out of heap', async () => {
    const warnings: string[] = [];
    const ignore = () => {};
    const logger = {
      debug: ignore,
      info: ignore,
      error: ignore,
      warn: (message: string) => warnings.push(message),
    };
    const db = openTemp({ readerThreads: 1, readerThreadHeapMb: 16, logger });

    const error = await rejectionOf(db.query(TOO_BIG_FOR_16_MIB));
    // Waits for the new worker when the old one failed too soon to restart at once.
    const after = await db.queryOne<{ one: number }>('SELECT 1 AS one');
    await workersUp(db);
    const fromNewWorker = await db.queryOne<{ two: number }>('SELECT 2 AS two');

    expect(isSqlitePerfError(error, 'WORKER_FAILED')).toBe(true);
    expect((error as Error).message).toMatch(/memory limit/);
    expect(after).toEqual({ one: 1 });
    expect(fromNewWorker).toEqual({ two: 2 });
    expect(db.stats().workers).toMatchObject({ size: 1, inFlight: 0 });
    expect(warnings).toEqual([
      expect.stringMatching(/reader worker of .* failed and was replaced/),
    ]);
  });

  it('waits for a worker while every worker restarts', async () => {
    const db = openTemp({ readerThreads: 1, readerThreadHeapMb: 16 });
    await db.write((tx) => tx.exec('CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (7)'));

    // A worker that fails within a second of starting restarts only after a delay, so a
    // second failure right after a restart leaves no worker for that second.
    for (let attempt = 0; attempt < 10 && db.stats().workers.size > 0; attempt++) {
      await rejectionOf(db.query(TOO_BIG_FOR_16_MIB));
    }
    const completedBefore = db.stats().workers.completed;
    const workersWhileRead = db.stats().workers.size;
    const rows = await db.query('SELECT x FROM t');
    const kyselyRows = await db
      .kysely<{ t: { x: number } }>()
      .selectFrom('t')
      .select('x')
      .execute();

    expect(workersWhileRead).toBe(0);
    expect(rows).toEqual([{ x: 7 }]);
    expect(kyselyRows).toEqual([{ x: 7 }]);
    expect(db.stats().workers.completed).toBe(completedBefore + 2);
  });

  it('fails a waiting query after acquireTimeoutMs', async () => {
    const db = openTemp({ readerThreads: 1, readerThreadHeapMb: 16, acquireTimeoutMs: 50 });

    for (let attempt = 0; attempt < 10 && db.stats().workers.size > 0; attempt++) {
      await rejectionOf(db.query(TOO_BIG_FOR_16_MIB));
    }
    const workersWhileRead = db.stats().workers.size;
    const error = await rejectionOf(db.query('SELECT 1'));

    expect(workersWhileRead).toBe(0);
    expect(isSqlitePerfError(error, 'WORKER_FAILED')).toBe(true);
    expect((error as Error).message).toMatch(/none restarted within acquireTimeoutMs \(50 ms\)/);
  });

  it('rejects readerThreadHeapMb without reader threads', async () => {
    const { openDatabase } = await import('../src/index');

    expect(() => openDatabase(':memory:', { readerThreadHeapMb: 64 })).toThrow(
      /readerThreadHeapMb.*needs readerThreads > 0/,
    );
    expect(() => openTemp({ readerThreads: 1, readerThreadHeapMb: 8 })).toThrow(
      /readerThreadHeapMb.*>= 16/,
    );
  });
});
