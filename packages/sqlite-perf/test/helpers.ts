import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import { type Database, type DatabaseConfig, openDatabase } from '../src/index';

const cleanups: Array<() => Promise<void> | void> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) {
    await cleanup();
  }
});

/** A fresh temporary directory, removed after the test. */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'sqlite-perf-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));

  return dir;
}

/** Opens a database in a fresh temporary directory; closed and removed after the test. */
export function openTemp(config?: DatabaseConfig, file = 'test.db'): Database {
  const path = join(tempDir(), file);
  const db = openDatabase(path, config);
  // Registered after the directory, so it runs first (cleanups run in reverse).
  cleanups.push(() => db.close());

  return db;
}

/** Registers a cleanup to run after the current test. */
export function onCleanup(cleanup: () => Promise<void> | void): void {
  cleanups.push(cleanup);
}

/** Rejects with the error `promise` rejected with, or fails when it resolves. */
export async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the promise to reject, but it resolved');
}

/** Resolves after the current turn of the event loop. */
export function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
