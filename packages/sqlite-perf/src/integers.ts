import type { IntegerMode } from './config';
import { SqlitePerfError } from './errors';

/** Parameters of one statement: positional (`?`) or named (`:name`, `@name`, `$name`). */
export type SqlParameters = readonly unknown[] | Readonly<Record<string, unknown>>;

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const MIN_SAFE = -MAX_SAFE;
const MAX_INT64 = 2n ** 63n - 1n;
const MIN_INT64 = -(2n ** 63n);

/**
 * Converts parameters so SQLite stores exactly what the caller meant.
 *
 * better-sqlite3 binds every JS number as REAL, so an integer-valued number is
 * bound as a 64-bit integer instead (a column without INTEGER affinity would
 * otherwise keep `5` as `5.0`). Integers beyond ±(2^53 - 1) were already rounded
 * by JS and are rejected, as are NaN (bound as NULL otherwise) and bigints outside
 * the signed 64-bit range. Booleans become 1 and 0. The input is never mutated.
 */
export function toBindable(params: SqlParameters, sql: string): SqlParameters {
  if (Array.isArray(params)) {
    let copy: unknown[] | undefined;
    for (let index = 0; index < params.length; index++) {
      const value: unknown = params[index];
      const converted = toBindableValue(value, index, sql);
      if (converted !== value) {
        copy ??= params.slice();
        copy[index] = converted;
      }
    }
    return copy ?? params;
  }

  if (typeof params !== 'object' || params === null) {
    throw new SqlitePerfError(
      'INVALID_ARGUMENT',
      `Invalid parameters for "${sql}": expected an array or an object of named values.`,
      { sql },
    );
  }
  let copy: Record<string, unknown> | undefined;
  const named = params as Readonly<Record<string, unknown>>;
  for (const key of Object.keys(named)) {
    const value = named[key];
    const converted = toBindableValue(value, key, sql);
    if (converted !== value) {
      copy ??= { ...named };
      copy[key] = converted;
    }
  }

  return copy ?? named;
}

function toBindableValue(value: unknown, position: number | string, sql: string): unknown {
  if (typeof value === 'number') {
    if (Number.isInteger(value)) {
      if (!Number.isSafeInteger(value)) {
        throw new SqlitePerfError(
          'UNSAFE_INTEGER',
          `Parameter ${position} of "${sql}" is ${value}, an integer beyond ±(2^53 - 1) that ` +
            'JS numbers cannot hold exactly; pass it as a bigint.',
          { sql },
        );
      }
      return BigInt(value);
    }
    if (Number.isNaN(value)) {
      throw new SqlitePerfError(
        'INVALID_ARGUMENT',
        `Parameter ${position} of "${sql}" is NaN, which SQLite would store as NULL; ` +
          'pass null explicitly.',
        { sql },
      );
    }
    return value;
  }
  if (typeof value === 'bigint' && (value > MAX_INT64 || value < MIN_INT64)) {
    throw new SqlitePerfError(
      'UNSAFE_INTEGER',
      `Parameter ${position} of "${sql}" is ${value}n, outside SQLite's signed 64-bit range.`,
      { sql },
    );
  }
  if (typeof value === 'boolean') {
    return value ? 1n : 0n;
  }

  return value;
}

/**
 * Narrows the bigints of a row read in safe-integer mode to numbers, in place.
 * Raises `UNSAFE_INTEGER` for a value a number cannot hold in `'number'` mode.
 */
export function narrowRow<T>(row: T, mode: IntegerMode, sql: string): T {
  if (mode === 'bigint' || typeof row !== 'object' || row === null) {
    return row;
  }
  const record = row as Record<string, unknown>;
  for (const key in record) {
    const value = record[key];
    if (typeof value === 'bigint') {
      record[key] = narrowInteger(value, key, sql);
    }
  }

  return row;
}

/** {@link narrowRow} for every row of a result. */
export function narrowRows<T>(rows: T[], mode: IntegerMode, sql: string): T[] {
  if (mode === 'bigint') {
    return rows;
  }
  for (const row of rows) {
    narrowRow(row, mode, sql);
  }

  return rows;
}

/** Converts a bigint to a number when it fits exactly, else raises `UNSAFE_INTEGER`. */
export function narrowInteger(value: bigint, column: string, sql: string): number {
  if (value > MAX_SAFE || value < MIN_SAFE) {
    throw new SqlitePerfError(
      'UNSAFE_INTEGER',
      `Column "${column}" of "${sql}" contains ${value}, which a JS number cannot hold exactly; ` +
        "read it with { integers: 'bigint' }.",
      { sql },
    );
  }

  return Number(value);
}

/** Converts a bigint to a number when it fits exactly, else returns the bigint itself. */
export function toNumberIfSafe(value: number | bigint): number | bigint {
  return typeof value === 'bigint' && value <= MAX_SAFE && value >= MIN_SAFE
    ? Number(value)
    : value;
}

/**
 * Whether any row holds an integer-valued number beyond ±(2^53 - 1): a REAL that
 * large, or an INTEGER that better-sqlite3 rounded on its way to a number.
 */
export function hasUnsafeNumber(rows: readonly unknown[]): boolean {
  for (const row of rows) {
    if (rowHasUnsafeNumber(row)) {
      return true;
    }
  }

  return false;
}

/** {@link hasUnsafeNumber} for one row. */
export function rowHasUnsafeNumber(row: unknown): boolean {
  if (typeof row !== 'object' || row === null) {
    return false;
  }
  const record = row as Record<string, unknown>;
  for (const key in record) {
    const value = record[key];
    if (
      typeof value === 'number' &&
      (value > Number.MAX_SAFE_INTEGER || value < -Number.MAX_SAFE_INTEGER) &&
      Number.isInteger(value)
    ) {
      return true;
    }
  }

  return false;
}
