import BetterSqlite3 from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { isSqlitePerfError } from '../src/index';
import { onCleanup, openTemp, rejectionOf } from './helpers';

async function ledger(config: Parameters<typeof openTemp>[0] = {}) {
  const db = openTemp({ busyRetryBaseDelayMs: 1, busyRetryMaxDelayMs: 5, ...config });
  await db.write((tx) =>
    tx.exec('CREATE TABLE ledger (id INTEGER PRIMARY KEY, value INTEGER NOT NULL)'),
  );
  // Another connection to the same file, as another process would have.
  const other = new BetterSqlite3(db.path);
  other.pragma('busy_timeout = 0');
  onCleanup(() => {
    other.close();
  });

  return { db, other };
}

describe('busy retries', () => {
  it('restarts a read-then-write transaction after another connection commits', async () => {
    const { db, other } = await ledger();
    let attempts = 0;

    await db.write(
      (tx) => {
        attempts++;
        const { total } = tx.get<{ total: number }>(
          'SELECT coalesce(sum(value), 0) AS total FROM ledger',
        )!;
        if (attempts === 1) {
          // Commits between our read and our write, so our snapshot is stale.
          other.prepare('INSERT INTO ledger (value) VALUES (10)').run();
        }
        tx.run('INSERT INTO ledger (value) VALUES (?)', [total + 1]);
      },
      { begin: 'deferred' },
    );

    expect(attempts).toBe(2);
    expect(await db.query('SELECT value FROM ledger ORDER BY id')).toEqual([
      { value: 10 },
      { value: 11 },
    ]);
    expect(db.stats().busyRetries).toBe(1);
  });

  it('waits out a write lock held by another connection', async () => {
    const { db, other } = await ledger({ pragmas: { busyTimeoutMs: 0 } });
    other.exec('BEGIN IMMEDIATE');
    other.exec('INSERT INTO ledger (value) VALUES (1)');
    let attempts = 0;

    const write = db.write((tx) => {
      attempts++;
      tx.run('INSERT INTO ledger (value) VALUES (2)');
    });
    setTimeout(() => other.exec('COMMIT'), 20);
    await write;

    expect(attempts).toBe(1);
    expect(db.stats().busyRetries).toBeGreaterThan(0);
    expect(await db.query('SELECT value FROM ledger ORDER BY id')).toEqual([
      { value: 1 },
      { value: 2 },
    ]);
  });

  it('gives up with DATABASE_BUSY after busyRetries restarts', async () => {
    const { db, other } = await ledger({ pragmas: { busyTimeoutMs: 0 }, busyRetries: 3 });
    other.exec('BEGIN IMMEDIATE');

    const error = await rejectionOf(
      db.write((tx) => tx.run('INSERT INTO ledger (value) VALUES (1)')),
    );
    other.exec('ROLLBACK');

    expect(isSqlitePerfError(error, 'DATABASE_BUSY')).toBe(true);
    expect((error as { sqliteCode?: string }).sqliteCode).toMatch(/^SQLITE_BUSY/);
    expect(db.stats().busyRetries).toBe(3);
    await db.write((tx) => tx.run('INSERT INTO ledger (value) VALUES (5)'));
    expect(await db.query('SELECT value FROM ledger')).toEqual([{ value: 5 }]);
  });

  it('does not retry other errors', async () => {
    const { db } = await ledger();
    let attempts = 0;

    const error = await rejectionOf(
      db.write((tx) => {
        attempts++;
        tx.run('INSERT INTO ledger (value) VALUES (NULL)');
      }),
    );

    expect(isSqlitePerfError(error, 'QUERY_FAILED')).toBe(true);
    expect((error as { sqliteCode?: string }).sqliteCode).toBe('SQLITE_CONSTRAINT_NOTNULL');
    expect(attempts).toBe(1);
    expect(db.stats().busyRetries).toBe(0);
  });

  it('retries a blocked Kysely BEGIN', async () => {
    const { db, other } = await ledger({ pragmas: { busyTimeoutMs: 0 } });
    other.exec('BEGIN IMMEDIATE');
    setTimeout(() => other.exec('COMMIT'), 20);
    const kysely = db.kysely<{ ledger: { id?: number; value: number } }>();

    await kysely.transaction().execute(async (trx) => {
      await trx.insertInto('ledger').values({ value: 7 }).execute();
    });

    expect(db.stats().busyRetries).toBeGreaterThan(0);
    expect(await db.query('SELECT value FROM ledger')).toEqual([{ value: 7 }]);
  });
});
