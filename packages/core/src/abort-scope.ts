/** Stops one piece of running work with a reason. */
export type StopFunction = (reason: unknown) => void;

/**
 * A node in the tree of work that can be stopped together: the coordinator,
 * a batch, one call, one attempt. Aborting a scope calls every stop function
 * registered in it, child scopes included.
 *
 * Scopes stand in for AbortSignals inside the coordinator. Node 20 creates
 * an AbortSignal in about 4 µs and adds an abort listener in about 0.3 µs,
 * against well under 0.1 µs for a Set insert (measured on a 2-core AMD EPYC
 * with Node 20.20). Executors still get a real AbortSignal, created only
 * when they read it.
 */
export class AbortScope {
  readonly #stops = new Set<StopFunction>();
  readonly #parent: AbortScope | undefined;
  readonly #signal: AbortSignal | undefined;
  #aborted = false;
  #reason: unknown;

  /**
   * @param parent aborting it aborts this scope
   * @param signal aborting it aborts this scope, with the signal's reason
   */
  constructor(parent?: AbortScope, signal?: AbortSignal) {
    this.#parent = parent;
    this.#signal = signal;

    if (parent?.aborted) {
      this.abort(parent.reason);
    } else if (signal?.aborted) {
      this.abort(signal.reason);
    } else {
      parent?.add(this.abort);
      signal?.addEventListener('abort', this.#onSignalAbort);
    }
  }

  get aborted(): boolean {
    return this.#aborted;
  }

  /** Reason the scope was aborted with; `undefined` while it is not aborted. */
  get reason(): unknown {
    return this.#reason;
  }

  /** Registers work to stop when the scope aborts. */
  add(stop: StopFunction): void {
    this.#stops.add(stop);
  }

  /** Unregisters work that ended. */
  delete(stop: StopFunction): void {
    this.#stops.delete(stop);
  }

  /** Aborts the scope once; later calls do nothing. */
  readonly abort = (reason: unknown): void => {
    if (this.#aborted) {
      return;
    }
    this.#aborted = true;
    this.#reason = reason;
    this.dispose();

    const stops = [...this.#stops];
    this.#stops.clear();
    for (const stop of stops) {
      stop(reason);
    }
  };

  /** Detaches the scope from its parent and signal once its work is done. */
  dispose(): void {
    this.#parent?.delete(this.abort);
    this.#signal?.removeEventListener('abort', this.#onSignalAbort);
  }

  readonly #onSignalAbort = (): void => {
    this.abort(this.#signal?.reason);
  };
}
