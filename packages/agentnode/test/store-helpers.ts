import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import { type NodeStore, type NodeStoreConfig, openNodeStore } from '../src/store/index';

const cleanups: Array<() => Promise<void> | void> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) {
    await cleanup();
  }
});

/** A fresh temporary directory, removed after the test. */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'agentnode-store-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));

  return dir;
}

/** Opens a node store in a fresh temporary directory; closed after the test. */
export async function openTempStore(
  config?: NodeStoreConfig,
  path = join(tempDir(), 'node.db'),
): Promise<NodeStore> {
  const store = await openNodeStore(path, { healthCheckIntervalMs: 0, ...config });
  cleanups.push(() => store.close());

  return store;
}
