import { statSync } from 'node:fs';
import { basename, extname, resolve } from 'node:path';
import type { Kysely } from 'kysely';
import {
  type CheckpointMode,
  CheckpointPolicy,
  type CheckpointResult,
  type PausableReaders,
} from './checkpoint-policy';
import {
  type DatabaseConfig,
  DEFAULT_CHECKPOINT,
  describe,
  type ResolvedDatabaseConfig,
  resolveConfig,
} from './config';
import { Connection, type QueryOptions } from './connection';
import { DatabaseMetrics, type DatabaseOperation } from './database-metrics';
import { SqlitePerfError } from './errors';
import {
  type AdvisedQuery,
  type AdviseIndexesOptions,
  adviseIndexes,
  type IndexAdvice,
} from './index-advisor';
import { type InsertManyOptions, type InsertManyResult, insertMany } from './insert-many';
import { type SqlParameters, toBindable } from './integers';
import { createKysely } from './kysely-dialect';
import { type ConnectionPragmas, type ConnectionRole, pragmaStatements } from './pragmas';
import { type ReadCallback, ReaderPool } from './reader-pool';
import type { StatementCacheCounters } from './statement-cache';
import { WorkerReaders } from './worker-readers';
import { WriterAsReader } from './writer-as-reader';
import { closedError, type WriteCallback, type WriteOptions, WriterQueue } from './writer-queue';

/** Counts that describe a database handle at one moment. */
export interface DatabaseStats {
  readonly readers: { readonly size: number; readonly inUse: number; readonly waiting: number };
  /** Worker connections, queries running in them, and queries they have completed. */
  readonly workers: {
    readonly size: number;
    readonly inFlight: number;
    readonly completed: number;
  };
  readonly writeQueueDepth: number;
  /** Transactions restarted after `SQLITE_BUSY`/`SQLITE_LOCKED`. */
  readonly busyRetries: number;
  /** Statement cache lookups on every connection; `hitRate` is hits / lookups (0 before any lookup). */
  readonly statementCache: {
    readonly hits: number;
    readonly misses: number;
    readonly hitRate: number;
  };
  readonly checkpoints: {
    readonly passive: number;
    readonly forced: number;
    readonly starved: number;
    readonly walBytes: number;
  };
  /** Connections discarded as broken or stale and replaced. */
  readonly connectionsReplaced: number;
}

/** Result of {@link Database.checkHealth}. */
export interface HealthReport {
  readonly healthy: boolean;
  /** The problem found, if any. The connections involved were replaced. */
  readonly problem?: string;
}

/** A source of reads that the checkpoint policy can pause: the pool or the workers. */
interface ReaderSource extends PausableReaders {
  read<T>(callback: ReadCallback<T>): Promise<T>;
  readonly stats: { size: number; inUse: number; waiting: number };
  close(): Promise<void>;
}

/**
 * A SQLite database tuned for one process with many async tasks: one writer
 * connection behind a queue, a pool of reader connections (and optionally reader
 * worker threads), cached statements, exact integers and WAL care.
 *
 * Create one with {@link openDatabase}.
 */
export class Database {
  /** The file path, absolute, or `:memory:`. */
  readonly path: string;
  /** The configuration after defaults, frozen. */
  readonly config: ResolvedDatabaseConfig;
  readonly #inMemory: boolean;
  readonly #pragmaStatements: string[];
  readonly #cacheCounters: StatementCacheCounters = { hits: 0, misses: 0 };
  readonly #metrics: DatabaseMetrics;
  readonly #queue: WriterQueue;
  readonly #readers: ReaderSource;
  readonly #workers: WorkerReaders | undefined;
  readonly #checkpoints: CheckpointPolicy | undefined;
  readonly #healthTimer: NodeJS.Timeout | undefined;
  #writer: Connection;
  #fileIdentity: string | undefined;
  #nextConnectionId = 1;
  #generation = 0;
  #busyRetries = 0;
  #replaced = 0;
  /** The connection of {@link readSync}, opened on first use. */
  #syncReader: Connection | undefined;
  /** How many readSync calls are running, one inside another. */
  #syncDepth = 0;
  #closing: Promise<void> | undefined;

  constructor(path: string, config: DatabaseConfig = {}) {
    if (typeof path !== 'string' || path.length === 0) {
      throw new SqlitePerfError(
        'INVALID_CONFIG',
        `Invalid path ${describe(path)}: must be a file path or ':memory:'.`,
      );
    }
    this.#inMemory = path === ':memory:';
    this.path = this.#inMemory ? path : resolve(path);
    this.config = resolveConfig(config, this.#inMemory, defaultName(this.path, this.#inMemory));
    this.#pragmaStatements = pragmaStatements(this.config.pragmas, this.#inMemory);

    this.#writer = this.#open('writer');
    this.#fileIdentity = this.#readFileIdentity();
    this.#metrics = new DatabaseMetrics(this.config.metrics, {
      name: this.config.name,
      gauges: () => this.#gauges(),
    });

    this.#queue = this.#createQueue();
    this.#readers = this.#inMemory
      ? new WriterAsReader(() => this.#writerConnection())
      : this.#createReaderPool();
    this.#workers = this.config.readerThreads > 0 ? this.#createWorkers() : undefined;
    this.#checkpoints =
      !this.#inMemory && this.config.pragmas.journalMode === 'wal'
        ? this.#createCheckpointPolicy()
        : undefined;

    if (this.config.healthCheckIntervalMs > 0 && !this.#inMemory) {
      this.#healthTimer = setInterval(() => this.checkHealth(), this.config.healthCheckIntervalMs);
      this.#healthTimer.unref();
    }
  }

  /** Whether `close()` has been called. */
  get closed(): boolean {
    return this.#closing !== undefined;
  }

  /**
   * Runs `callback` in one write transaction (`BEGIN IMMEDIATE` by default) on the
   * single writer connection. Writes from concurrent tasks run one after another in
   * call order. On `SQLITE_BUSY`/`SQLITE_LOCKED` the whole transaction is rolled back
   * and `callback` runs again after a backoff, up to `busyRetries` times.
   *
   * Note: `callback` must be synchronous. An async function, or one that returns a
   * promise, is rejected with `ASYNC_CALLBACK` and nothing it did is committed.
   *
   * @example
   * import { openDatabase } from '@agentnode/sqlite-perf';
   * const db = openDatabase('app.db');
   * const id = await db.write((tx) => {
   *   const { n } = tx.get<{ n: number }>('SELECT count(*) AS n FROM jobs')!;
   *   return tx.run('INSERT INTO jobs (position) VALUES (?)', [n + 1]).lastInsertRowid;
   * });
   */
  write<T>(callback: WriteCallback<T>, options?: WriteOptions): Promise<T> {
    return this.#queue.write(callback, options);
  }

  /**
   * Runs `callback` with a reader connection from the pool. The callback may be
   * async; the connection is held until it settles. Rejects with `POOL_CLOSED` once
   * the database is closing, and with `ACQUIRE_TIMEOUT` when no reader is free in time.
   *
   * Note: reads run in autocommit mode, so two statements in one callback may see
   * different commits if a write lands between them. Wrap them in `BEGIN`/`COMMIT`
   * yourself when they must share one snapshot.
   *
   * @example
   * import { openDatabase } from '@agentnode/sqlite-perf';
   * const db = openDatabase('app.db');
   * const jobs = await db.read((conn) => conn.all('SELECT * FROM jobs WHERE state = ?', ['queued']));
   */
  read<T>(callback: ReadCallback<T>): Promise<T> {
    if (typeof callback !== 'function') {
      return Promise.reject(
        new SqlitePerfError('INVALID_ARGUMENT', 'Invalid read callback: must be a function.'),
      );
    }
    if (!this.#metrics.enabled) {
      return this.#readers.read(callback);
    }

    return this.#timed('read', this.#readers.read(callback));
  }

  /**
   * Runs `callback` at once on a read connection kept for synchronous reads and returns
   * its result: no promise, no pool. Use it on hot paths and in synchronous code, and
   * `read` for callbacks that await. The connection is opened on first use, gets the same
   * pragmas and is replaced like a pooled reader. Throws `POOL_CLOSED` once the database
   * is closing, and `ASYNC_CALLBACK` when the callback returns a promise.
   *
   * @example
   * import { openDatabase } from '@agentnode/sqlite-perf';
   * const db = openDatabase('app.db');
   * const queued = db.readSync((conn) => conn.get<{ n: number }>('SELECT count(*) AS n FROM jobs'));
   */
  readSync<T>(callback: (connection: Connection) => T): T {
    if (this.#closing !== undefined) {
      throw closedError('read');
    }
    if (typeof callback !== 'function') {
      throw new SqlitePerfError(
        'INVALID_ARGUMENT',
        'Invalid readSync callback: must be a function.',
      );
    }
    // A readSync inside another one shares its connection, and only the outer one ends
    // what was left open, so the inner one cannot end the outer one's snapshot.
    const outermost = this.#syncDepth === 0;
    const connection = outermost
      ? this.#syncReaderConnection()
      : (this.#inMemory ? this.#writer : this.#syncReader)!;
    // On :memory: this is the writer, where a Kysely transaction may be open.
    const transactionBefore = outermost && this.#inMemory && connection.inTransaction;
    const timed = this.#metrics.enabled;
    const startedAt = timed ? process.hrtime.bigint() : 0n;
    let status: 'ok' | 'error' = 'error';
    this.#syncDepth++;
    try {
      const result = checkSyncResult(callback(connection));
      status = 'ok';
      return result;
    } finally {
      this.#syncDepth--;
      if (outermost) {
        connection.endRead(transactionBefore);
      }
      if (timed) {
        this.#metrics.observeQuery('read', status, process.hrtime.bigint() - startedAt);
      }
    }
  }

  /**
   * Runs one query and resolves with every row. With `readerThreads` the query runs
   * in a worker thread, otherwise on a pooled reader.
   *
   * @example
   * import { openDatabase } from '@agentnode/sqlite-perf';
   * const db = openDatabase('app.db', { readerThreads: 2 });
   * const rows = await db.query<{ id: number }>('SELECT id FROM jobs WHERE state = ?', ['done']);
   */
  query<T = Record<string, unknown>>(
    sql: string,
    params?: SqlParameters,
    options?: QueryOptions,
  ): Promise<T[]> {
    const result = this.#workers
      ? (this.#queryWorkers('all', sql, params, options) as Promise<T[]>)
      : this.#readers.read((connection) => connection.all<T>(sql, params, options));

    return this.#metrics.enabled ? this.#timed('query', result) : result;
  }

  /** Like {@link query}, resolving with the first row or `undefined`. */
  queryOne<T = Record<string, unknown>>(
    sql: string,
    params?: SqlParameters,
    options?: QueryOptions,
  ): Promise<T | undefined> {
    const result = this.#workers
      ? (this.#queryWorkers('get', sql, params, options) as Promise<T | undefined>)
      : this.#readers.read((connection) => connection.get<T>(sql, params, options));

    return this.#metrics.enabled ? this.#timed('query', result) : result;
  }

  /**
   * Inserts many rows, one write transaction per `chunkSize` rows, each chunk split
   * into multi-row INSERTs under SQLite's variable limit. Table and column names must
   * be plain identifiers. A failed chunk is rolled back and the error
   * (`INSERT_FAILED`) names the failing row in `rowIndex`; earlier chunks stay committed.
   *
   * @example
   * import { openDatabase } from '@agentnode/sqlite-perf';
   * const db = openDatabase('app.db');
   * await db.insertMany('events', [{ id: 1, kind: 'start' }, { id: 2, kind: 'stop' }], { chunkSize: 500 });
   */
  insertMany<Row extends object>(
    table: string,
    rows: readonly Row[],
    options?: InsertManyOptions,
  ): Promise<InsertManyResult> {
    const result = insertMany(
      this.#queue,
      table,
      rows as unknown as readonly Readonly<Record<string, unknown>>[],
      options,
    );

    return this.#metrics.enabled ? this.#timed('insert_many', result) : result;
  }

  /**
   * Creates a Kysely instance whose dialect sends SELECTs to the readers (or reader
   * workers) and every other statement and every transaction to the writer queue,
   * through the per-connection statement caches. Create it once and keep it.
   * Destroying it ends only that instance; `db.close()` closes the connections.
   *
   * Note: inside `db.kysely().transaction().execute(...)` use the transaction
   * object only. Awaiting `db.write` there waits for the writer the transaction holds.
   *
   * @example
   * import { openDatabase } from '@agentnode/sqlite-perf';
   * interface Schema { jobs: { id: number; state: string } }
   * const db = openDatabase('app.db');
   * const queued = await db.kysely<Schema>().selectFrom('jobs').selectAll().where('state', '=', 'queued').execute();
   */
  kysely<DB>(): Kysely<DB> {
    const kysely = createKysely({
      queue: this.#queue,
      read: (callback) => this.#readers.read(callback),
      workers: this.#workers,
      integers: this.config.integers,
      onBusyRetry: (attempt) => this.#countRetry('transaction', attempt),
      observe: this.#metrics.enabled
        ? (operation, status, durationNs) =>
            this.#metrics.observeQuery(operation, status, durationNs)
        : undefined,
    });

    return kysely as Kysely<DB>;
  }

  /**
   * Proposes indexes for `queries` and keeps only those SQLite's planner would use.
   * Candidates come from the columns the queries filter, join and sort on. Each is
   * tried on an in-memory copy of the schema with a sample of the rows and `ANALYZE`
   * statistics, and checked with `EXPLAIN QUERY PLAN`. The real database is
   * only read, unless `apply: true` creates the advised indexes on it.
   *
   * @example
   * import { openDatabase } from '@agentnode/sqlite-perf';
   * const db = openDatabase('app.db');
   * const advice = await db.adviseIndexes(['SELECT * FROM jobs WHERE state = ? ORDER BY created_at']);
   * for (const index of advice) console.log(index.createSql);
   */
  async adviseIndexes(
    queries: readonly AdvisedQuery[],
    options?: AdviseIndexesOptions,
  ): Promise<IndexAdvice[]> {
    const advice = await this.#readers.read((connection) =>
      adviseIndexes(connection, queries, options),
    );
    if (options?.apply === true && advice.length > 0) {
      await this.write((tx) => {
        for (const index of advice) {
          tx.exec(index.createSql);
        }
      });
    }

    return advice;
  }

  /**
   * Runs a WAL checkpoint now. `truncate` (the default) takes the writer, pauses new
   * reads until running ones finish, copies every frame and truncates the WAL.
   */
  checkpoint(mode: CheckpointMode = 'truncate'): Promise<CheckpointResult> {
    if (this.closed) {
      return Promise.reject(closedError('checkpoint'));
    }
    if (this.#checkpoints === undefined) {
      return Promise.reject(
        new SqlitePerfError(
          'INVALID_ARGUMENT',
          'Cannot checkpoint: the database is not in WAL mode on a file.',
        ),
      );
    }
    if (!['passive', 'full', 'restart', 'truncate'].includes(mode)) {
      return Promise.reject(
        new SqlitePerfError(
          'INVALID_ARGUMENT',
          `Invalid checkpoint mode ${describe(mode)}: must be passive, full, restart or truncate.`,
        ),
      );
    }

    return this.#checkpoints.run(mode);
  }

  /**
   * Checks that the database file is still the one the connections opened and that
   * the writer works. If the file was removed or replaced, or the writer failed,
   * the writer is replaced (recreating the file if needed) and every reader is
   * retired so it is reopened on next use. Runs every `healthCheckIntervalMs` on its own.
   */
  checkHealth(): HealthReport {
    if (this.closed || this.#inMemory) {
      return { healthy: true };
    }
    let problem: string | undefined;
    const identity = this.#readFileIdentity();
    if (identity === undefined) {
      problem = `the database file ${this.path} was removed`;
    } else if (identity !== this.#fileIdentity) {
      problem = `the database file ${this.path} was replaced by another file`;
    } else if (!this.#writer.usable) {
      problem = 'the writer connection failed';
    }
    if (problem === undefined) {
      return { healthy: true };
    }
    this.#writer.markBroken();
    if (this.#queue.idle) {
      try {
        this.#writerConnection();
      } catch (error) {
        // Runs from a timer, so the error is reported here; the next write retries the open.
        this.config.logger?.error(
          `sqlite-perf: could not reopen the writer of ${this.config.name}`,
          error,
        );
        return { healthy: false, problem: `${problem}, and reopening it failed` };
      }
    }

    return { healthy: false, problem };
  }

  /** Reads back the pragmas every open connection really has: writer, readers, workers. */
  async pragmas(): Promise<ConnectionPragmas[]> {
    if (this.closed) {
      throw closedError('read pragmas');
    }
    const writer = await this.#queue.lease();
    const report: ConnectionPragmas[] = [];
    try {
      report.push(writer.connection.pragmas());
    } finally {
      writer.release();
    }
    if (!this.#inMemory) {
      report.push(...(await this.#readerPragmas()));
    }
    if (this.#syncReader?.usable) {
      report.push(this.#syncReader.pragmas());
    }
    if (this.#workers) {
      report.push(...(await this.#workers.pragmas()));
    }

    return report;
  }

  /** Counters and pool figures, for tests and dashboards without a metrics registry. */
  stats(): DatabaseStats {
    const { hits, misses } = this.#cacheCounters;

    return {
      readers: this.#readers.stats,
      workers: {
        size: this.#workers?.size ?? 0,
        inFlight: this.#workers?.inFlight ?? 0,
        completed: this.#workers?.completed ?? 0,
      },
      writeQueueDepth: this.#queue.depth,
      busyRetries: this.#busyRetries,
      statementCache: { hits, misses, hitRate: hits + misses === 0 ? 0 : hits / (hits + misses) },
      checkpoints: this.#checkpoints?.stats ?? { passive: 0, forced: 0, starved: 0, walBytes: 0 },
      connectionsReplaced: this.#replaced,
    };
  }

  /**
   * Closes the database. Later calls reject with `POOL_CLOSED` at once, and so do
   * reads waiting for a connection. Queued writes still run, then every connection
   * is closed. Safe to call twice: both calls resolve when closing is done.
   */
  close(): Promise<void> {
    this.#closing ??= this.#close();

    return this.#closing;
  }

  async #close(): Promise<void> {
    this.#queue.close();
    this.#checkpoints?.stop();
    clearInterval(this.#healthTimer);
    const readersClosed = this.#readers.close();
    await this.#queue.drain();
    await readersClosed;
    await this.#workers?.close();
    this.#metrics.detach();
    this.#syncReader?.close();
    this.#writer.close();
  }

  async #readerPragmas(): Promise<ConnectionPragmas[]> {
    // Hold every reader at once so each open connection reports, not one of them N times.
    const { size } = this.#readers.stats;
    const held: Connection[] = [];
    const releases: Array<() => void> = [];
    const all = Array.from({ length: Math.max(1, size) }, () =>
      this.#readers.read(
        (connection) =>
          new Promise<void>((release) => {
            held.push(connection);
            releases.push(release);
            if (held.length === Math.max(1, size)) {
              for (const done of releases) done();
            }
          }),
      ),
    );
    await Promise.all(all);

    return held.map((connection) => connection.pragmas());
  }

  #createQueue(): WriterQueue {
    return new WriterQueue(
      {
        writer: () => this.#writerConnection(),
        onRetry: (attempt, error) => {
          this.#countRetry('write', attempt);
          this.config.logger?.debug(
            `sqlite-perf: restarting a write transaction on ${this.config.name} (attempt ${attempt})`,
            error,
          );
        },
        ...(this.#metrics.enabled && {
          onSettled: (status: 'ok' | 'error', durationNs: bigint) =>
            this.#metrics.observeQuery('write', status, durationNs),
        }),
        onCommit: () => this.#checkpoints?.noteCommit(),
      },
      {
        retries: this.config.busyRetries,
        baseDelayMs: this.config.busyRetryBaseDelayMs,
        maxDelayMs: this.config.busyRetryMaxDelayMs,
      },
    );
  }

  #createWorkers(): WorkerReaders {
    return new WorkerReaders({
      threads: this.config.readerThreads,
      path: this.path,
      // journal_mode is a property of the file, set by the writer; a read-only
      // connection reports it but cannot set it.
      pragmaStatements: this.#pragmaStatements.filter((s) => !s.startsWith('journal_mode')),
      statementCacheSize: this.config.statementCacheSize,
      cacheCounters: this.#cacheCounters,
      heapMb: this.config.readerThreadHeapMb,
      restartWaitMs: this.config.acquireTimeoutMs,
      nextConnectionId: () => this.#nextConnectionId++,
      onWorkerFailed: (error) => {
        this.#replaced++;
        this.#metrics.countReplaced('worker');
        this.config.logger?.warn(
          `sqlite-perf: reader worker of ${this.config.name} failed and was replaced`,
          error,
        );
      },
    });
  }

  #createCheckpointPolicy(): CheckpointPolicy {
    return new CheckpointPolicy({
      walPath: `${this.path}-wal`,
      config: this.config.checkpoint === false ? DEFAULT_CHECKPOINT : this.config.checkpoint,
      automatic: this.config.checkpoint !== false,
      queue: this.#queue,
      readers: () => (this.#workers ? [this.#readers, this.#workers] : [this.#readers]),
      busyTimeoutMs: this.config.pragmas.busyTimeoutMs,
      onCheckpoint: (result) => this.#metrics.countCheckpoint(result),
      logger: this.config.logger,
    });
  }

  #createReaderPool(): ReaderPool {
    return new ReaderPool({
      create: () => this.#open('reader'),
      isFresh: (connection) => this.#isFresh(connection),
      minReaders: this.config.minReaders,
      maxReaders: this.config.maxReaders,
      acquireTimeoutMs: this.config.acquireTimeoutMs,
      idleTimeoutMs: this.config.idleTimeoutMs,
      onAcquireWait: (waitNs) => this.#metrics.observeAcquireWait(waitNs),
      onDiscard: (connection) => {
        this.#replaced++;
        this.#metrics.countReplaced('reader');
        if (!connection.usable) {
          this.config.logger?.warn(
            `sqlite-perf: reader ${connection.id} of ${this.config.name} failed and is replaced`,
          );
        }
      },
    });
  }

  #open(role: ConnectionRole): Connection {
    return new Connection({
      id: this.#nextConnectionId++,
      role,
      path: this.path,
      readonly: role !== 'writer',
      pragmaStatements:
        role !== 'writer'
          ? this.#pragmaStatements.filter((s) => !s.startsWith('journal_mode'))
          : this.#pragmaStatements,
      statementCacheSize: this.config.statementCacheSize,
      integers: this.config.integers,
      cacheCounters: this.#cacheCounters,
      generation: this.#generation,
      lifetimeMs: role !== 'writer' ? this.config.connectionLifetimeMs : undefined,
    });
  }

  /** Whether a read connection may serve another read: not failed, not too old, same file. */
  #isFresh(connection: Connection): boolean {
    return connection.usable && !connection.expired && connection.generation === this.#generation;
  }

  #syncReaderConnection(): Connection {
    if (this.#inMemory) {
      return this.#writerConnection();
    }
    const current = this.#syncReader;
    if (current !== undefined && this.#isFresh(current)) {
      return current;
    }
    if (current !== undefined) {
      current.close();
      this.#replaced++;
      this.#metrics.countReplaced('sync-reader');
    }
    this.#syncReader = this.#open('sync-reader');

    return this.#syncReader;
  }

  #writerConnection(): Connection {
    if (this.#writer.usable) {
      return this.#writer;
    }
    // A broken writer usually means the file itself is gone or damaged, so readers
    // opened on the old file are retired too (they fail validation by generation).
    this.#writer.close();
    this.#generation++;
    // If opening throws, the closed writer stays in place and the next call tries again.
    this.#writer = this.#open('writer');
    this.#fileIdentity = this.#readFileIdentity();
    this.#replaced++;
    this.#metrics.countReplaced('writer');
    this.config.logger?.warn(`sqlite-perf: writer of ${this.config.name} failed and was replaced`);
    this.#workers?.reopen().catch((error: unknown) => {
      this.config.logger?.warn(
        'sqlite-perf: reader workers could not reopen their connections',
        error,
      );
    });

    return this.#writer;
  }

  #readFileIdentity(): string | undefined {
    if (this.#inMemory) {
      return undefined;
    }
    try {
      const stats = statSync(this.path);
      return `${stats.dev}:${stats.ino}`;
    } catch {
      return undefined;
    }
  }

  #queryWorkers(
    op: 'all' | 'get',
    sql: string,
    params: SqlParameters | undefined,
    options: QueryOptions | undefined,
  ): Promise<unknown> {
    return this.#workers!.query(
      op,
      sql,
      params === undefined ? undefined : toBindable(params, sql),
      options?.integers ?? this.config.integers,
    );
  }

  #countRetry(operation: DatabaseOperation, _attempt: number): void {
    this.#busyRetries++;
    this.#metrics.countBusyRetry(operation);
  }

  #timed<T>(operation: DatabaseOperation, result: Promise<T>): Promise<T> {
    const startedAt = process.hrtime.bigint();

    return result.then(
      (value) => {
        this.#metrics.observeQuery(operation, 'ok', process.hrtime.bigint() - startedAt);
        return value;
      },
      (error: unknown) => {
        this.#metrics.observeQuery(operation, 'error', process.hrtime.bigint() - startedAt);
        throw error;
      },
    );
  }

  #gauges() {
    const readers = this.#readers.stats;

    return {
      readers: { size: readers.size, inUse: readers.inUse },
      workers: { size: this.#workers?.size ?? 0, inUse: this.#workers?.inFlight ?? 0 },
      writerInUse: !this.#queue.idle,
      writeQueueDepth: this.#queue.depth,
      statementCache: { ...this.#cacheCounters },
      walBytes: this.#checkpoints?.walBytes() ?? 0,
    };
  }
}

/**
 * Opens (creating if needed) a SQLite database tuned for concurrent async use.
 * `path` may be `':memory:'`; then reads share the writer's connection, because
 * every in-memory connection would be a separate database.
 *
 * @example
 * import { openDatabase } from '@agentnode/sqlite-perf';
 * const db = openDatabase('app.db', { maxReaders: 4, readerThreads: 2 });
 * await db.write((tx) => tx.exec('CREATE TABLE IF NOT EXISTS jobs (id INTEGER PRIMARY KEY, state TEXT)'));
 * await db.close();
 */
export function openDatabase(path: string, config?: DatabaseConfig): Database {
  return new Database(path, config);
}

function defaultName(path: string, inMemory: boolean): string {
  if (inMemory) {
    return 'memory';
  }
  const name = basename(path, extname(path))
    .replace(/[^A-Za-z0-9_.-]/g, '_')
    .slice(0, 64);

  return name.length > 0 ? name : 'database';
}

/** Returns `result`, or throws when a `readSync` callback returned a promise. */
function checkSyncResult<T>(result: T): T {
  if (typeof (result as { then?: unknown } | null)?.then === 'function') {
    throw new SqlitePerfError(
      'ASYNC_CALLBACK',
      'Invalid readSync callback: it returned a promise; use db.read for a callback that awaits.',
    );
  }

  return result;
}
