import type BetterSqlite3 from 'better-sqlite3';

/** Lookup counts shared by every statement cache of one database handle. */
export interface StatementCacheCounters {
  hits: number;
  misses: number;
}

/** A prepared statement with the facts its connection checks on every use. */
export interface CachedStatement {
  readonly statement: BetterSqlite3.Statement;
  /** `statement.reader`, read once: whether it returns rows. */
  readonly reader: boolean;
  /** `statement.readonly`, read once: whether it leaves the database unchanged. */
  readonly readonly: boolean;
  /** The last `safeIntegers` setting, so that an unchanged one is not set again. */
  safeIntegers: boolean;
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
  readonly #statements = new Map<string, CachedStatement>();
  #mostRecentSql: string | undefined;
  /** The statement of `#mostRecentSql`, which is never the one evicted. */
  #mostRecent: CachedStatement | undefined;

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
  get(sql: string): CachedStatement {
    // A loop runs the same SQL again and again, and a string compare is cheaper than a lookup.
    if (sql === this.#mostRecentSql && this.#mostRecent !== undefined) {
      this.#counters.hits++;
      return this.#mostRecent;
    }
    const cached = this.#statements.get(sql);
    if (cached !== undefined) {
      this.#counters.hits++;
      // Re-inserting moves the key to the end, the most recently used place.
      this.#statements.delete(sql);
      this.#statements.set(sql, cached);
      this.#mostRecentSql = sql;
      this.#mostRecent = cached;
      return cached;
    }

    this.#counters.misses++;
    // Callers set safeIntegers per call: it depends on the integer mode and the statement.
    const prepared = this.#database.prepare(sql);
    const statement: CachedStatement = {
      statement: prepared,
      reader: prepared.reader,
      readonly: prepared.readonly,
      safeIntegers: false,
    };
    this.#statements.set(sql, statement);
    this.#mostRecentSql = sql;
    this.#mostRecent = statement;
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
    this.#mostRecent = undefined;
  }
}
