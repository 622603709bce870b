import type { MetricsRegistry } from '@agentnode/metrics';
import { SqlitePerfError } from './errors';

/** A console-compatible logger. The library never logs unless given one. */
export interface Logger {
  debug(message: string, ...details: unknown[]): void;
  info(message: string, ...details: unknown[]): void;
  warn(message: string, ...details: unknown[]): void;
  error(message: string, ...details: unknown[]): void;
}

/** Integer mode: the JS type integers are read back as. */
export type IntegerMode =
  /** JS numbers; an integer outside ±(2^53 - 1) raises `UNSAFE_INTEGER` instead of rounding. */
  | 'number'
  /** Every integer as a `bigint`, exact over the whole 64-bit range. */
  | 'bigint';

/** The pragmas set on every connection, writer, readers and worker readers alike. */
export interface PragmaConfig {
  /** @default 'wal' */
  readonly journalMode?: 'wal' | 'delete' | 'truncate' | 'persist' | 'memory' | 'off';
  /** @default 'normal' (durable in WAL mode except for the last commits on power loss) */
  readonly synchronous?: 'off' | 'normal' | 'full' | 'extra';
  /** Bytes of the file SQLite maps into memory. @default 536870912 (512 MiB) */
  readonly mmapSizeBytes?: number;
  /** Page cache per connection, in bytes (set as negative KiB). @default 104857600 (100 MiB) */
  readonly cacheSizeBytes?: number;
  /** @default 'memory' */
  readonly tempStore?: 'default' | 'file' | 'memory';
  /** @default true */
  readonly foreignKeys?: boolean;
  /**
   * How long a connection waits on a lock held by another process before SQLite
   * reports `SQLITE_BUSY`, in milliseconds.
   *
   * Note: better-sqlite3 waits synchronously, so this blocks the thread. Writers in
   * this process never wait on each other (they share one queue) and readers never wait
   * in WAL mode, so the wait only happens against other processes.
   * @default 5000
   */
  readonly busyTimeoutMs?: number;
  /** More pragmas, set verbatim after the ones above: `{ cell_size_check: 'ON' }`. */
  readonly extra?: Readonly<Record<string, string | number | boolean>>;
}

/** When and how the WAL is checkpointed. */
export interface CheckpointConfig {
  /**
   * Size the WAL file should stay under, in bytes. Above it the policy runs a
   * `TRUNCATE` checkpoint, pausing new reads briefly if readers hold it back.
   * @default 67108864 (64 MiB)
   */
  readonly walMaxBytes?: number;
  /** A `PASSIVE` checkpoint runs after the writer has been idle this long, in ms. @default 500 */
  readonly idleMs?: number;
  /** How often the WAL size is checked, in ms. @default 1000 */
  readonly intervalMs?: number;
  /**
   * How long a forced checkpoint waits for in-flight reads to finish before it counts
   * as starved and is retried on the next check, in ms.
   * @default 1000
   */
  readonly readerDrainTimeoutMs?: number;
}

/** Configuration of {@link openDatabase}. */
export interface DatabaseConfig {
  /**
   * Name for the `database` metric label and log lines.
   * @default the file name without its extension, or 'memory'
   */
  readonly name?: string;
  /** Pragmas for every connection; each one overrides its default. */
  readonly pragmas?: PragmaConfig;
  /**
   * Reader connections kept open on the main thread once opened; idle ones above
   * this are closed after `idleTimeoutMs`. Readers open on first use.
   * @default 1
   */
  readonly minReaders?: number;
  /** Reader connections on the main thread at most. @default 8 */
  readonly maxReaders?: number;
  /** How long `read` waits for a free reader before `ACQUIRE_TIMEOUT`, in ms. @default 10000 */
  readonly acquireTimeoutMs?: number;
  /** A reader idle this long is closed (down to `minReaders`), in ms. @default 60000 */
  readonly idleTimeoutMs?: number;
  /** A reader older than this is replaced when next acquired, in ms. @default 300000 */
  readonly connectionLifetimeMs?: number;
  /**
   * Worker threads that run `query`/`queryOne` and Kysely reads, each with its own
   * connection, so reads use other cores. 0 keeps every read on the main thread.
   * @default 0
   */
  readonly readerThreads?: number;
  /**
   * Heap limit of each reader worker (V8's old generation), in MiB. A query whose result
   * does not fit fails with `WORKER_FAILED` and the worker is replaced, instead of the
   * result growing the process without bound. Unset leaves Node.js's own limit.
   */
  readonly readerThreadHeapMb?: number;
  /** Prepared statements cached per connection (LRU by SQL text). @default 256 */
  readonly statementCacheSize?: number;
  /** How integers are read back, unless a call sets `integers` itself. @default 'number' */
  readonly integers?: IntegerMode;
  /** Times a write transaction is restarted on `SQLITE_BUSY`/`SQLITE_LOCKED`. @default 10 */
  readonly busyRetries?: number;
  /** First backoff delay between restarts, doubled each time, in ms. @default 2 */
  readonly busyRetryBaseDelayMs?: number;
  /** Backoff delay cap between restarts, in ms. @default 250 */
  readonly busyRetryMaxDelayMs?: number;
  /**
   * How often the database file is checked for having been removed or replaced, in
   * ms; then every connection is replaced. 0 turns the check off.
   * @default 1000
   */
  readonly healthCheckIntervalMs?: number;
  /** WAL checkpoint policy, or `false` to leave checkpoints to SQLite's autocheckpoint. */
  readonly checkpoint?: CheckpointConfig | false;
  /** Registry for the `agentnode_db_*` metrics. Without one nothing is recorded. */
  readonly metrics?: MetricsRegistry;
  /** Receives warnings about replaced connections and failed checkpoints. */
  readonly logger?: Logger;
}

/** Pragmas after defaults are applied. */
export type ResolvedPragmas = Required<Omit<PragmaConfig, 'extra'>> & {
  readonly extra: Readonly<Record<string, string | number | boolean>>;
};

/** {@link DatabaseConfig} after defaults are applied and values are checked. */
export interface ResolvedDatabaseConfig {
  readonly name: string;
  readonly pragmas: ResolvedPragmas;
  readonly minReaders: number;
  readonly maxReaders: number;
  readonly acquireTimeoutMs: number;
  readonly idleTimeoutMs: number;
  readonly connectionLifetimeMs: number;
  readonly readerThreads: number;
  readonly readerThreadHeapMb: number | undefined;
  readonly statementCacheSize: number;
  readonly integers: IntegerMode;
  readonly busyRetries: number;
  readonly busyRetryBaseDelayMs: number;
  readonly busyRetryMaxDelayMs: number;
  readonly healthCheckIntervalMs: number;
  readonly checkpoint: Readonly<Required<CheckpointConfig>> | false;
  readonly metrics: MetricsRegistry | undefined;
  readonly logger: Logger | undefined;
}

const MIB = 1024 * 1024;

/** Checkpoint settings used when none are given, and for manual checkpoints when the policy is off. */
export const DEFAULT_CHECKPOINT: Readonly<Required<CheckpointConfig>> = Object.freeze({
  walMaxBytes: 64 * MIB,
  idleMs: 500,
  intervalMs: 1000,
  readerDrainTimeoutMs: 1000,
});

const CONFIG_KEYS: readonly string[] = [
  'name',
  'pragmas',
  'minReaders',
  'maxReaders',
  'acquireTimeoutMs',
  'idleTimeoutMs',
  'connectionLifetimeMs',
  'readerThreads',
  'readerThreadHeapMb',
  'statementCacheSize',
  'integers',
  'busyRetries',
  'busyRetryBaseDelayMs',
  'busyRetryMaxDelayMs',
  'healthCheckIntervalMs',
  'checkpoint',
  'metrics',
  'logger',
];
const PRAGMA_KEYS: readonly string[] = [
  'journalMode',
  'synchronous',
  'mmapSizeBytes',
  'cacheSizeBytes',
  'tempStore',
  'foreignKeys',
  'busyTimeoutMs',
  'extra',
];
const CHECKPOINT_KEYS: readonly string[] = [
  'walMaxBytes',
  'idleMs',
  'intervalMs',
  'readerDrainTimeoutMs',
];

/** Rejects a key of `section` that is not in `known`, naming it and listing the known ones. */
function rejectUnknownKeys(prefix: string, section: unknown, known: readonly string[]): void {
  if (typeof section !== 'object' || section === null) {
    return;
  }
  for (const key of Object.keys(section)) {
    if (!known.includes(key)) {
      throw new SqlitePerfError(
        'INVALID_CONFIG',
        `Unknown option "${prefix}${key}"; known options are ${known.map((name) => prefix + name).join(', ')}.`,
      );
    }
  }
}

/** Applies the defaults to `config` and validates every value. */
export function resolveConfig(
  config: DatabaseConfig,
  inMemory: boolean,
  defaultName: string,
): ResolvedDatabaseConfig {
  if (typeof config !== 'object' || config === null) {
    throw invalid('config', config, 'must be an object');
  }
  rejectUnknownKeys('', config, CONFIG_KEYS);
  rejectUnknownKeys('pragmas.', config.pragmas, PRAGMA_KEYS);
  rejectUnknownKeys('checkpoint.', config.checkpoint, CHECKPOINT_KEYS);
  const pragmas = config.pragmas ?? {};

  const resolved: ResolvedDatabaseConfig = {
    name: config.name ?? defaultName,
    pragmas: Object.freeze({
      journalMode: pragmas.journalMode ?? 'wal',
      synchronous: pragmas.synchronous ?? 'normal',
      mmapSizeBytes: pragmas.mmapSizeBytes ?? 512 * MIB,
      cacheSizeBytes: pragmas.cacheSizeBytes ?? 100 * MIB,
      tempStore: pragmas.tempStore ?? 'memory',
      foreignKeys: pragmas.foreignKeys ?? true,
      busyTimeoutMs: pragmas.busyTimeoutMs ?? 5000,
      extra: Object.freeze({ ...(pragmas.extra ?? {}) }),
    }),
    minReaders: config.minReaders ?? 1,
    maxReaders: config.maxReaders ?? 8,
    acquireTimeoutMs: config.acquireTimeoutMs ?? 10_000,
    idleTimeoutMs: config.idleTimeoutMs ?? 60_000,
    connectionLifetimeMs: config.connectionLifetimeMs ?? 300_000,
    readerThreads: config.readerThreads ?? 0,
    readerThreadHeapMb: config.readerThreadHeapMb,
    statementCacheSize: config.statementCacheSize ?? 256,
    integers: config.integers ?? 'number',
    busyRetries: config.busyRetries ?? 10,
    busyRetryBaseDelayMs: config.busyRetryBaseDelayMs ?? 2,
    busyRetryMaxDelayMs: config.busyRetryMaxDelayMs ?? 250,
    healthCheckIntervalMs: config.healthCheckIntervalMs ?? 1000,
    checkpoint:
      config.checkpoint === false
        ? false
        : Object.freeze({
            walMaxBytes: config.checkpoint?.walMaxBytes ?? DEFAULT_CHECKPOINT.walMaxBytes,
            idleMs: config.checkpoint?.idleMs ?? DEFAULT_CHECKPOINT.idleMs,
            intervalMs: config.checkpoint?.intervalMs ?? DEFAULT_CHECKPOINT.intervalMs,
            readerDrainTimeoutMs:
              config.checkpoint?.readerDrainTimeoutMs ?? DEFAULT_CHECKPOINT.readerDrainTimeoutMs,
          }),
    metrics: config.metrics,
    logger: config.logger,
  };
  validate(resolved, inMemory);

  return Object.freeze(resolved);
}

function validate(config: ResolvedDatabaseConfig, inMemory: boolean): void {
  const { pragmas } = config;
  if (typeof config.name !== 'string' || !/^[A-Za-z0-9_.-]{1,64}$/.test(config.name)) {
    throw invalid('name', config.name, 'must be 1 to 64 letters, digits, _, . or -');
  }
  oneOf('pragmas.journalMode', pragmas.journalMode, [
    'wal',
    'delete',
    'truncate',
    'persist',
    'memory',
    'off',
  ]);
  oneOf('pragmas.synchronous', pragmas.synchronous, ['off', 'normal', 'full', 'extra']);
  oneOf('pragmas.tempStore', pragmas.tempStore, ['default', 'file', 'memory']);
  wholeNumber('pragmas.mmapSizeBytes', pragmas.mmapSizeBytes, 0);
  wholeNumber('pragmas.cacheSizeBytes', pragmas.cacheSizeBytes, 0);
  wholeNumber('pragmas.busyTimeoutMs', pragmas.busyTimeoutMs, 0);
  if (typeof pragmas.foreignKeys !== 'boolean') {
    throw invalid('pragmas.foreignKeys', pragmas.foreignKeys, 'must be a boolean');
  }
  for (const [name, value] of Object.entries(pragmas.extra)) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
      throw invalid(`pragmas.extra key`, name, 'must be a pragma name (letters, digits, _)');
    }
    if (typeof value === 'string' && !/^[A-Za-z0-9_.-]+$/.test(value)) {
      throw invalid(`pragmas.extra.${name}`, value, 'must be a bare word or number');
    }
  }

  wholeNumber('minReaders', config.minReaders, 0);
  wholeNumber('maxReaders', config.maxReaders, 1);
  if (config.minReaders > config.maxReaders) {
    throw invalid(
      'minReaders',
      config.minReaders,
      `must not exceed maxReaders (${config.maxReaders})`,
    );
  }
  wholeNumber('acquireTimeoutMs', config.acquireTimeoutMs, 1);
  wholeNumber('idleTimeoutMs', config.idleTimeoutMs, 1);
  wholeNumber('connectionLifetimeMs', config.connectionLifetimeMs, 1);
  wholeNumber('readerThreads', config.readerThreads, 0);
  if (inMemory && config.readerThreads > 0) {
    throw invalid('readerThreads', config.readerThreads, 'must be 0 for a :memory: database');
  }
  if (config.readerThreadHeapMb !== undefined) {
    wholeNumber('readerThreadHeapMb', config.readerThreadHeapMb, 16);
    if (config.readerThreads === 0) {
      throw invalid('readerThreadHeapMb', config.readerThreadHeapMb, 'needs readerThreads > 0');
    }
  }
  wholeNumber('statementCacheSize', config.statementCacheSize, 1);
  oneOf('integers', config.integers, ['number', 'bigint']);
  wholeNumber('busyRetries', config.busyRetries, 0);
  wholeNumber('busyRetryBaseDelayMs', config.busyRetryBaseDelayMs, 0);
  wholeNumber('busyRetryMaxDelayMs', config.busyRetryMaxDelayMs, config.busyRetryBaseDelayMs);

  wholeNumber('healthCheckIntervalMs', config.healthCheckIntervalMs, 0);
  if (config.checkpoint !== false) {
    wholeNumber('checkpoint.walMaxBytes', config.checkpoint.walMaxBytes, 1);
    wholeNumber('checkpoint.idleMs', config.checkpoint.idleMs, 0);
    wholeNumber('checkpoint.intervalMs', config.checkpoint.intervalMs, 1);
    wholeNumber('checkpoint.readerDrainTimeoutMs', config.checkpoint.readerDrainTimeoutMs, 0);
  }
  if (config.logger !== undefined && typeof config.logger?.warn !== 'function') {
    throw new SqlitePerfError(
      'INVALID_CONFIG',
      `Invalid logger: it must have debug, info, warn and error methods, got ${describe(config.logger)}.`,
    );
  }
}

function wholeNumber(name: string, value: unknown, min: number): void {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw invalid(name, value, `must be an integer >= ${min}`);
  }
}

function oneOf(name: string, value: unknown, allowed: readonly string[]): void {
  if (typeof value !== 'string' || !allowed.includes(value)) {
    throw invalid(name, value, `must be one of ${allowed.map((v) => `'${v}'`).join(', ')}`);
  }
}

function invalid(name: string, value: unknown, rule: string): SqlitePerfError {
  return new SqlitePerfError('INVALID_CONFIG', `Invalid ${name} ${describe(value)}: ${rule}.`);
}

/** Formats a value briefly for error messages. */
export function describe(value: unknown): string {
  if (typeof value === 'string') {
    return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  }
  if (typeof value === 'bigint') {
    return `${value}n`;
  }
  if (typeof value === 'function') {
    return 'a function';
  }
  if (typeof value === 'object' && value !== null) {
    return Array.isArray(value) ? 'an array' : 'an object';
  }

  return String(value);
}
