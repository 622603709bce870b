import type { ResolvedPragmas } from './config';

/** The pragma values one connection really has, as SQLite reports them. */
export interface ConnectionPragmas {
  /** Connection id, unique within one database handle. */
  readonly connectionId: number;
  /** `writer`, a main-thread `reader`, or a `worker` reader in its own thread. */
  readonly role: ConnectionRole;
  readonly journal_mode: string;
  /** 0 off, 1 normal, 2 full, 3 extra. */
  readonly synchronous: number;
  readonly mmap_size: number;
  /** Negative: KiB; positive: pages. */
  readonly cache_size: number;
  /** 0 default, 1 file, 2 memory. */
  readonly temp_store: number;
  readonly foreign_keys: number;
  readonly busy_timeout: number;
}

/** Which part of the database handle a connection serves. */
export type ConnectionRole = 'writer' | 'reader' | 'sync-reader' | 'worker';

/** The smallest part of a better-sqlite3 handle that pragmas need. */
export interface PragmaTarget {
  pragma(source: string, options?: { simple?: boolean }): unknown;
}

/**
 * Builds the pragma statements for one connection, in the order they must run.
 * `journal_mode` comes first because `mmap_size` and the WAL settings depend on it.
 */
export function pragmaStatements(pragmas: ResolvedPragmas, inMemory: boolean): string[] {
  const statements = [
    `journal_mode = ${inMemory ? 'memory' : pragmas.journalMode}`,
    `synchronous = ${pragmas.synchronous}`,
    `mmap_size = ${pragmas.mmapSizeBytes}`,
    `cache_size = ${-Math.ceil(pragmas.cacheSizeBytes / 1024)}`,
    `temp_store = ${pragmas.tempStore}`,
    `foreign_keys = ${pragmas.foreignKeys ? 'ON' : 'OFF'}`,
    `busy_timeout = ${pragmas.busyTimeoutMs}`,
  ];
  for (const [name, value] of Object.entries(pragmas.extra)) {
    statements.push(`${name} = ${typeof value === 'boolean' ? (value ? 'ON' : 'OFF') : value}`);
  }

  return statements;
}

/** Sets every pragma on one connection. */
export function applyPragmas(target: PragmaTarget, statements: readonly string[]): void {
  for (const statement of statements) {
    target.pragma(statement);
  }
}

/** Reads back the pragmas of one connection. */
export function readPragmas(
  target: PragmaTarget,
  connectionId: number,
  role: ConnectionRole,
): ConnectionPragmas {
  const read = (name: string) => target.pragma(name, { simple: true });

  return {
    connectionId,
    role,
    journal_mode: String(read('journal_mode')),
    synchronous: Number(read('synchronous')),
    mmap_size: Number(read('mmap_size') ?? 0),
    cache_size: Number(read('cache_size')),
    temp_store: Number(read('temp_store')),
    foreign_keys: Number(read('foreign_keys')),
    busy_timeout: Number(read('busy_timeout')),
  };
}
