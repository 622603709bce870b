import { describe, expect, it } from 'vitest';
import { isSqlitePerfError } from '../src/index';
import { nextTurn, openTemp, rejectionOf } from './helpers';

async function withTable() {
  const db = openTemp();
  await db.write((tx) =>
    tx.exec('CREATE TABLE items (id INTEGER PRIMARY KEY, task TEXT, n INTEGER)'),
  );
  return db;
}

describe('db.write', () => {
  it('lands every row of two interleaved tasks', async () => {
    const db = await withTable();
    let turnsDuringWrites = 0;
    let writing = true;
    const countTurns = async () => {
      while (writing) {
        turnsDuringWrites++;
        await nextTurn();
      }
    };
    const task = async (name: string) => {
      for (let n = 0; n < 1000; n++) {
        await db.write((tx) => tx.run('INSERT INTO items (task, n) VALUES (?, ?)', [name, n]));
        if (n % 10 === 0) {
          await nextTurn();
        }
      }
    };

    const ticker = countTurns();
    const results = await Promise.allSettled([task('a'), task('b')]);
    writing = false;
    await ticker;

    expect(results.map((result) => result.status)).toEqual(['fulfilled', 'fulfilled']);
    const counts = await db.query<{ task: string; rows: number; distinct: number }>(
      'SELECT task, count(*) AS rows, count(DISTINCT n) AS "distinct" FROM items GROUP BY task ORDER BY task',
    );
    expect(counts).toEqual([
      { task: 'a', rows: 1000, distinct: 1000 },
      { task: 'b', rows: 1000, distinct: 1000 },
    ]);
    expect(db.stats().busyRetries).toBe(0);
    // Other work got event-loop turns between the transactions: the loop was never blocked.
    expect(turnsDuringWrites).toBeGreaterThan(100);
  });

  it('runs transactions in call order, never interleaved', async () => {
    const db = await withTable();
    const order: string[] = [];
    const writes = ['first', 'second', 'third'].map((name) =>
      db.write((tx) => {
        order.push(`${name}:begin`);
        tx.run('INSERT INTO items (task, n) VALUES (?, ?)', [name, 1]);
        order.push(`${name}:end`);
      }),
    );
    await Promise.all(writes);

    expect(order).toEqual([
      'first:begin',
      'first:end',
      'second:begin',
      'second:end',
      'third:begin',
      'third:end',
    ]);
  });

  it('rejects an async callback before anything is written', async () => {
    const db = await withTable();
    let called = false;
    const error = await rejectionOf(
      db.write(async (tx) => {
        called = true;
        tx.run("INSERT INTO items (task, n) VALUES ('async', 1)");
      }),
    );

    expect(isSqlitePerfError(error, 'ASYNC_CALLBACK')).toBe(true);
    expect(called).toBe(false);
    expect(await db.query('SELECT * FROM items')).toEqual([]);
  });

  it('rolls back a callback that returns a promise', async () => {
    const db = await withTable();
    const error = await rejectionOf(
      db.write((tx) => {
        tx.run("INSERT INTO items (task, n) VALUES ('promise', 1)");
        return Promise.reject(new Error('never seen by the caller'));
      }),
    );

    expect(isSqlitePerfError(error, 'ASYNC_CALLBACK')).toBe(true);
    expect(await db.query('SELECT * FROM items')).toEqual([]);
  });

  it('rolls back when the callback throws and rethrows its error', async () => {
    const db = await withTable();
    const failure = new Error('stop');
    const error = await rejectionOf(
      db.write((tx) => {
        tx.run("INSERT INTO items (task, n) VALUES ('thrown', 1)");
        throw failure;
      }),
    );

    expect(error).toBe(failure);
    expect(await db.query('SELECT * FROM items')).toEqual([]);
    await db.write((tx) => tx.run("INSERT INTO items (task, n) VALUES ('after', 1)"));
    expect(await db.query('SELECT task FROM items')).toEqual([{ task: 'after' }]);
  });

  it('returns the callback result', async () => {
    const db = await withTable();
    const id = await db.write(
      (tx) => tx.run("INSERT INTO items (task, n) VALUES ('r', 1)").lastInsertRowid,
    );

    expect(id).toBe(1);
  });

  it('reports SQL errors as QUERY_FAILED with the SQLite code', async () => {
    const db = await withTable();
    const error = await rejectionOf(db.write((tx) => tx.run('INSERT INTO missing VALUES (1)')));

    expect(isSqlitePerfError(error, 'QUERY_FAILED')).toBe(true);
    expect((error as { sqliteCode?: string }).sqliteCode).toBe('SQLITE_ERROR');
    expect((error as { sql?: string }).sql).toBe('INSERT INTO missing VALUES (1)');
  });

  it('rejects an unknown begin mode', async () => {
    const db = await withTable();
    const error = await rejectionOf(
      db.write(() => 1, { begin: 'later' as unknown as 'immediate' }),
    );

    expect(isSqlitePerfError(error, 'INVALID_ARGUMENT')).toBe(true);
  });
});
