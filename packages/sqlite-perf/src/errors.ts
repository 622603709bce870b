/** Codes a caller can act on, carried by every {@link SqlitePerfError}. */
export type SqlitePerfErrorCode =
  /** A configuration option is missing, of the wrong type or out of range. */
  | 'INVALID_CONFIG'
  /** A call argument is invalid (a callback, a row, an option). */
  | 'INVALID_ARGUMENT'
  /** A table, column or index name is not a plain SQL identifier. */
  | 'INVALID_IDENTIFIER'
  /** A write or `readSync` callback returned a promise; neither can span an `await`. */
  | 'ASYNC_CALLBACK'
  /** A number would be rounded, or an integer read back does not fit a JS number. */
  | 'UNSAFE_INTEGER'
  /** `SQLITE_BUSY` or `SQLITE_LOCKED` outlasted every retry. */
  | 'DATABASE_BUSY'
  /** The database was closed before or while the call waited. */
  | 'POOL_CLOSED'
  /** No reader connection became free within `acquireTimeoutMs`. */
  | 'ACQUIRE_TIMEOUT'
  /** One chunk of `insertMany` failed and was rolled back. */
  | 'INSERT_FAILED'
  /** SQLite rejected a statement (syntax, constraint, missing table, ...). */
  | 'QUERY_FAILED'
  /** The connection failed for good (file removed, disk full, corrupt) and was replaced. */
  | 'CONNECTION_BROKEN'
  /** A reader worker thread failed; its connection is replaced. */
  | 'WORKER_FAILED'
  /** A {@link BatchWriter} buffer is full and the record was not accepted. */
  | 'BUFFER_FULL';

/** Extra facts an error may carry. */
export interface SqlitePerfErrorOptions {
  /** The underlying error. */
  readonly cause?: unknown;
  /** SQLite's extended result code, such as `SQLITE_BUSY_SNAPSHOT`. */
  readonly sqliteCode?: string;
  /** The SQL text that failed. */
  readonly sql?: string;
  /** For `INSERT_FAILED`: the index in the input of the row that failed. */
  readonly rowIndex?: number;
}

/**
 * The one error class of `@agentnode/sqlite-perf`.
 *
 * @example
 * import { isSqlitePerfError } from '@agentnode/sqlite-perf';
 * try {
 *   await db.write((tx) => tx.run('INSERT INTO t (id) VALUES (?)', [1]));
 * } catch (error) {
 *   if (isSqlitePerfError(error, 'DATABASE_BUSY')) console.log('try again later');
 * }
 */
export class SqlitePerfError extends Error {
  override readonly name = 'SqlitePerfError';
  readonly code: SqlitePerfErrorCode;
  /** SQLite's extended result code when SQLite raised the error. */
  readonly sqliteCode: string | undefined;
  /** The SQL text that failed, when one statement did. */
  readonly sql: string | undefined;
  /** For `INSERT_FAILED`: the index in the input of the row that failed. */
  readonly rowIndex: number | undefined;

  constructor(code: SqlitePerfErrorCode, message: string, options: SqlitePerfErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.sqliteCode = options.sqliteCode;
    this.sql = options.sql;
    this.rowIndex = options.rowIndex;
  }
}

/**
 * Tells whether `value` is a {@link SqlitePerfError}, optionally with the given code.
 *
 * @example
 * import { isSqlitePerfError } from '@agentnode/sqlite-perf';
 * if (isSqlitePerfError(error, 'POOL_CLOSED')) return;
 */
export function isSqlitePerfError(
  value: unknown,
  code?: SqlitePerfErrorCode,
): value is SqlitePerfError {
  return value instanceof SqlitePerfError && (code === undefined || value.code === code);
}

/** SQLite's extended result code of `error`, when it has one. */
export function sqliteCodeOf(error: unknown): string | undefined {
  if (error instanceof SqlitePerfError) {
    return error.sqliteCode;
  }
  if (typeof error === 'object' && error !== null && 'code' in error) {
    const code = (error as { code: unknown }).code;
    return typeof code === 'string' && code.startsWith('SQLITE_') ? code : undefined;
  }

  return undefined;
}

/** Whether SQLite reported lock contention, which a restarted transaction can get past. */
export function isBusyError(error: unknown): boolean {
  const code = sqliteCodeOf(error);
  return code !== undefined && (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED'));
}

// Result codes after which the connection cannot be trusted again: the file is gone,
// moved, unreadable or damaged. Anything else (constraints, syntax) leaves it usable.
export const BROKEN_CODE_PREFIXES: readonly string[] = [
  'SQLITE_CORRUPT',
  'SQLITE_NOTADB',
  'SQLITE_IOERR',
  'SQLITE_FULL',
  'SQLITE_CANTOPEN',
  'SQLITE_READONLY_DBMOVED',
  'SQLITE_READONLY_RECOVERY',
  'SQLITE_READONLY_CANTINIT',
  'SQLITE_READONLY_DIRECTORY',
];

/** Whether `error` means the connection that raised it must be discarded. */
export function isBrokenConnectionError(error: unknown): boolean {
  const code = sqliteCodeOf(error);
  if (code === undefined) {
    return error instanceof TypeError && /database connection is not open/i.test(error.message);
  }

  return BROKEN_CODE_PREFIXES.some((prefix) => code.startsWith(prefix));
}

/** Wraps an error raised by better-sqlite3 into a {@link SqlitePerfError}. */
export function wrapSqliteError(error: unknown, sql: string): unknown {
  if (error instanceof SqlitePerfError) {
    return error;
  }
  const sqliteCode = sqliteCodeOf(error);
  const reason = error instanceof Error ? error.message : String(error);
  if (sqliteCode === undefined && !isBrokenConnectionError(error)) {
    if (error instanceof TypeError && /busy executing a query/.test(reason)) {
      return new SqlitePerfError(
        'QUERY_FAILED',
        `Cannot run "${sql}": an iterate() on this connection is still open; ` +
          'finish it or call its return() first.',
        { cause: error, sql },
      );
    }
    if (error instanceof RangeError || error instanceof TypeError) {
      return new SqlitePerfError('INVALID_ARGUMENT', `Invalid parameters for "${sql}": ${reason}`, {
        cause: error,
        sql,
      });
    }
    return error;
  }

  const code = isBusyError(error)
    ? 'DATABASE_BUSY'
    : isBrokenConnectionError(error)
      ? 'CONNECTION_BROKEN'
      : 'QUERY_FAILED';
  const label = sqliteCode ?? 'connection closed';

  return new SqlitePerfError(code, `SQLite failed (${label}) on "${sql}": ${reason}`, {
    cause: error,
    sql,
    ...(sqliteCode !== undefined && { sqliteCode }),
  });
}
