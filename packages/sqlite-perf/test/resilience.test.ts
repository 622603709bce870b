import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { isSqlitePerfError, openDatabase } from '../src/index';
import { openTemp, rejectionOf, tempDir } from './helpers';

describe('resilience', () => {
  it('replaces every connection when the file is removed', async () => {
    const db = openTemp({ healthCheckIntervalMs: 0 });
    await db.write((tx) => tx.exec('CREATE TABLE t (id INTEGER PRIMARY KEY)'));
    await db.write((tx) => tx.run('INSERT INTO t (id) VALUES (1)'));
    const readerBefore = await db.read((conn) => conn.id);
    const writerBefore = (await db.pragmas()).find((p) => p.role === 'writer')!.connectionId;
    for (const suffix of ['', '-wal', '-shm']) {
      rmSync(db.path + suffix, { force: true });
    }

    const report = db.checkHealth();

    expect(report.healthy).toBe(false);
    expect(report.problem).toContain('removed');
    // The file is recreated empty by the new writer; old readers are not handed out.
    await db.write((tx) => tx.exec('CREATE TABLE t (id INTEGER PRIMARY KEY)'));
    await db.write((tx) => tx.run('INSERT INTO t (id) VALUES (2)'));
    expect(await db.query('SELECT id FROM t')).toEqual([{ id: 2 }]);
    expect(await db.read((conn) => conn.id)).not.toBe(readerBefore);
    const writerAfter = (await db.pragmas()).find((p) => p.role === 'writer')!.connectionId;
    expect(writerAfter).not.toBe(writerBefore);
    expect(db.stats().connectionsReplaced).toBeGreaterThanOrEqual(2);
    expect(db.checkHealth()).toEqual({ healthy: true });
  });

  it('reports a reader that cannot open as CONNECTION_BROKEN', async () => {
    const db = openTemp({ healthCheckIntervalMs: 0 });
    await db.write((tx) => tx.exec('CREATE TABLE t (id INTEGER PRIMARY KEY)'));
    for (const suffix of ['', '-wal', '-shm']) {
      rmSync(db.path + suffix, { force: true });
    }

    // A read-only connection cannot create the missing file.
    const error = await rejectionOf(db.read((conn) => conn.get('SELECT 1')));

    expect(isSqlitePerfError(error, 'CONNECTION_BROKEN')).toBe(true);
    expect((error as { sqliteCode?: string }).sqliteCode).toBe('SQLITE_CANTOPEN');
  });

  it('replaces a writer after SQLITE_FULL', async () => {
    const db = openTemp({ healthCheckIntervalMs: 0 });
    await db.write((tx) => tx.exec('CREATE TABLE blobs (data BLOB)'));
    // A page limit on this one connection stands in for a full disk.
    const pages = await db.write((tx) => tx.get<{ page_count: number }>('PRAGMA page_count'));
    await db.write((tx) => tx.exec(`PRAGMA max_page_count = ${pages!.page_count + 2}`));

    const error = await rejectionOf(
      db.write((tx) => tx.run('INSERT INTO blobs (data) VALUES (randomblob(100000))')),
    );

    expect(isSqlitePerfError(error, 'CONNECTION_BROKEN')).toBe(true);
    expect((error as { sqliteCode?: string }).sqliteCode).toBe('SQLITE_FULL');
    await db.write((tx) => tx.run('INSERT INTO blobs (data) VALUES (randomblob(100000))'));
    expect(await db.queryOne('SELECT count(*) AS n FROM blobs')).toEqual({ n: 1 });
    expect(db.stats().connectionsReplaced).toBe(1);
  });

  it('reports a corrupt file as CONNECTION_BROKEN', async () => {
    const path = join(tempDir(), 'corrupt.db');
    writeFileSync(path, Buffer.alloc(8192, 0x5a));

    let error: unknown;
    try {
      openDatabase(path);
    } catch (caught) {
      error = caught;
    }

    expect(isSqlitePerfError(error, 'CONNECTION_BROKEN')).toBe(true);
    expect((error as { sqliteCode?: string }).sqliteCode).toBe('SQLITE_NOTADB');
  });

  it('close() waits for queued writes, then rejects later calls', async () => {
    const db = openTemp();
    await db.write((tx) => tx.exec('CREATE TABLE t (id INTEGER PRIMARY KEY)'));
    const queued = Array.from({ length: 50 }, (_, id) =>
      db.write((tx) => tx.run('INSERT INTO t (id) VALUES (?)', [id])),
    );
    const closing = db.close();

    await Promise.all(queued);
    await closing;

    for (const call of [
      db.write(() => 1),
      db.read(() => 1),
      db.query('SELECT 1'),
      db.queryOne('SELECT 1'),
      db.insertMany('t', [{ id: 99 }]),
      db.checkpoint(),
      db.pragmas(),
    ]) {
      expect(isSqlitePerfError(await rejectionOf(call), 'POOL_CLOSED')).toBe(true);
    }
    expect(db.closed).toBe(true);
    await db.close();
  });

  it('keeps the rows of writes queued before close()', async () => {
    const db = openTemp();
    await db.write((tx) => tx.exec('CREATE TABLE t (id INTEGER PRIMARY KEY)'));
    for (let id = 0; id < 20; id++) {
      void db.write((tx) => tx.run('INSERT INTO t (id) VALUES (?)', [id]));
    }
    await db.close();

    const raw = new BetterSqlite3(db.path, { readonly: true });
    try {
      expect(raw.prepare('SELECT count(*) AS n FROM t').get()).toEqual({ n: 20 });
    } finally {
      raw.close();
    }
  });
});
