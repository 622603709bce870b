import BetterSqlite3 from 'better-sqlite3';
import type { IntegerMode } from './config';
import { isBrokenConnectionError, SqlitePerfError, wrapSqliteError } from './errors';
import {
  hasUnsafeNumber,
  narrowRow,
  narrowRows,
  rowHasUnsafeNumber,
  type SqlParameters,
  toBindable,
  toNumberIfSafe,
} from './integers';
import { applyPragmas, type ConnectionPragmas, type ConnectionRole, readPragmas } from './pragmas';
import {
  type CachedStatement,
  StatementCache,
  type StatementCacheCounters,
} from './statement-cache';

/** Per-call options of a query. */
export interface QueryOptions {
  /** Integer mode of the result; the database's `integers` setting when omitted. */
  readonly integers?: IntegerMode;
}

/** Result of a statement that returns no rows. */
export interface RunResult {
  /** Rows inserted, updated or deleted. */
  readonly changes: number;
  /** Rowid of the last inserted row: a number when it fits exactly, else a bigint. */
  readonly lastInsertRowid: number | bigint;
}

/** Result of {@link Connection.execute}: rows, or the changes a write made. */
export interface ExecuteResult<T> {
  /** Rows, for a statement that returns rows; empty otherwise. */
  readonly rows: T[];
  /** Set for a statement that returns no rows. */
  readonly run?: RunResult;
}

/** Settings a {@link Connection} is opened with. */
export interface ConnectionInit {
  readonly id: number;
  readonly role: ConnectionRole;
  readonly path: string;
  readonly readonly: boolean;
  readonly pragmaStatements: readonly string[];
  readonly statementCacheSize: number;
  readonly integers: IntegerMode;
  readonly cacheCounters: StatementCacheCounters;
  /** Incremented by the database when its file is replaced; older connections are stale. */
  readonly generation: number;
  /** Age in ms after which {@link Connection.expired} turns true. Unset means never. */
  readonly lifetimeMs?: number;
}

/** Maximum delay `setTimeout` accepts (about 24.8 days). A longer lifetime is cut to it. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * One SQLite connection with its statement cache. Write callbacks get the writer's,
 * read callbacks a reader's. Every method runs synchronously.
 *
 * @example
 * import { openDatabase } from '@agentnode/sqlite-perf';
 * const db = openDatabase(':memory:');
 * await db.write((tx) => tx.run('CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)'));
 * const row = await db.read((conn) => conn.get<{ n: number }>('SELECT count(*) AS n FROM t'));
 */
export class Connection {
  /** Unique within one database handle. */
  readonly id: number;
  readonly role: ConnectionRole;
  /** `Date.now()` when the connection was opened. */
  readonly openedAt: number;
  readonly generation: number;
  readonly #database: BetterSqlite3.Database;
  readonly #statements: StatementCache;
  readonly #integers: IntegerMode;
  // Transaction control statements, prepared once and kept out of the statement
  // cache so they neither evict user statements nor inflate its hit rate.
  readonly #control = new Map<string, BetterSqlite3.Statement>();
  #broken = false;
  /** Iterators of `iterate()` not yet finished. The connection is busy while any is open. */
  readonly #openIterators = new Set<IterableIterator<unknown>>();
  /**
   * True once a statement that can begin a transaction ran (anything but a query), so
   * that endRead checks SQLite for an open transaction only then.
   */
  #mayHaveBegun = false;
  // Set by a timer rather than computed from the clock, so checking it on every
  // acquire costs a field read.
  #expired = false;
  #lifetimeTimer: NodeJS.Timeout | undefined;
  // Mirrors the handle's `open` flag, which is a native accessor and costs more to
  // read on every acquire. Only close() below closes the handle.
  #closed = false;

  constructor(init: ConnectionInit) {
    this.id = init.id;
    this.role = init.role;
    this.generation = init.generation;
    this.#integers = init.integers;
    try {
      this.#database = new BetterSqlite3(init.path, { readonly: init.readonly });
    } catch (error) {
      throw wrapSqliteError(error, `open ${init.path}`);
    }
    try {
      applyPragmas(this.#database, init.pragmaStatements);
    } catch (error) {
      this.#database.close();
      throw wrapSqliteError(error, 'PRAGMA');
    }
    this.#statements = new StatementCache(
      this.#database,
      init.statementCacheSize,
      init.cacheCounters,
    );
    this.openedAt = Date.now();
    if (init.lifetimeMs !== undefined) {
      const expire = () => {
        this.#expired = true;
      };
      this.#lifetimeTimer = setTimeout(expire, Math.min(init.lifetimeMs, MAX_TIMER_MS));
      this.#lifetimeTimer.unref();
    }
  }

  /** Whether the connection outlived its `lifetimeMs` and should be replaced. */
  get expired(): boolean {
    return this.#expired;
  }

  /** Whether the connection is open and has not failed for good. */
  get usable(): boolean {
    return !this.#broken && !this.#closed;
  }

  /** Whether a transaction is open on this connection. */
  get inTransaction(): boolean {
    return !this.#closed && this.#database.inTransaction;
  }

  /** Number of prepared statements cached on this connection. */
  get cachedStatements(): number {
    return this.#statements.size;
  }

  /**
   * Runs a statement that returns no rows (INSERT, UPDATE, DELETE, DDL).
   * @example
   * import { openDatabase } from '@agentnode/sqlite-perf';
   * const db = openDatabase(':memory:');
   * await db.write((tx) => tx.run('CREATE TABLE t (id INTEGER PRIMARY KEY)'));
   * await db.write((tx) => tx.run('INSERT INTO t (id) VALUES (?)', [1]));
   */
  run(sql: string, params?: SqlParameters): RunResult {
    const cached = this.#prepare(sql);
    const statement = useSafeIntegers(cached, true);
    this.#mayHaveBegun = true;
    try {
      const result =
        params === undefined ? statement.run() : statement.run(toBindable(params, sql));
      return { changes: result.changes, lastInsertRowid: toNumberIfSafe(result.lastInsertRowid) };
    } catch (error) {
      throw this.#fail(error, sql);
    }
  }

  /** Runs a query and returns its first row, or `undefined` when there is none. */
  get<T = Record<string, unknown>>(
    sql: string,
    params?: SqlParameters,
    options?: QueryOptions,
  ): T | undefined {
    const cached = this.#prepareQuery(sql);
    const bound = params === undefined ? undefined : toBindable(params, sql);
    const mode = options?.integers ?? this.#integers;
    // The same two-step read as #read, for one row without an array around it.
    const fast = mode === 'number' && cached.readonly;
    const row = this.#fetchOne(useSafeIntegers(cached, !fast), sql, bound);
    if (row === undefined) {
      return undefined;
    }
    if (!fast) {
      return narrowRow(row as T, mode, sql);
    }
    if (rowHasUnsafeNumber(row)) {
      const exact = this.#fetchOne(useSafeIntegers(cached, true), sql, bound);
      return exact === undefined ? undefined : narrowRow(exact as T, mode, sql);
    }

    return row as T;
  }

  /** Runs a query and returns every row. */
  all<T = Record<string, unknown>>(
    sql: string,
    params?: SqlParameters,
    options?: QueryOptions,
  ): T[] {
    const statement = this.#prepareQuery(sql);
    const bound = params === undefined ? undefined : toBindable(params, sql);

    return this.#read(statement, sql, bound, options?.integers ?? this.#integers) as T[];
  }

  /**
   * Runs a query and yields its rows one at a time.
   *
   * Note: the connection is busy until the iterator finishes or is returned early;
   * better-sqlite3 rejects other statements on it until then.
   */
  *iterate<T = Record<string, unknown>>(
    sql: string,
    params?: SqlParameters,
    options?: QueryOptions,
  ): Generator<T, void, undefined> {
    const mode = options?.integers ?? this.#integers;
    // A row already yielded cannot be read again, so iteration always reads exactly.
    const statement = useSafeIntegers(this.#prepareQuery(sql), true);
    let rows: IterableIterator<unknown>;
    try {
      rows =
        params === undefined ? statement.iterate() : statement.iterate(toBindable(params, sql));
    } catch (error) {
      throw this.#fail(error, sql);
    }
    this.#openIterators.add(rows);
    try {
      while (true) {
        let next: IteratorResult<unknown>;
        try {
          next = rows.next();
        } catch (error) {
          throw this.#fail(error, sql);
        }
        if (next.done) {
          return;
        }
        yield narrowRow(next.value as T, mode, sql);
      }
    } finally {
      this.#openIterators.delete(rows);
      rows.return?.();
    }
  }

  /**
   * Ends what a read callback left open, so the next user of the connection starts
   * clean: iterators it did not finish, and a transaction it began. A transaction that
   * was open before the callback (`transactionBefore`) is kept, since it is not the
   * callback's, so no committed or queued write is lost.
   */
  endRead(transactionBefore: boolean): void {
    if (this.#openIterators.size > 0) {
      for (const rows of this.#openIterators) {
        rows.return?.();
      }
      this.#openIterators.clear();
    }
    if (this.#mayHaveBegun) {
      if (!transactionBefore && this.inTransaction) {
        this.control('ROLLBACK');
      }
      this.#mayHaveBegun = false;
    }
  }

  /**
   * Runs any single statement: returns its rows when it returns rows (a SELECT, a
   * reporting PRAGMA, a RETURNING clause), else what it changed.
   */
  execute<T = Record<string, unknown>>(
    sql: string,
    params?: SqlParameters,
    options?: QueryOptions,
  ): ExecuteResult<T> {
    const cached = this.#prepare(sql);
    const bound = params === undefined ? undefined : toBindable(params, sql);
    if (cached.reader) {
      const mode = options?.integers ?? this.#integers;
      return { rows: this.#read(cached, sql, bound, mode) as T[] };
    }
    const statement = useSafeIntegers(cached, true);
    this.#mayHaveBegun = true;
    try {
      const result = bound === undefined ? statement.run() : statement.run(bound);
      return {
        rows: [],
        run: { changes: result.changes, lastInsertRowid: toNumberIfSafe(result.lastInsertRowid) },
      };
    } catch (error) {
      throw this.#fail(error, sql);
    }
  }

  /** Runs one or more statements without parameters and without caching them (DDL scripts). */
  exec(sql: string): void {
    this.#mayHaveBegun = true;
    try {
      this.#database.exec(sql);
    } catch (error) {
      throw this.#fail(error, sql);
    }
  }

  /**
   * Runs a transaction control statement (`BEGIN IMMEDIATE`, `COMMIT`, `ROLLBACK`,
   * ...) from a set of statements prepared once per connection.
   */
  control(sql: string): void {
    this.#mayHaveBegun = true;
    let statement = this.#control.get(sql);
    try {
      if (statement === undefined) {
        statement = this.#database.prepare(sql);
        this.#control.set(sql, statement);
      }
      statement.run();
    } catch (error) {
      throw this.#fail(error, sql);
    }
  }

  /** Reads back the pragmas this connection really has. */
  pragmas(): ConnectionPragmas {
    return readPragmas(this.#database, this.id, this.role);
  }

  /** Runs a pragma and returns its value, for maintenance such as checkpoints. */
  pragma(source: string): unknown[] {
    try {
      return this.#database.pragma(source) as unknown[];
    } catch (error) {
      throw this.#fail(error, `PRAGMA ${source}`);
    }
  }

  /** Marks the connection as failed for good; its owner replaces it. */
  markBroken(): void {
    this.#broken = true;
  }

  /** Closes the connection. Safe to call twice. */
  close(): void {
    clearTimeout(this.#lifetimeTimer);
    // better-sqlite3 refuses to close a connection with an iterator still open.
    for (const rows of this.#openIterators) {
      rows.return?.();
    }
    this.#openIterators.clear();
    this.#statements.clear();
    this.#control.clear();
    this.#closed = true;
    if (this.#database.open) {
      this.#database.close();
    }
  }

  #prepare(sql: string): CachedStatement {
    if (typeof sql !== 'string' || sql.length === 0) {
      throw new SqlitePerfError(
        'INVALID_ARGUMENT',
        `Invalid SQL ${String(sql)}: must be a non-empty string.`,
      );
    }
    try {
      return this.#statements.get(sql);
    } catch (error) {
      throw this.#fail(error, sql);
    }
  }

  /**
   * Runs a statement that returns rows. In `number` mode a read-only statement first
   * runs with plain numbers, which allocates no bigints. An integer-valued number
   * beyond ±(2^53 - 1) there is either a REAL or a rounded INTEGER, so the statement
   * then runs again with exact integers to tell them apart. A statement that writes
   * (a RETURNING clause) must not run twice and always reads exactly.
   */
  #read(
    cached: CachedStatement,
    sql: string,
    bound: SqlParameters | undefined,
    mode: IntegerMode,
  ): unknown[] {
    const fast = mode === 'number' && cached.readonly;
    let rows = this.#fetch(useSafeIntegers(cached, !fast), sql, bound);
    if (!fast) {
      return narrowRows(rows, mode, sql);
    }
    if (hasUnsafeNumber(rows)) {
      rows = narrowRows(this.#fetch(useSafeIntegers(cached, true), sql, bound), mode, sql);
    }

    return rows;
  }

  #fetch(
    statement: BetterSqlite3.Statement,
    sql: string,
    bound: SqlParameters | undefined,
  ): unknown[] {
    try {
      return bound === undefined ? statement.all() : statement.all(bound);
    } catch (error) {
      throw this.#fail(error, sql);
    }
  }

  #fetchOne(
    statement: BetterSqlite3.Statement,
    sql: string,
    bound: SqlParameters | undefined,
  ): unknown {
    try {
      return bound === undefined ? statement.get() : statement.get(bound);
    } catch (error) {
      throw this.#fail(error, sql);
    }
  }

  #prepareQuery(sql: string): CachedStatement {
    const statement = this.#prepare(sql);
    if (!statement.reader) {
      throw new SqlitePerfError(
        'INVALID_ARGUMENT',
        `Invalid query "${sql}": it returns no rows; run it with run() inside db.write.`,
        { sql },
      );
    }

    return statement;
  }

  #fail(error: unknown, sql: string): unknown {
    if (isBrokenConnectionError(error)) {
      this.#broken = true;
    }

    return wrapSqliteError(error, sql);
  }
}

/** Sets `safeIntegers` on the statement when it differs from the last setting, and returns it. */
function useSafeIntegers(cached: CachedStatement, safe: boolean): BetterSqlite3.Statement {
  if (cached.safeIntegers !== safe) {
    cached.statement.safeIntegers(safe);
    cached.safeIntegers = safe;
  }

  return cached.statement;
}
