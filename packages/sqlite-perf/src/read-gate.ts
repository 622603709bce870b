/**
 * Counts running reads and can hold new ones back, so a forced WAL checkpoint
 * can wait for the readers it needs to finish. Shared by the reader pool and
 * the worker-thread readers.
 */
export class ReadGate {
  readonly #idleWaiters = new Set<() => void>();
  #running = 0;
  #held: { promise: Promise<void>; open: () => void } | undefined;

  /** Reads running now. */
  get running(): number {
    return this.#running;
  }

  /** Whether new reads are held back. */
  get paused(): boolean {
    return this.#held !== undefined;
  }

  /** Promise that settles when held reads may start, or `undefined` when nothing is held. */
  get opened(): Promise<void> | undefined {
    return this.#held?.promise;
  }

  /** Holds new reads back until {@link resume}; reads already running go on. */
  pause(): void {
    if (this.#held !== undefined) {
      return;
    }
    let open!: () => void;
    const promise = new Promise<void>((resolve) => {
      open = resolve;
    });
    this.#held = { promise, open };
  }

  /** Lets held reads go on. */
  resume(): void {
    const held = this.#held;
    this.#held = undefined;
    held?.open();
  }

  /** Counts a read as running. */
  enter(): void {
    this.#running++;
  }

  /** Counts a read as finished, and wakes `whenIdle` waiters when none is left. */
  leave(): void {
    this.#running--;
    if (this.#running === 0 && this.#idleWaiters.size > 0) {
      for (const onIdle of [...this.#idleWaiters]) {
        onIdle();
      }
    }
  }

  /** Resolves `true` once no read is running, or `false` after `timeoutMs`. */
  whenIdle(timeoutMs: number): Promise<boolean> {
    if (this.#running === 0) {
      return Promise.resolve(true);
    }

    return new Promise((resolve) => {
      const done = (idle: boolean) => {
        clearTimeout(timer);
        this.#idleWaiters.delete(onIdle);
        resolve(idle);
      };
      const onIdle = () => done(true);
      const timer = setTimeout(() => done(false), timeoutMs);
      timer.unref();
      this.#idleWaiters.add(onIdle);
    });
  }
}
