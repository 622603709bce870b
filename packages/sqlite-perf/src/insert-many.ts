import { describe } from './config';
import type { Connection } from './connection';
import { SqlitePerfError } from './errors';
import { quoteIdentifier } from './identifiers';
import type { WriterQueue } from './writer-queue';

/** Per-call options of `db.insertMany`. */
export interface InsertManyOptions {
  /** Rows per transaction. @default 1000 */
  readonly chunkSize?: number;
  /** Columns to insert; the keys of the first row when omitted. */
  readonly columns?: readonly string[];
  /** Conflict handling for a row that violates a uniqueness constraint. @default 'abort' */
  readonly onConflict?: 'abort' | 'ignore' | 'replace';
}

/** Result of `db.insertMany`. */
export interface InsertManyResult {
  /** Rows written (a row skipped by `onConflict: 'ignore'` is not counted). */
  readonly inserted: number;
  /** Transactions committed. */
  readonly chunks: number;
}

/**
 * SQLite's default limit on `?` parameters per statement (SQLITE_MAX_VARIABLE_NUMBER,
 * 32766 since SQLite 3.32; better-sqlite3 12 keeps the default).
 */
export const MAX_VARIABLES = 32_766;

const CONFLICT_CLAUSES = {
  abort: 'INSERT',
  ignore: 'INSERT OR IGNORE',
  replace: 'INSERT OR REPLACE',
};

/**
 * Inserts `rows` in chunks, one write transaction per chunk. Each chunk runs as few
 * multi-row INSERT statements as the variable limit allows, reusing the cached
 * statements. When a chunk fails, it is rolled back and replayed row by row in a
 * transaction that is rolled back too, only to name the row that failed.
 */
export async function insertMany(
  queue: WriterQueue,
  table: string,
  rows: readonly Readonly<Record<string, unknown>>[],
  options: InsertManyOptions = {},
): Promise<InsertManyResult> {
  const target = quoteIdentifier(table, 'table');
  if (!Array.isArray(rows)) {
    throw new SqlitePerfError(
      'INVALID_ARGUMENT',
      `Invalid rows ${describe(rows)}: must be an array.`,
    );
  }
  if (rows.length === 0) {
    return { inserted: 0, chunks: 0 };
  }
  const chunkSize = options.chunkSize ?? 1000;
  if (!Number.isSafeInteger(chunkSize) || chunkSize < 1) {
    throw new SqlitePerfError(
      'INVALID_ARGUMENT',
      `Invalid chunkSize ${describe(chunkSize)}: must be an integer >= 1.`,
    );
  }
  const verb = CONFLICT_CLAUSES[options.onConflict ?? 'abort'];
  if (verb === undefined) {
    throw new SqlitePerfError(
      'INVALID_ARGUMENT',
      `Invalid onConflict ${describe(options.onConflict)}: must be 'abort', 'ignore' or 'replace'.`,
    );
  }
  const columns = options.columns ?? Object.keys(rows[0] ?? {});
  if (columns.length === 0) {
    throw new SqlitePerfError('INVALID_ARGUMENT', 'Invalid rows: the first row has no columns.');
  }
  const columnList = columns.map((column) => quoteIdentifier(column, 'column')).join(', ');
  const rowsPerStatement = Math.max(
    1,
    Math.min(chunkSize, Math.floor(MAX_VARIABLES / columns.length)),
  );
  const rowPlaceholders = `(${columns.map(() => '?').join(', ')})`;
  const statements = new Map<number, string>();
  const statementFor = (rowCount: number) => {
    let sql = statements.get(rowCount);
    if (sql === undefined) {
      sql = `${verb} INTO ${target} (${columnList}) VALUES ${Array(rowCount).fill(rowPlaceholders).join(', ')}`;
      statements.set(rowCount, sql);
    }
    return sql;
  };

  let inserted = 0;
  let chunks = 0;
  for (let start = 0; start < rows.length; start += chunkSize) {
    const end = Math.min(start + chunkSize, rows.length);
    const values = flattenChunk(rows, start, end, columns);
    try {
      inserted += await queue.write((tx) => {
        let changes = 0;
        for (let offset = 0; offset < end - start; offset += rowsPerStatement) {
          const count = Math.min(rowsPerStatement, end - start - offset);
          const from = offset * columns.length;
          changes += tx.run(
            statementFor(count),
            values.slice(from, from + count * columns.length),
          ).changes;
        }
        return changes;
      });
      chunks++;
    } catch (error) {
      throw await describeFailedChunk(
        queue,
        error,
        statementFor(1),
        rows,
        start,
        end,
        columns,
        inserted,
      );
    }
  }

  return { inserted, chunks };
}

function flattenChunk(
  rows: readonly Readonly<Record<string, unknown>>[],
  start: number,
  end: number,
  columns: readonly string[],
): unknown[] {
  const values: unknown[] = new Array((end - start) * columns.length);
  let next = 0;
  for (let index = start; index < end; index++) {
    const row = rows[index];
    if (typeof row !== 'object' || row === null) {
      throw new SqlitePerfError('INVALID_ARGUMENT', `Invalid row ${index}: must be an object.`, {
        rowIndex: index,
      });
    }
    const keys = Object.keys(row);
    if (keys.length !== columns.length) {
      throw rowShapeError(index, keys, columns);
    }
    for (const column of columns) {
      if (!(column in row)) {
        throw rowShapeError(index, keys, columns);
      }
      values[next++] = row[column];
    }
  }

  return values;
}

function rowShapeError(index: number, keys: string[], columns: readonly string[]): SqlitePerfError {
  return new SqlitePerfError(
    'INVALID_ARGUMENT',
    `Invalid row ${index}: its columns (${keys.join(', ')}) differ from the insert's ` +
      `columns (${columns.join(', ')}); every row needs the same keys.`,
    { rowIndex: index },
  );
}

async function describeFailedChunk(
  queue: WriterQueue,
  error: unknown,
  singleRowSql: string,
  rows: readonly Readonly<Record<string, unknown>>[],
  start: number,
  end: number,
  columns: readonly string[],
  inserted: number,
): Promise<unknown> {
  if (
    error instanceof SqlitePerfError &&
    (error.code === 'POOL_CLOSED' || error.code === 'DATABASE_BUSY')
  ) {
    return error;
  }
  let failedRow = -1;
  let rowError: unknown = error;
  // The replay only locates the row: it always throws, so the queue rolls it back.
  const replayDone = new Error('insertMany replay finished');
  try {
    await queue.write((tx: Connection) => {
      for (let index = start; index < end; index++) {
        try {
          tx.run(
            singleRowSql,
            columns.map((column) => rows[index]![column]),
          );
        } catch (cause) {
          failedRow = index;
          rowError = cause;
          break;
        }
      }
      throw replayDone;
    });
  } catch {
    // The replay is best effort; the original error is reported either way.
  }
  const reason = rowError instanceof Error ? rowError.message : String(rowError);
  const where = failedRow >= 0 ? `row ${failedRow}` : `a row in ${start}..${end - 1}`;

  return new SqlitePerfError(
    'INSERT_FAILED',
    `insertMany failed at ${where}: ${reason}. Rows ${start}..${end - 1} were rolled back; ` +
      `the ${inserted} rows before them stay committed.`,
    {
      cause: rowError,
      ...(failedRow >= 0 && { rowIndex: failedRow }),
      ...(rowError instanceof SqlitePerfError &&
        rowError.sqliteCode !== undefined && { sqliteCode: rowError.sqliteCode }),
    },
  );
}
