import { describe, expect, it } from 'vitest';
import { openDatabase } from '../src/index';
import { openTemp } from './helpers';

/** Holds `count` readers at once so the pool opens that many connections. */
async function openReaders(db: ReturnType<typeof openTemp>, count: number) {
  let release!: () => void;
  const held = new Promise<void>((resolve) => {
    release = resolve;
  });
  let started = 0;
  let allStarted!: () => void;
  const everyoneIn = new Promise<void>((resolve) => {
    allStarted = resolve;
  });
  const reads = Array.from({ length: count }, () =>
    db.read(() => {
      started++;
      if (started === count) {
        allStarted();
      }
      return held;
    }),
  );
  await everyoneIn;
  release();
  await Promise.all(reads);
}

describe('db.pragmas', () => {
  it('reports defaults on every connection', async () => {
    const db = openTemp({ maxReaders: 3, readerThreads: 2 });
    await openReaders(db, 3);

    const report = await db.pragmas();

    expect(report.map((entry) => entry.role).sort()).toEqual([
      'reader',
      'reader',
      'reader',
      'worker',
      'worker',
      'writer',
    ]);
    expect(new Set(report.map((entry) => entry.connectionId)).size).toBe(6);
    for (const entry of report) {
      expect(entry).toMatchObject({
        journal_mode: 'wal',
        synchronous: 1,
        mmap_size: 512 * 1024 * 1024,
        cache_size: -102_400,
        temp_store: 2,
        foreign_keys: 1,
        busy_timeout: 5000,
      });
    }
  });

  it('applies overrides to every connection', async () => {
    const db = openTemp({
      maxReaders: 2,
      pragmas: {
        synchronous: 'full',
        mmapSizeBytes: 0,
        cacheSizeBytes: 8 * 1024 * 1024,
        tempStore: 'file',
        foreignKeys: false,
        busyTimeoutMs: 250,
      },
    });
    await openReaders(db, 2);

    const report = await db.pragmas();

    expect(report).toHaveLength(3);
    for (const entry of report) {
      expect(entry).toMatchObject({
        synchronous: 2,
        mmap_size: 0,
        cache_size: -8192,
        temp_store: 1,
        foreign_keys: 0,
        busy_timeout: 250,
      });
    }
  });

  it('applies extra pragmas verbatim', async () => {
    const db = openTemp({ pragmas: { extra: { cell_size_check: true, wal_autocheckpoint: 500 } } });

    const values = await db.write((tx) => [
      tx.get('PRAGMA cell_size_check'),
      tx.get('PRAGMA wal_autocheckpoint'),
    ]);

    expect(values).toEqual([{ cell_size_check: 1 }, { wal_autocheckpoint: 500 }]);
  });

  it('reports the writer alone for an in-memory database', async () => {
    const db = openDatabase(':memory:');
    try {
      const report = await db.pragmas();
      expect(report).toHaveLength(1);
      expect(report[0]).toMatchObject({ role: 'writer', journal_mode: 'memory', foreign_keys: 1 });
    } finally {
      await db.close();
    }
  });
});
