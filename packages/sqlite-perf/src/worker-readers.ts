import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { IntegerMode } from './config';
import { BROKEN_CODE_PREFIXES, SqlitePerfError, wrapSqliteError } from './errors';
import type { SqlParameters } from './integers';
import type { ConnectionPragmas } from './pragmas';
import { ReadGate } from './read-gate';
import type { StatementCacheCounters } from './statement-cache';
import { closedError } from './writer-queue';

/** Settings of the worker readers. */
export interface WorkerReadersInit {
  readonly threads: number;
  readonly path: string;
  readonly pragmaStatements: readonly string[];
  readonly statementCacheSize: number;
  /** How long a query waits for a worker while every worker restarts, in ms. */
  readonly restartWaitMs: number;
  /** Statement cache lookups, shared with the main-thread connections. */
  readonly cacheCounters: StatementCacheCounters;
  /** V8 old-generation heap limit of each worker, in MiB. Unset keeps Node.js's default. */
  readonly heapMb: number | undefined;
  /** Returns a fresh connection id for a (re)started worker. */
  readonly nextConnectionId: () => number;
  /** Called when a worker exits unexpectedly and is replaced. */
  readonly onWorkerFailed?: (error: Error) => void;
}

interface PendingRequest {
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
  readonly sql: string;
}

interface ReaderThread {
  readonly worker: Worker;
  readonly connectionId: number;
  readonly pending: Map<number, PendingRequest>;
  /** `Date.now()` when the worker was started. */
  readonly startedAt: number;
  exited: boolean;
}

/** A worker that fails sooner than this after starting is restarted only after this delay, in ms. */
const RESTART_BACKOFF_MS = 1000;

type WorkerRequest =
  | { op: 'all' | 'get'; sql: string; params: SqlParameters | undefined; integers: IntegerMode }
  | { op: 'pragmas' }
  | { op: 'reopen' };

interface WorkerResponse {
  readonly id: number;
  readonly ok: boolean;
  readonly value?: unknown;
  /** Whether the statement came from the worker's cache. Unset when none was looked up. */
  readonly cached?: boolean;
  readonly error?: { name?: string; message: string; code?: string; broken: boolean };
}

const WORKER_URL = new URL('./reader-worker.cjs', import.meta.url);
const betterSqlite3Path = createRequire(import.meta.url).resolve('better-sqlite3');

/**
 * Read connections in worker threads: each thread owns one read-only connection and
 * runs the queries posted to it, so reads use other cores while the main thread
 * works. Rows come back by structured clone (one copy); BLOB values that own their
 * memory are transferred instead of copied.
 */
export class WorkerReaders {
  readonly #init: WorkerReadersInit;
  readonly #threads: ReaderThread[] = [];
  readonly #gate = new ReadGate();
  /** Queries waiting for a worker while every worker restarts. */
  readonly #restartWaiters = new Set<() => void>();
  #nextRequestId = 1;
  #completed = 0;
  #closed = false;

  constructor(init: WorkerReadersInit) {
    this.#init = init;
    for (let index = 0; index < init.threads; index++) {
      this.#threads.push(this.#spawn());
    }
  }

  /** Worker connections open. */
  get size(): number {
    return this.#threads.length;
  }

  /** Queries the workers have completed, successfully or not. */
  get completed(): number {
    return this.#completed;
  }

  /** Queries running in workers now. */
  get inFlight(): number {
    return this.#gate.running;
  }

  /** Runs a query on the least busy worker and resolves with its rows (`all`) or first row (`get`). */
  async query(
    op: 'all' | 'get',
    sql: string,
    params: SqlParameters | undefined,
    integers: IntegerMode,
  ): Promise<unknown> {
    if (this.#closed) {
      throw closedError('read');
    }
    const opened = this.#gate.opened;
    if (opened !== undefined) {
      await opened;
      if (this.#closed) {
        throw closedError('read');
      }
    }

    if (this.#threads.length === 0) {
      // Waiting keeps the query under the workers' heap limit, which the main thread lacks.
      await this.#waitForWorker(sql);
      if (this.#closed) {
        throw closedError('read');
      }
    }

    return this.#send(this.#leastBusy(), { op, sql, params, integers }, sql);
  }

  /** Reads back the pragmas of every worker connection. */
  pragmas(): Promise<ConnectionPragmas[]> {
    return Promise.all(
      this.#threads.map(
        (thread) => this.#send(thread, { op: 'pragmas' }, 'PRAGMA') as Promise<ConnectionPragmas>,
      ),
    );
  }

  /** Makes every worker reopen its connection (after the database file was replaced). */
  async reopen(): Promise<void> {
    await Promise.all(
      this.#threads.map((thread) => this.#send(thread, { op: 'reopen' }, 'reopen')),
    );
  }

  /** Holds new queries back until {@link resume}. */
  pause(): void {
    this.#gate.pause();
  }

  /** Lets held queries go on. */
  resume(): void {
    this.#gate.resume();
  }

  /** Resolves `true` once no query is running, or `false` after `timeoutMs`. */
  whenIdle(timeoutMs: number): Promise<boolean> {
    return this.#gate.whenIdle(timeoutMs);
  }

  /** Rejects held and later queries, waits for running ones, then stops every worker. */
  async close(): Promise<void> {
    if (this.#closed) {
      return;
    }
    this.#closed = true;
    this.#wakeWaiters();
    this.resume();
    await this.whenIdle(60_000);
    await Promise.all(this.#threads.map((thread) => thread.worker.terminate()));
  }

  #waitForWorker(sql: string): Promise<void> {
    const waitMs = this.#init.restartWaitMs;
    return new Promise((resolve, reject) => {
      const wake = () => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        this.#restartWaiters.delete(wake);
        reject(
          new SqlitePerfError(
            'WORKER_FAILED',
            `Cannot run "${sql}": every reader worker failed, and none restarted within ` +
              `acquireTimeoutMs (${waitMs} ms).`,
            { sql },
          ),
        );
      }, waitMs);
      this.#restartWaiters.add(wake);
    });
  }

  #wakeWaiters(): void {
    for (const wake of this.#restartWaiters) {
      wake();
    }
    this.#restartWaiters.clear();
  }

  #spawn(): ReaderThread {
    const connectionId = this.#init.nextConnectionId();
    const worker = new Worker(WORKER_URL, {
      workerData: {
        path: this.#init.path,
        pragmaStatements: this.#init.pragmaStatements,
        statementCacheSize: this.#init.statementCacheSize,
        betterSqlite3Path,
        brokenCodePrefixes: BROKEN_CODE_PREFIXES,
        connectionId,
      },
      resourceLimits:
        this.#init.heapMb === undefined ? undefined : { maxOldGenerationSizeMb: this.#init.heapMb },
    });
    // An idle worker must not keep the process alive; #send refs it while a query runs.
    worker.unref();
    const thread: ReaderThread = {
      worker,
      connectionId,
      pending: new Map(),
      startedAt: Date.now(),
      exited: false,
    };
    worker.on('message', (response: WorkerResponse) => this.#settle(thread, response));
    worker.on('error', (error) => this.#fail(thread, error));
    worker.on('exit', (exitCode) => {
      if (!this.#closed) {
        this.#fail(thread, new Error(`reader worker exited with code ${exitCode}`));
      }
    });

    return thread;
  }

  #leastBusy(): ReaderThread {
    let best = this.#threads[0]!;
    for (const thread of this.#threads) {
      if (thread.pending.size < best.pending.size) {
        best = thread;
      }
    }

    return best;
  }

  #send(thread: ReaderThread, request: WorkerRequest, sql: string): Promise<unknown> {
    const id = this.#nextRequestId++;

    return new Promise((resolve, reject) => {
      if (thread.pending.size === 0) {
        thread.worker.ref();
      }
      thread.pending.set(id, { resolve, reject, sql });
      this.#gate.enter();
      thread.worker.postMessage({ id, ...request });
    });
  }

  #settle(thread: ReaderThread, response: WorkerResponse): void {
    const request = thread.pending.get(response.id);
    if (request === undefined) {
      return;
    }
    this.#finish(thread, response.id);
    if (response.cached === true) {
      this.#init.cacheCounters.hits++;
    } else if (response.cached === false) {
      this.#init.cacheCounters.misses++;
    }
    if (response.ok) {
      request.resolve(response.value);
    } else {
      request.reject(toError(response.error!, request.sql));
    }
  }

  #finish(thread: ReaderThread, id: number): void {
    thread.pending.delete(id);
    this.#gate.leave();
    this.#completed++;
    if (thread.pending.size === 0) {
      thread.worker.unref();
    }
  }

  #fail(thread: ReaderThread, error: Error): void {
    if (thread.exited) {
      return;
    }
    thread.exited = true;
    for (const [id, request] of [...thread.pending]) {
      this.#finish(thread, id);
      request.reject(
        new SqlitePerfError(
          'WORKER_FAILED',
          `A reader worker failed while running "${request.sql}": ${error.message}`,
          {
            cause: error,
            sql: request.sql,
          },
        ),
      );
    }
    const index = this.#threads.indexOf(thread);
    if (index < 0 || this.#closed) {
      return;
    }
    this.#threads.splice(index, 1);
    this.#init.onWorkerFailed?.(error);
    void thread.worker.terminate();
    // A worker that fails right after starting would fail again at once; the delay
    // keeps that from turning into a busy restart loop.
    if (Date.now() - thread.startedAt >= RESTART_BACKOFF_MS) {
      this.#threads.push(this.#spawn());
      this.#wakeWaiters();
      return;
    }
    setTimeout(() => {
      if (!this.#closed) {
        this.#threads.push(this.#spawn());
        this.#wakeWaiters();
      }
    }, RESTART_BACKOFF_MS).unref();
  }
}

function toError(error: NonNullable<WorkerResponse['error']>, sql: string): unknown {
  if (error.code === 'UNSAFE_INTEGER') {
    return new SqlitePerfError('UNSAFE_INTEGER', error.message, { sql });
  }
  if (error.code === 'NOT_A_QUERY') {
    return new SqlitePerfError('INVALID_ARGUMENT', error.message, { sql });
  }
  const original = Object.assign(new Error(error.message), { code: error.code });
  if (error.code === undefined && error.name !== undefined) {
    original.name = error.name;
  }
  const wrapped = wrapSqliteError(original, sql);
  if (wrapped === original) {
    return new SqlitePerfError(
      'QUERY_FAILED',
      `A reader worker failed on "${sql}": ${error.message}`,
      {
        cause: original,
        sql,
      },
    );
  }

  return wrapped;
}
