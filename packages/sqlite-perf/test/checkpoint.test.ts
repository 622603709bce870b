import { statSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { type Database, isSqlitePerfError } from '../src/index';
import { nextTurn, openTemp, rejectionOf } from './helpers';

const KIB = 1024;

async function blobs(db: Database, count: number) {
  for (let index = 0; index < count; index++) {
    await db.write((tx) => tx.run('INSERT INTO blobs (data) VALUES (randomblob(16384))'));
  }
}

/** Waits, polling, until `condition` holds; fails after many event-loop turns. */
async function eventually(condition: () => boolean, what: string) {
  for (let attempt = 0; attempt < 2_000; attempt++) {
    if (condition()) {
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error(`timed out waiting until ${what}`);
}

/** Keeps read transactions open back to back, so some reader always holds a snapshot. */
function readerStorm(db: Database, readers: number) {
  let running = true;
  const loops = Array.from({ length: readers }, async () => {
    while (running && !db.closed) {
      await db.read(async (conn) => {
        conn.exec('BEGIN');
        conn.get('SELECT count(*) FROM blobs');
        await nextTurn();
        conn.get('SELECT count(*) FROM blobs');
        conn.exec('COMMIT');
      });
    }
  });

  return async () => {
    running = false;
    await Promise.all(loops);
  };
}

function walBytes(db: Database): number {
  try {
    return statSync(`${db.path}-wal`).size;
  } catch {
    return 0;
  }
}

async function blobTable(config: Parameters<typeof openTemp>[0]) {
  const db = openTemp(config);
  await db.write((tx) => tx.exec('CREATE TABLE blobs (id INTEGER PRIMARY KEY, data BLOB)'));
  return db;
}

describe('WAL checkpoints', () => {
  it('truncates the WAL while readers never stop', async () => {
    const db = await blobTable({ maxReaders: 4, checkpoint: false });
    const stopReaders = readerStorm(db, 3);
    await blobs(db, 40);
    expect(walBytes(db)).toBeGreaterThan(500 * KIB);

    const result = await db.checkpoint('truncate');
    await stopReaders();

    expect(result.result).toBe('ok');
    expect(result.checkpointedFrames).toBe(result.walFrames);
    expect(walBytes(db)).toBe(0);
  });

  it('keeps the WAL under walMaxBytes on its own', async () => {
    const db = await blobTable({
      maxReaders: 4,
      pragmas: { extra: { wal_autocheckpoint: 0 } },
      checkpoint: { walMaxBytes: 256 * KIB, intervalMs: 5, idleMs: 60_000 },
    });
    const stopReaders = readerStorm(db, 2);
    await blobs(db, 60);

    await eventually(() => db.stats().checkpoints.forced > 0, 'a forced checkpoint ran');
    await eventually(() => walBytes(db) <= 256 * KIB, 'the WAL shrank under the bound');
    await stopReaders();

    expect(db.stats().checkpoints.starved).toBe(0);
  });

  it('counts a starved checkpoint', async () => {
    const db = await blobTable({
      checkpoint: { readerDrainTimeoutMs: 10, intervalMs: 60_000 },
    });
    await blobs(db, 5);
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let started!: () => void;
    const inside = new Promise<void>((resolve) => {
      started = resolve;
    });
    const reader = db.read(async (conn) => {
      conn.exec('BEGIN');
      conn.get('SELECT count(*) FROM blobs');
      started();
      await held;
      conn.exec('COMMIT');
    });
    await inside;
    await blobs(db, 5);

    const result = await db.checkpoint('truncate');
    release();
    await reader;

    expect(result.result).toBe('starved');
    expect(db.stats().checkpoints.starved).toBe(1);
    expect((await db.checkpoint('truncate')).result).toBe('ok');
  });

  it('runs a passive checkpoint once the writer is idle', async () => {
    const db = await blobTable({
      pragmas: { extra: { wal_autocheckpoint: 0 } },
      checkpoint: { idleMs: 0, intervalMs: 5 },
    });
    await blobs(db, 3);

    await eventually(() => db.stats().checkpoints.passive > 0, 'a passive checkpoint ran');
  });

  it('rejects an unknown mode', async () => {
    const db = await blobTable({});
    const error = await rejectionOf(db.checkpoint('hard' as never));

    expect(isSqlitePerfError(error, 'INVALID_ARGUMENT')).toBe(true);
  });
});
