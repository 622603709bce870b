import type { ExecutionLog, ExecutionRecord } from '@agentnode/core';
import {
  BatchWriter,
  type BatchWriterStats,
  type Database,
  type Logger,
  SqlitePerfError,
} from '@agentnode/sqlite-perf';
import { CALL_STATUSES, type ExecutionLogRecord, type ExecutionsTable } from './schema';

/** Configuration of an {@link ExecutionLogWriter}. */
export interface ExecutionLogWriterConfig {
  /** Records written per transaction, and the buffer size that triggers a write. @default 200 */
  readonly maxBatchSize?: number;
  /** A partial batch is written this long after its first record, in ms. @default 1000 */
  readonly flushIntervalMs?: number;
  /** Records buffered at most; `add` throws `BUFFER_FULL` beyond it. @default 10000 */
  readonly maxBufferedRecords?: number;
  /** Receives failed background writes. */
  readonly logger?: Logger;
}

/**
 * Writes finished calls to the `executions` table in batches: when `maxBatchSize`
 * records are waiting, after `flushIntervalMs`, and on `close()`. One write runs at a
 * time; a failed write keeps its records for the next one, so a clean `close()`
 * writes every record or rejects. It also serves as core's `ExecutionLog` port.
 *
 * Note: the `executions` table must exist; {@link openNodeStore} migrates it.
 *
 * @example
 * import { openDatabase } from '@agentnode/sqlite-perf';
 * import { ExecutionLogWriter, migrateStore } from 'agentnode';
 * const database = openDatabase('node.db');
 * await migrateStore(database);
 * const log = new ExecutionLogWriter(database, { maxBatchSize: 500 });
 * log.add({ id: 'c1', routerKey: 'local:::me:::echo', kind: 'function', status: 'ok',
 *   durationMs: 1.5, startedAt: Date.now() - 2, finishedAt: Date.now() });
 * await log.close();
 */
export class ExecutionLogWriter implements ExecutionLog {
  readonly #batches: BatchWriter<ExecutionsTable>;

  constructor(database: Database, config: ExecutionLogWriterConfig = {}) {
    this.#batches = new BatchWriter<ExecutionsTable>({
      // Ignoring a repeated id makes a retried batch that had in fact committed harmless.
      write: (rows) => database.insertMany('executions', rows, { onConflict: 'ignore' }),
      maxBatchSize: config.maxBatchSize ?? 200,
      flushIntervalMs: config.flushIntervalMs ?? 1000,
      maxBufferedRecords: config.maxBufferedRecords ?? 10_000,
      ...(config.logger !== undefined && { logger: config.logger }),
    });
  }

  /** Counts of buffered, written and failed records. */
  get stats(): BatchWriterStats {
    return this.#batches.stats;
  }

  /** Buffers one finished call. Throws `BUFFER_FULL` when the buffer is full, `POOL_CLOSED` after close. */
  add(record: ExecutionLogRecord): void {
    this.#batches.add(toRow(record));
  }

  /** Core's `ExecutionLog` port: buffers each record of a batch of finished calls. */
  record(records: readonly ExecutionRecord[]): void {
    for (const record of records) {
      this.add(fromCoreRecord(record));
    }
  }

  /** Writes every buffered record now. */
  flush(): Promise<void> {
    return this.#batches.flush();
  }

  /** Stops accepting records and writes every buffered one. */
  close(): Promise<void> {
    return this.#batches.close();
  }
}

/** Maps core's record of a finished call to the stored form. */
export function fromCoreRecord(record: ExecutionRecord): ExecutionLogRecord {
  return {
    id: record.callId,
    routerKey: record.key,
    kind: record.kind,
    status: record.status,
    durationMs: record.durationMs,
    errorCode: record.errorCode,
    startedAt: record.startedAt,
    finishedAt: record.startedAt + record.queueWaitMs + record.durationMs,
  };
}

/** Maps a stored row back to a record. */
export function fromRow(row: ExecutionsTable): ExecutionLogRecord {
  return {
    id: row.id,
    routerKey: row.router_key,
    kind: row.kind,
    status: row.status,
    durationMs: row.duration_ms,
    errorCode: row.error_code ?? undefined,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
  };
}

function toRow(record: ExecutionLogRecord): ExecutionsTable {
  validateRecord(record);

  return {
    id: record.id,
    router_key: record.routerKey,
    kind: record.kind,
    status: record.status,
    duration_ms: record.durationMs,
    error_code: record.errorCode ?? null,
    // Epoch milliseconds are stored as integers; fractions from performance timers are dropped.
    started_at: Math.round(record.startedAt),
    finished_at: Math.round(record.finishedAt),
  };
}

// Checked when a record is added: one bad row would otherwise fail its whole batch
// on every retry.
function validateRecord(record: ExecutionLogRecord): void {
  const problem =
    typeof record !== 'object' || record === null
      ? 'must be an object'
      : typeof record.id !== 'string' || record.id.length === 0
        ? 'id must be a non-empty string'
        : typeof record.routerKey !== 'string' || record.routerKey.length === 0
          ? 'routerKey must be a non-empty string'
          : typeof record.kind !== 'string'
            ? 'kind must be a string'
            : !CALL_STATUSES.includes(record.status)
              ? `status must be one of ${CALL_STATUSES.join(', ')}`
              : !(Number.isFinite(record.durationMs) && record.durationMs >= 0)
                ? 'durationMs must be a finite number >= 0'
                : !Number.isFinite(record.startedAt) || !Number.isFinite(record.finishedAt)
                  ? 'startedAt and finishedAt must be epoch milliseconds'
                  : record.errorCode !== undefined && typeof record.errorCode !== 'string'
                    ? 'errorCode must be a string when set'
                    : undefined;
  if (problem !== undefined) {
    throw new SqlitePerfError(
      'INVALID_ARGUMENT',
      `Invalid execution record ${JSON.stringify((record as { id?: unknown })?.id ?? null)}: ${problem}.`,
    );
  }
}
