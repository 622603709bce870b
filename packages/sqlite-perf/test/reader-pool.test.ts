import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { isSqlitePerfError } from '../src/index';
import { nextTurn, openTemp, rejectionOf } from './helpers';

/** Starts an async read that holds its reader until the returned release is called. */
async function holdReader(db: ReturnType<typeof openTemp>) {
  let release!: () => void;
  const held = new Promise<void>((resolve) => {
    release = resolve;
  });
  let acquired!: () => void;
  const started = new Promise<void>((resolve) => {
    acquired = resolve;
  });
  const done = db.read(async (conn) => {
    acquired();
    await held;
    return conn.get<{ one: number }>('SELECT 1 AS one');
  });
  await started;

  return { release, done };
}

describe('db.read', () => {
  it('rejects a waiting read on close', async () => {
    const db = openTemp({ maxReaders: 1 });
    const holder = await holdReader(db);
    const waiter = db.read((conn) => conn.get('SELECT 1'));
    const closing = db.close();

    // The holder still has its reader here: the waiter must not wait for it.
    const error = await rejectionOf(waiter);
    expect(isSqlitePerfError(error, 'POOL_CLOSED')).toBe(true);

    holder.release();
    expect(await holder.done).toEqual({ one: 1 });
    await closing;
    expect(isSqlitePerfError(await rejectionOf(db.read(() => 1)), 'POOL_CLOSED')).toBe(true);
  });

  it('lets the process exit after close', () => {
    const script = fileURLToPath(new URL('./fixtures/close-while-waiting.ts', import.meta.url));
    const child = spawnSync(process.execPath, ['--conditions=source', '--import', 'tsx', script], {
      encoding: 'utf8',
      timeout: 20_000,
    });

    expect(child.error).toBeUndefined();
    expect(child.signal).toBeNull();
    expect(child.stdout).toContain('waiter: POOL_CLOSED');
    expect(child.stdout).toContain('closed');
    expect(child.status).toBe(0);
  });

  it('fails with ACQUIRE_TIMEOUT when every reader stays busy', async () => {
    const db = openTemp({ maxReaders: 1, acquireTimeoutMs: 30 });
    const holder = await holdReader(db);

    const error = await rejectionOf(db.read((conn) => conn.get('SELECT 1')));
    holder.release();
    await holder.done;

    expect(isSqlitePerfError(error, 'ACQUIRE_TIMEOUT')).toBe(true);
    expect((error as Error).message).toContain('maxReaders');
  });

  it('opens at most maxReaders connections', async () => {
    const db = openTemp({ maxReaders: 3 });
    const holders = await Promise.all([holdReader(db), holdReader(db), holdReader(db)]);
    const queued = [
      db.read((c) => c.get('SELECT 2 AS two')),
      db.read((c) => c.get('SELECT 2 AS two')),
    ];
    await nextTurn();

    expect(db.stats().readers.size).toBe(3);
    expect(db.stats().readers.inUse).toBe(3);
    expect(db.stats().readers.waiting).toBe(2);
    for (const holder of holders) {
      holder.release();
    }
    expect(await Promise.all(queued)).toEqual([{ two: 2 }, { two: 2 }]);
    expect(db.stats().readers.size).toBe(3);
  });

  it('closes idle readers down to minReaders', async () => {
    const db = openTemp({ minReaders: 1, maxReaders: 3, idleTimeoutMs: 10 });
    const holders = await Promise.all([holdReader(db), holdReader(db), holdReader(db)]);
    for (const holder of holders) {
      holder.release();
    }
    await Promise.all(holders.map((holder) => holder.done));
    expect(db.stats().readers.size).toBe(3);

    // tarn reaps idle connections once a second.
    for (let turn = 0; turn < 100 && db.stats().readers.size > 1; turn++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }

    expect(db.stats().readers.size).toBe(1);
  });

  it('never hands out a connection that failed', async () => {
    const db = openTemp({ maxReaders: 1 });
    const firstId = await db.read((conn) => {
      conn.markBroken();
      return conn.id;
    });

    const secondId = await db.read((conn) => conn.id);

    expect(secondId).not.toBe(firstId);
    expect(db.stats().connectionsReplaced).toBe(1);
  });

  it('replaces a reader past connectionLifetimeMs', async () => {
    const db = openTemp({ maxReaders: 1, connectionLifetimeMs: 100 });
    const firstId = await db.read((conn) => conn.id);
    const sameId = await db.read((conn) => conn.id);

    await new Promise((resolve) => setTimeout(resolve, 150));
    const replacementId = await db.read((conn) => conn.id);
    const reusedId = await db.read((conn) => conn.id);

    expect(sameId).toBe(firstId);
    expect(replacementId).not.toBe(firstId);
    expect(reusedId).toBe(replacementId);
    expect(db.stats().connectionsReplaced).toBe(1);
  });

  it('closes while a reader is still being opened', async () => {
    const db = openTemp();
    // The first read has no spare reader, so it waits while tarn opens one.
    const read = db.read((conn) => conn.get('SELECT 1'));
    const closing = db.close();

    expect(isSqlitePerfError(await rejectionOf(read), 'POOL_CLOSED')).toBe(true);
    await closing;
    expect(db.stats().readers.size).toBe(0);
  });

  it('rejects a non-function callback', async () => {
    const db = openTemp();
    const error = await rejectionOf(db.read('SELECT 1' as never));

    expect(isSqlitePerfError(error, 'INVALID_ARGUMENT')).toBe(true);
  });
});
