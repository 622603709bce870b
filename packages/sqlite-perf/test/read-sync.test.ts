import { describe, expect, it } from 'vitest';
import { isSqlitePerfError, openDatabase } from '../src/index';
import { onCleanup, openTemp } from './helpers';

function thrownBy(action: () => unknown): unknown {
  try {
    action();
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to throw');
}

describe('db.readSync', () => {
  it('returns rows a write committed', async () => {
    const db = openTemp();
    await db.write((tx) => tx.exec('CREATE TABLE jobs (id INTEGER PRIMARY KEY, state TEXT)'));
    await db.insertMany('jobs', [
      { id: 1, state: 'queued' },
      { id: 2, state: 'done' },
    ]);

    const rows = db.readSync((conn) => conn.all('SELECT id FROM jobs ORDER BY id'));
    const count = db.readSync((conn) => conn.get<{ n: number }>('SELECT count(*) AS n FROM jobs'));

    expect(rows).toEqual([{ id: 1 }, { id: 2 }]);
    expect(count).toEqual({ n: 2 });
  });

  it('reuses one connection with the pragmas', async () => {
    const db = openTemp();
    const firstId = db.readSync((conn) => conn.id);
    const secondId = db.readSync((conn) => conn.id);

    const report = await db.pragmas();
    const syncReader = report.find((entry) => entry.connectionId === firstId);

    expect(secondId).toBe(firstId);
    expect(syncReader).toMatchObject({ role: 'sync-reader', journal_mode: 'wal', foreign_keys: 1 });
  });

  it('replaces its connection past connectionLifetimeMs', async () => {
    const db = openTemp({ connectionLifetimeMs: 100 });
    const firstId = db.readSync((conn) => conn.id);

    await new Promise((resolve) => setTimeout(resolve, 150));
    const laterId = db.readSync((conn) => conn.id);

    expect(laterId).not.toBe(firstId);
    expect(db.stats().connectionsReplaced).toBe(1);
  });

  it('reads an in-memory database', async () => {
    const db = openDatabase(':memory:');
    onCleanup(() => db.close());
    await db.write((tx) => tx.exec('CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (3)'));

    const row = db.readSync((conn) => conn.get('SELECT x FROM t'));

    expect(row).toEqual({ x: 3 });
  });

  it('rejects a callback that returns a promise', () => {
    const db = openTemp();

    const error = thrownBy(() => db.readSync(async (conn) => conn.get('SELECT 1 AS one')));

    expect(isSqlitePerfError(error, 'ASYNC_CALLBACK')).toBe(true);
    expect((error as Error).message).toMatch(/returned a promise; use db.read/);
  });

  it('rejects a callback that is not a function', () => {
    const db = openTemp();

    const error = thrownBy(() => db.readSync('SELECT 1' as never));

    expect(isSqlitePerfError(error, 'INVALID_ARGUMENT')).toBe(true);
  });

  it('throws POOL_CLOSED after close', async () => {
    const db = openTemp();
    db.readSync((conn) => conn.get('SELECT 1'));
    await db.close();

    const error = thrownBy(() => db.readSync((conn) => conn.get('SELECT 1')));

    expect(isSqlitePerfError(error, 'POOL_CLOSED')).toBe(true);
  });

  it('rolls back a transaction its callback left open', async () => {
    const db = openTemp();
    await db.write((tx) => tx.exec('CREATE TABLE t (id INTEGER PRIMARY KEY)'));
    await db.insertMany('t', [{ id: 1 }, { id: 2 }]);
    thrownBy(() =>
      db.readSync((conn) => {
        conn.exec('BEGIN');
        conn.get('SELECT count(*) AS n FROM t');
        conn.get('SELECT * FROM missing_table');
      }),
    );
    await db.write((tx) => tx.run('INSERT INTO t (id) VALUES (3)'));

    const row = db.readSync((conn) => conn.get('SELECT count(*) AS n FROM t'));
    const checkpoint = await db.checkpoint();

    expect(row).toEqual({ n: 3 });
    expect(checkpoint).not.toBe('starved');
  });

  it('closes an iterator its callback left open', async () => {
    const db = openTemp();
    await db.write((tx) => tx.exec('CREATE TABLE t (id INTEGER PRIMARY KEY)'));
    await db.insertMany('t', [{ id: 1 }, { id: 2 }]);

    const first = db.readSync((conn) => conn.iterate<{ id: number }>('SELECT id FROM t').next());
    const count = db.readSync((conn) => conn.get('SELECT count(*) AS n FROM t'));
    const report = await db.pragmas();
    await db.close();

    expect(first.value).toEqual({ id: 1 });
    expect(count).toEqual({ n: 2 });
    expect(report.length).toBeGreaterThan(1);
    expect(db.closed).toBe(true);
  });

  it('keeps the outer snapshot through a nested readSync', async () => {
    const db = openTemp();
    await db.write((tx) => tx.exec('CREATE TABLE t (id INTEGER PRIMARY KEY)'));
    await db.insertMany('t', [{ id: 1 }, { id: 2 }]);

    const counts = db.readSync((outer) => {
      outer.exec('BEGIN');
      const before = outer.get<{ n: number }>('SELECT count(*) AS n FROM t')!.n;
      const inner = db.readSync(
        (conn) => conn.get<{ n: number }>('SELECT count(*) AS n FROM t')!.n,
      );
      const rows = outer.iterate<{ id: number }>('SELECT id FROM t');
      rows.next();
      db.readSync((conn) => conn.get('SELECT 1 AS one'));
      const rest = [...rows].length;
      outer.exec('COMMIT');
      return { before, inner, rest };
    });

    expect(counts).toEqual({ before: 2, inner: 2, rest: 1 });
  });

  it('names an open iterator when the connection is busy', async () => {
    const db = openTemp();
    await db.write((tx) => tx.exec('CREATE TABLE t (id INTEGER PRIMARY KEY)'));
    await db.insertMany('t', [{ id: 1 }]);

    const error = thrownBy(() =>
      db.readSync((conn) => {
        conn.iterate('SELECT id FROM t').next();
        return conn.exec('BEGIN');
      }),
    );

    expect(isSqlitePerfError(error, 'QUERY_FAILED')).toBe(true);
    expect((error as Error).message).toMatch(/an iterate\(\) on this connection is still open/);
  });
});

describe('db.read cleanup', () => {
  it('rolls back a pooled reader transaction left open', async () => {
    const db = openTemp({ maxReaders: 1 });
    await db.write((tx) => tx.exec('CREATE TABLE t (id INTEGER PRIMARY KEY)'));
    await db.read((conn) => {
      conn.exec('BEGIN');
      conn.get('SELECT count(*) AS n FROM t');
    });
    await db.write((tx) => tx.run('INSERT INTO t (id) VALUES (1)'));

    const row = await db.read((conn) => conn.get('SELECT count(*) AS n FROM t'));

    expect(row).toEqual({ n: 1 });
  });

  it('keeps the writer usable after an in-memory read left BEGIN open', async () => {
    const db = openDatabase(':memory:');
    onCleanup(() => db.close());
    await db.write((tx) => tx.exec('CREATE TABLE t (id INTEGER PRIMARY KEY)'));
    await db
      .read((conn) => {
        conn.exec('BEGIN');
        conn.get('SELECT * FROM missing_table');
      })
      .catch(() => {});

    await db.write((tx) => tx.run('INSERT INTO t (id) VALUES (1)'));
    const row = db.readSync((conn) => conn.get('SELECT count(*) AS n FROM t'));

    expect(row).toEqual({ n: 1 });
  });

  it('keeps an in-memory Kysely transaction open across reads', async () => {
    const db = openDatabase(':memory:');
    onCleanup(() => db.close());
    await db.write((tx) => tx.exec('CREATE TABLE t (id INTEGER PRIMARY KEY)'));
    const kysely = db.kysely<{ t: { id: number } }>();

    const seen = await kysely.transaction().execute(async (trx) => {
      await trx.insertInto('t').values({ id: 1 }).execute();
      const inside = db.readSync((conn) => conn.get<{ n: number }>('SELECT count(*) AS n FROM t'));
      await trx.insertInto('t').values({ id: 2 }).execute();
      return inside;
    });
    const after = db.readSync((conn) => conn.get('SELECT count(*) AS n FROM t'));

    expect(seen).toEqual({ n: 1 });
    expect(after).toEqual({ n: 2 });
  });
});
