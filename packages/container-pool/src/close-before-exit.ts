/** A pool that closes when the process is about to exit. */
interface Closable {
  close(): Promise<void>;
}

const registered = new Set<Closable>();

/**
 * Closes every registered pool when Node.js empties its event loop. Idle containers do not
 * keep the loop alive, so a program that ends without `close()` reaches this point. The
 * removals then keep the loop busy until they finish, and the process exits afterwards.
 * `beforeExit` does not fire on `process.exit()` or on a fatal signal.
 */
function onBeforeExit(): void {
  process.removeListener('beforeExit', onBeforeExit);
  const pools = [...registered];
  registered.clear();
  for (const pool of pools) void pool.close().catch(() => {});
}

/** Registers `pool` for closing before the process exits; returns the function that unregisters it. */
export function closeBeforeExit(pool: Closable): () => void {
  if (registered.size === 0) process.on('beforeExit', onBeforeExit);
  registered.add(pool);

  return () => {
    if (!registered.delete(pool) || registered.size > 0) return;
    process.removeListener('beforeExit', onBeforeExit);
  };
}
