/** A pool that closes on SIGINT and SIGTERM. */
interface Closable {
  readonly name: string;
  close(): Promise<void>;
}

const SIGNALS = ['SIGINT', 'SIGTERM'] as const;
const registered = new Set<Closable>();

/**
 * Closes every registered pool on SIGINT or SIGTERM, then raises the signal again so the
 * process ends as it would have without the handler, unless the application listens for the
 * signal itself and decides when to exit.
 *
 * One process-wide handler serves all pools: with one handler per pool, the first pool to
 * finish closing would re-raise the signal and end the process while the others still close.
 */
function onSignal(signal: NodeJS.Signals): void {
  for (const name of SIGNALS) process.removeListener(name, onSignal);
  const pools = [...registered];
  registered.clear();

  void Promise.allSettled(pools.map((pool) => pool.close())).then(() => {
    if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
  });
}

/** Registers `pool` for closing on SIGINT and SIGTERM; returns the function that unregisters it. */
export function closeOnSignals(pool: Closable): () => void {
  if (registered.size === 0) for (const name of SIGNALS) process.on(name, onSignal);
  registered.add(pool);

  return () => {
    if (!registered.delete(pool) || registered.size > 0) return;
    for (const name of SIGNALS) process.removeListener(name, onSignal);
  };
}
