import type { Connection } from './connection';
import { isBusyError, SqlitePerfError } from './errors';

/** Begin mode of a write transaction. */
export type BeginMode = 'immediate' | 'deferred' | 'exclusive';

/** Per-call options of `db.write`. */
export interface WriteOptions {
  /**
   * `immediate` takes the write lock at BEGIN, so the transaction cannot fail later
   * on a lock. `deferred` reads first and takes the lock at the first write. That
   * write fails with `SQLITE_BUSY_SNAPSHOT` if another connection committed
   * meanwhile, and the transaction is then restarted.
   * @default 'immediate'
   */
  readonly begin?: BeginMode;
}

/** A callback run inside one write transaction. It must return synchronously. */
export type WriteCallback<T> = (connection: Connection) => T;

/** Exclusive use of the writer connection across `await`s, for async transactions. */
export interface WriterLease {
  readonly connection: Connection;
  /** Gives the writer back to the queue. Safe to call twice. */
  release(): void;
}

/** Restart policy for `SQLITE_BUSY` and `SQLITE_LOCKED`. */
export interface RetryPolicy {
  readonly retries: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
}

/** Callbacks through which the queue reports to its owner. */
export interface WriterQueueHooks {
  /** Returns the writer connection, replacing a broken one first. */
  writer(): Connection;
  /** A transaction was restarted after lock contention. */
  onRetry(attempt: number, error: unknown): void;
  /** A transaction settled; `durationNs` covers every attempt. Omitted when nothing is timed. */
  onSettled?(status: 'ok' | 'error', durationNs: bigint): void;
  /** A transaction committed. */
  onCommit(): void;
}

interface TransactionJob {
  readonly kind: 'transaction';
  readonly callback: WriteCallback<unknown>;
  readonly begin: string;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
  readonly startedAt: bigint;
  attempt: number;
}

interface LeaseJob {
  readonly kind: 'lease';
  readonly resolve: (lease: WriterLease) => void;
  readonly reject: (error: unknown) => void;
}

type Job = TransactionJob | LeaseJob;

const BEGIN_STATEMENTS: Record<BeginMode, string> = {
  immediate: 'BEGIN IMMEDIATE',
  deferred: 'BEGIN DEFERRED',
  exclusive: 'BEGIN EXCLUSIVE',
};

const AsyncFunction = (async () => {}).constructor;

/**
 * The single writer: runs write transactions one at a time, in arrival order, on one
 * connection. Because callbacks are synchronous, a transaction never spans an
 * `await`, so no other task can block on its lock and the event loop never waits
 * in a busy handler for a lock this process holds.
 */
export class WriterQueue {
  readonly #hooks: WriterQueueHooks;
  readonly #retry: RetryPolicy;
  readonly #jobs: Job[] = [];
  readonly #drainWaiters: Array<() => void> = [];
  #pumping = false;
  #leased = false;
  #backoffTimer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(hooks: WriterQueueHooks, retry: RetryPolicy) {
    this.#hooks = hooks;
    this.#retry = retry;
  }

  /** Transactions and leases waiting, plus the one running or backing off. */
  get depth(): number {
    return this.#jobs.length + (this.#leased || this.#backoffTimer !== undefined ? 1 : 0);
  }

  /** Whether nothing is queued, running, leased or backing off. */
  get idle(): boolean {
    return this.#jobs.length === 0 && !this.#leased && this.#backoffTimer === undefined;
  }

  /** Queues `callback` to run in one transaction and settles with its result. */
  write<T>(callback: WriteCallback<T>, options?: WriteOptions): Promise<T> {
    if (this.#closed) {
      return Promise.reject(closedError('write'));
    }
    if (typeof callback !== 'function') {
      return Promise.reject(
        new SqlitePerfError('INVALID_ARGUMENT', 'Invalid write callback: must be a function.'),
      );
    }
    if (callback instanceof AsyncFunction) {
      return Promise.reject(asyncCallbackError());
    }
    const begin = BEGIN_STATEMENTS[options?.begin ?? 'immediate'];
    if (begin === undefined) {
      return Promise.reject(
        new SqlitePerfError(
          'INVALID_ARGUMENT',
          `Invalid begin mode ${String(options?.begin)}: must be 'immediate', 'deferred' or 'exclusive'.`,
        ),
      );
    }

    return new Promise<T>((resolve, reject) => {
      this.#jobs.push({
        kind: 'transaction',
        callback,
        begin,
        resolve: resolve as (value: unknown) => void,
        reject,
        startedAt: this.#hooks.onSettled === undefined ? 0n : process.hrtime.bigint(),
        attempt: 0,
      });
      this.#pump();
    });
  }

  /**
   * Waits for the writer and holds it until the lease is released, so one async
   * transaction (Kysely's) can span `await`s while every other write waits its turn.
   */
  lease(): Promise<WriterLease> {
    if (this.#closed) {
      return Promise.reject(closedError('write'));
    }

    return new Promise<WriterLease>((resolve, reject) => {
      this.#jobs.push({ kind: 'lease', resolve, reject });
      this.#pump();
    });
  }

  /** Backoff before restart number `attempt` (1-based): exponential, capped, jittered. */
  retryDelayMs(attempt: number): number {
    const ceiling = Math.min(this.#retry.maxDelayMs, this.#retry.baseDelayMs * 2 ** (attempt - 1));
    // Half fixed, half random, so two processes that collided do not collide again.
    return ceiling / 2 + Math.random() * (ceiling / 2);
  }

  /** The retry policy, for async transactions that restart on their own. */
  get retryPolicy(): RetryPolicy {
    return this.#retry;
  }

  /** Resolves once every queued transaction has settled and no lease is held. */
  drain(): Promise<void> {
    if (this.idle) {
      return Promise.resolve();
    }

    return new Promise((resolve) => this.#drainWaiters.push(resolve));
  }

  /** Rejects later writes with `POOL_CLOSED`; queued ones still run (see {@link drain}). */
  close(): void {
    this.#closed = true;
  }

  #pump(): void {
    if (this.#pumping) {
      return;
    }
    this.#pumping = true;
    try {
      while (!this.#leased && this.#backoffTimer === undefined && this.#jobs.length > 0) {
        const job = this.#jobs.shift()!;
        if (job.kind === 'lease') {
          this.#grantLease(job);
        } else {
          this.#runTransaction(job);
        }
      }
    } finally {
      this.#pumping = false;
    }
    if (this.idle) {
      this.#notifyDrained();
    }
  }

  #grantLease(job: LeaseJob): void {
    let connection: Connection;
    try {
      connection = this.#hooks.writer();
    } catch (error) {
      job.reject(error);
      return;
    }
    this.#leased = true;
    let released = false;
    job.resolve({
      connection,
      release: () => {
        if (released) {
          return;
        }
        released = true;
        this.#leased = false;
        this.#pump();
      },
    });
  }

  #runTransaction(job: TransactionJob): void {
    let connection: Connection | undefined;
    try {
      connection = this.#hooks.writer();
      connection.control(job.begin);
      const result = job.callback(connection);
      if (isThenable(result)) {
        // Swallow the callback's own rejection: the caller gets ASYNC_CALLBACK instead.
        Promise.resolve(result).catch(() => {});
        throw asyncCallbackError();
      }
      connection.control('COMMIT');
      this.#hooks.onCommit();
      this.#settle(job, 'ok');
      job.resolve(result);
    } catch (error) {
      rollbackQuietly(connection);
      if (isBusyError(error) && job.attempt < this.#retry.retries && !this.#closed) {
        this.#scheduleRestart(job, error);
        return;
      }
      this.#settle(job, 'error');
      job.reject(busyAfterRetries(error, job.attempt));
    }
  }

  #scheduleRestart(job: TransactionJob, error: unknown): void {
    job.attempt++;
    this.#hooks.onRetry(job.attempt, error);
    this.#jobs.unshift(job);
    // Not unref()ed: a caller is awaiting this write, so the process must stay up for it.
    this.#backoffTimer = setTimeout(() => {
      this.#backoffTimer = undefined;
      this.#pump();
    }, this.retryDelayMs(job.attempt));
  }

  #settle(job: TransactionJob, status: 'ok' | 'error'): void {
    this.#hooks.onSettled?.(status, process.hrtime.bigint() - job.startedAt);
  }

  #notifyDrained(): void {
    const waiters = this.#drainWaiters.splice(0);
    for (const resolve of waiters) {
      resolve();
    }
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

function rollbackQuietly(connection: Connection | undefined): void {
  if (connection?.inTransaction) {
    try {
      connection.control('ROLLBACK');
    } catch {
      // SQLite may have rolled back on its own already (after SQLITE_FULL, for one).
    }
  }
}

function busyAfterRetries(error: unknown, attempts: number): unknown {
  if (!isBusyError(error) || attempts === 0) {
    return error;
  }
  const sqliteCode = (error as { sqliteCode?: string }).sqliteCode;

  return new SqlitePerfError(
    'DATABASE_BUSY',
    `The database stayed locked through ${attempts} restarts of the transaction; ` +
      'another process holds the write lock. Retry later or raise busyRetries.',
    { cause: error, ...(sqliteCode !== undefined && { sqliteCode }) },
  );
}

function asyncCallbackError(): SqlitePerfError {
  return new SqlitePerfError(
    'ASYNC_CALLBACK',
    'Invalid write callback: it returned a promise, but a transaction cannot span an await. ' +
      'Read what you need first, then pass a synchronous callback (nothing was written).',
  );
}

/** Creates the `POOL_CLOSED` error for an operation attempted after `close()`. */
export function closedError(operation: string): SqlitePerfError {
  return new SqlitePerfError(
    'POOL_CLOSED',
    `Cannot ${operation}: the database is closed (close() was called).`,
  );
}
