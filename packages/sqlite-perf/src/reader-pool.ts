import { Pool } from 'tarn';
import type { Connection } from './connection';
import { SqlitePerfError } from './errors';
import { ReadGate } from './read-gate';
import { closedError } from './writer-queue';

/** A callback run with a reader connection. It may be async; the reader is held until it settles. */
export type ReadCallback<T> = (connection: Connection) => T | Promise<T>;

/** Counts that describe the reader pool at one moment. */
export interface ReaderPoolStats {
  /** Reader connections open. */
  readonly size: number;
  /** Reader connections running a callback. */
  readonly inUse: number;
  /** Reads waiting for a connection. */
  readonly waiting: number;
}

/** Settings of the pool: how it makes and checks connections. */
export interface ReaderPoolInit {
  readonly create: () => Connection;
  /** Whether a connection may be handed out again (not broken, not stale). */
  readonly isFresh: (connection: Connection) => boolean;
  readonly minReaders: number;
  readonly maxReaders: number;
  readonly acquireTimeoutMs: number;
  readonly idleTimeoutMs: number;
  /** Called with the wait in nanoseconds each time a read had to wait for tarn. */
  readonly onAcquireWait?: (waitNs: bigint) => void;
  /** Called when a connection failed validation and is discarded. */
  readonly onDiscard?: (connection: Connection) => void;
}

interface Waiter {
  settled: boolean;
  reject(error: unknown): void;
}

// tarn's reaping interval is not unref()ed, so a pool someone forgot to close would
// keep the process alive. This subclass unrefs the interval as soon as it starts.
class UnrefPool<T> extends Pool<T> {
  override _startReaping(): void {
    super._startReaping();
    this.interval?.unref?.();
  }
}

/**
 * Reader connections on the main thread, pooled by tarn (min/max, idle reaping,
 * acquire timeout, validation on every acquire).
 *
 * A reader released while no read waits is kept aside as a spare until the next
 * turn of the event loop, then given back to tarn. A read that finds a spare takes
 * it synchronously, so a sequence of awaited reads does not pay for tarn's
 * promise chain and timers on every call.
 */
export class ReaderPool {
  readonly #init: ReaderPoolInit;
  readonly #pool: UnrefPool<Connection>;
  readonly #spares: Connection[] = [];
  readonly #waiting = new Set<Waiter>();
  readonly #gate = new ReadGate();
  #sparesReturnScheduled = false;
  #closed = false;

  constructor(init: ReaderPoolInit) {
    this.#init = init;
    this.#pool = new UnrefPool<Connection>({
      create: async () => init.create(),
      destroy: (connection) => connection.close(),
      validate: (connection) => {
        const fresh = init.isFresh(connection);
        if (!fresh) {
          init.onDiscard?.(connection);
        }
        return fresh;
      },
      min: init.minReaders,
      max: init.maxReaders,
      // Waiters time out in #acquire; tarn's own timeout only backs it up.
      acquireTimeoutMillis: init.acquireTimeoutMs * 2 + 1000,
      idleTimeoutMillis: init.idleTimeoutMs,
      propagateCreateError: true,
    });
  }

  /** Counts of open, busy and waiting readers. */
  get stats(): ReaderPoolStats {
    return {
      size: this.#pool.numUsed() + this.#pool.numFree(),
      inUse: this.#gate.running,
      waiting: this.#waiting.size,
    };
  }

  /** Runs `callback` with a reader and settles with its result. */
  read<T>(callback: ReadCallback<T>): Promise<T> {
    if (this.#closed) {
      return Promise.reject(closedError('read'));
    }
    if (!this.#gate.paused) {
      const spare = this.#takeSpare();
      if (spare !== undefined) {
        return this.#run(spare, callback);
      }
    }

    return this.#acquire().then((connection) => this.#run(connection, callback));
  }

  /** Holds new reads back until {@link resume}; reads already running go on. */
  pause(): void {
    this.#gate.pause();
  }

  /** Lets held reads go on. */
  resume(): void {
    this.#gate.resume();
  }

  /** Resolves `true` once no read is running, or `false` after `timeoutMs`. */
  whenIdle(timeoutMs: number): Promise<boolean> {
    return this.#gate.whenIdle(timeoutMs);
  }

  /**
   * Rejects waiting and later reads with `POOL_CLOSED` at once, waits for running
   * reads to finish, then closes every reader.
   */
  async close(): Promise<void> {
    if (this.#closed) {
      return;
    }
    this.#closed = true;
    for (const waiter of [...this.#waiting]) {
      waiter.reject(closedError('read'));
    }
    this.resume();
    this.#returnSpares();
    await this.#pool.destroy();
  }

  async #acquire(): Promise<Connection> {
    const opened = this.#gate.opened;
    if (opened !== undefined) {
      await opened;
      if (this.#closed) {
        throw closedError('read');
      }
    }
    const startedAt = process.hrtime.bigint();
    const pending = this.#pool.acquire().promise;

    // tarn's own abort and timeout can race its validation step and strand a
    // connection as "used" forever, which then blocks pool.destroy(). So the waiter
    // is settled here instead, and a connection that arrives after the waiter gave
    // up goes straight back to the pool.
    return new Promise<Connection>((resolve, reject) => {
      const waiter: Waiter = {
        settled: false,
        reject: (error) => {
          waiter.settled = true;
          clearTimeout(timer);
          this.#waiting.delete(waiter);
          reject(error);
        },
      };
      const timer = setTimeout(
        () => waiter.reject(this.#timeoutError()),
        this.#init.acquireTimeoutMs,
      );
      this.#waiting.add(waiter);
      pending.then(
        (connection) => {
          if (waiter.settled) {
            this.#pool.release(connection);
            return;
          }
          waiter.settled = true;
          clearTimeout(timer);
          this.#waiting.delete(waiter);
          this.#init.onAcquireWait?.(process.hrtime.bigint() - startedAt);
          resolve(connection);
        },
        (error: unknown) => {
          if (!waiter.settled) {
            waiter.reject(this.#closed ? closedError('read') : error);
          }
        },
      );
    });
  }

  #timeoutError(): SqlitePerfError {
    return new SqlitePerfError(
      'ACQUIRE_TIMEOUT',
      `No reader connection became free within acquireTimeoutMs (${this.#init.acquireTimeoutMs} ms); ` +
        `all ${this.#init.maxReaders} readers (maxReaders) are in use.`,
    );
  }

  #run<T>(connection: Connection, callback: ReadCallback<T>): Promise<T> {
    this.#gate.enter();
    let result: T | Promise<T>;
    try {
      result = callback(connection);
    } catch (error) {
      this.#release(connection);
      return Promise.reject(error);
    }
    if (result instanceof Promise) {
      return result.finally(() => this.#release(connection));
    }
    this.#release(connection);

    return Promise.resolve(result);
  }

  #takeSpare(): Connection | undefined {
    while (this.#spares.length > 0) {
      const spare = this.#spares.pop()!;
      if (this.#init.isFresh(spare)) {
        return spare;
      }
      // tarn validates it on the next acquire and destroys it there.
      this.#pool.release(spare);
    }

    return undefined;
  }

  #release(connection: Connection): void {
    try {
      connection.endRead(false);
    } catch {
      // A connection that cannot roll back is not handed out again.
      connection.markBroken();
    }
    // Freshness is checked again when a spare is taken, so only failure is checked here.
    if (this.#closed || !connection.usable || this.#pool.numPendingAcquires() > 0) {
      this.#pool.release(connection);
    } else {
      this.#spares.push(connection);
      if (!this.#sparesReturnScheduled) {
        this.#sparesReturnScheduled = true;
        setImmediate(() => this.#returnSpares());
      }
    }
    // Last, so an idle waiter (a forced checkpoint) sees the connection back in the pool.
    this.#gate.leave();
  }

  #returnSpares(): void {
    this.#sparesReturnScheduled = false;
    for (const spare of this.#spares.splice(0)) {
      this.#pool.release(spare);
    }
  }
}
