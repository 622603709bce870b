import type BetterSqlite3 from 'better-sqlite3';

/** Lookup counts shared by every statement cache of one database handle. */
export interface StatementCacheCounters {
  hits: number;
  misses: number;
}

/**
 * Prepared statements of one connection, least recently used evicted first.
 *
 * Note: better-sqlite3 has no explicit finalize, so an evicted statement is
 * finalized when the garbage collector reclaims it.
 */
export class StatementCache {
  readonly #database: BetterSqlite3.Database;
  readonly #maxSize: number;
  readonly #counters: StatementCacheCounters;
  // Map iteration order is insertion order, so the first key is the least recently used.
  readonly #statements = new Map<string, BetterSqlite3.Statement>();
  #mostRecentSql: string | undefined;

  constructor(database: BetterSqlite3.Database, maxSize: number, counters: StatementCacheCounters) {
    this.#database = database;
    this.#maxSize = maxSize;
    this.#counters = counters;
  }

  /** Number of statements cached. */
  get size(): number {
    return this.#statements.size;
  }

  /**
   * Returns the cached statement for `sql`, preparing and caching it on a miss.
   * Throws what `prepare` throws for invalid SQL; nothing is cached then.
   */
  get(sql: string): BetterSqlite3.Statement {
    const cached = this.#statements.get(sql);
    if (cached !== undefined) {
      this.#counters.hits++;
      // Re-inserting moves the key to the end; skip it for the statement used last,
      // which is the common case in a loop.
      if (this.#mostRecentSql !== sql) {
        this.#statements.delete(sql);
        this.#statements.set(sql, cached);
        this.#mostRecentSql = sql;
      }
      return cached;
    }

    this.#counters.misses++;
    // Callers set safeIntegers per call: it depends on the integer mode and the statement.
    const statement = this.#database.prepare(sql);
    this.#statements.set(sql, statement);
    this.#mostRecentSql = sql;
    if (this.#statements.size > this.#maxSize) {
      const oldest = this.#statements.keys().next().value;
      if (oldest !== undefined) {
        this.#statements.delete(oldest);
      }
    }

    return statement;
  }

  /** Whether `sql` is cached, without counting a lookup or changing the order. */
  has(sql: string): boolean {
    return this.#statements.has(sql);
  }

  /** Drops every statement. */
  clear(): void {
    this.#statements.clear();
    this.#mostRecentSql = undefined;
  }
}
