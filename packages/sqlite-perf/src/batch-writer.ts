import { describe, type Logger } from './config';
import { SqlitePerfError } from './errors';
import { closedError } from './writer-queue';

/** Configuration of a {@link BatchWriter}. */
export interface BatchWriterConfig<T> {
  /** Writes one batch, in the order the records were added. A rejection keeps the batch for the next flush. */
  readonly write: (records: T[]) => Promise<unknown> | unknown;
  /** A batch is flushed as soon as this many records are buffered. @default 100 */
  readonly maxBatchSize?: number;
  /** Buffered records are flushed at the latest this long after the first one arrived, in ms. @default 1000 */
  readonly flushIntervalMs?: number;
  /**
   * Records buffered at most, including batches kept after a failed write; `add`
   * rejects more with `BUFFER_FULL`.
   * @default 10000
   */
  readonly maxBufferedRecords?: number;
  /** Receives failed background flushes. */
  readonly logger?: Logger;
}

/** Counts kept by a {@link BatchWriter}. */
export interface BatchWriterStats {
  /** Records waiting to be written. */
  readonly buffered: number;
  /** Records written successfully. */
  readonly written: number;
  /** Batches written successfully. */
  readonly batches: number;
  /** Writes that failed; their records stayed buffered. */
  readonly failedWrites: number;
}

/**
 * Buffers records and writes them in batches: when `maxBatchSize` records are
 * buffered, after `flushIntervalMs`, on `flush()` and on `close()`. One write runs at
 * a time. A failed write keeps its records, in order, for the next flush, so a clean
 * `close()` either writes everything or rejects with what failed.
 *
 * @example
 * import { BatchWriter, openDatabase } from '@agentnode/sqlite-perf';
 * const db = openDatabase('app.db');
 * const events = new BatchWriter<{ id: number; kind: string }>({
 *   write: (rows) => db.insertMany('events', rows),
 *   maxBatchSize: 500,
 * });
 * events.add({ id: 1, kind: 'start' });
 * await events.close();
 */
export class BatchWriter<T> {
  readonly #write: (records: T[]) => Promise<unknown> | unknown;
  readonly #maxBatchSize: number;
  readonly #flushIntervalMs: number;
  readonly #maxBuffered: number;
  readonly #logger: Logger | undefined;
  #buffer: T[] = [];
  #timer: NodeJS.Timeout | undefined;
  #flushing: Promise<void> | undefined;
  #sizeFlushScheduled = false;
  #written = 0;
  #batches = 0;
  #failedWrites = 0;
  #closed = false;

  constructor(config: BatchWriterConfig<T>) {
    if (typeof config?.write !== 'function') {
      throw new SqlitePerfError(
        'INVALID_CONFIG',
        `Invalid write ${describe(config?.write)}: must be a function.`,
      );
    }
    this.#write = config.write;
    this.#maxBatchSize = config.maxBatchSize ?? 100;
    this.#flushIntervalMs = config.flushIntervalMs ?? 1000;
    this.#maxBuffered = config.maxBufferedRecords ?? 10_000;
    this.#logger = config.logger;
    for (const [name, value, min] of [
      ['maxBatchSize', this.#maxBatchSize, 1],
      ['flushIntervalMs', this.#flushIntervalMs, 1],
      ['maxBufferedRecords', this.#maxBuffered, this.#maxBatchSize],
    ] as const) {
      if (!Number.isSafeInteger(value) || value < min) {
        throw new SqlitePerfError(
          'INVALID_CONFIG',
          `Invalid ${name} ${describe(value)}: must be an integer >= ${min}.`,
        );
      }
    }
  }

  /** Counts of buffered, written and failed records. */
  get stats(): BatchWriterStats {
    return {
      buffered: this.#buffer.length,
      written: this.#written,
      batches: this.#batches,
      failedWrites: this.#failedWrites,
    };
  }

  /**
   * Buffers one record. Throws `BUFFER_FULL` when `maxBufferedRecords` are waiting
   * (writes are failing or slower than records arrive) and `POOL_CLOSED` after `close()`.
   */
  add(record: T): void {
    if (this.#closed) {
      throw closedError('add a record');
    }
    if (this.#buffer.length >= this.#maxBuffered) {
      throw new SqlitePerfError(
        'BUFFER_FULL',
        `Cannot buffer the record: ${this.#buffer.length} records are waiting (maxBufferedRecords); ` +
          'writes are failing or slower than records arrive.',
      );
    }
    this.#buffer.push(record);
    if (this.#buffer.length >= this.#maxBatchSize) {
      this.#scheduleSizeFlush();
    } else if (this.#timer === undefined) {
      this.#timer = setTimeout(() => this.#backgroundFlush(), this.#flushIntervalMs);
      this.#timer.unref();
    }
  }

  /** Writes everything buffered now; rejects with the first failed write's error. */
  flush(): Promise<void> {
    return this.#flush(false);
  }

  async #flush(fullBatchesOnly: boolean): Promise<void> {
    while (this.#flushing !== undefined) {
      await this.#flushing.catch(() => {});
    }
    if (this.#buffer.length === 0) {
      return;
    }
    this.#flushing = this.#drain(fullBatchesOnly);
    try {
      await this.#flushing;
    } finally {
      this.#flushing = undefined;
    }
  }

  /** Stops accepting records and writes every buffered one. Rejects if a write fails. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#clearTimer();
    await this.flush();
  }

  async #drain(fullBatchesOnly: boolean): Promise<void> {
    // A size-triggered write leaves the interval timer running for the partial batch.
    if (!fullBatchesOnly) {
      this.#clearTimer();
    }
    const minimum = fullBatchesOnly ? this.#maxBatchSize : 1;
    while (this.#buffer.length >= minimum) {
      const batch = this.#buffer.splice(0, this.#maxBatchSize);
      try {
        await this.#write(batch);
      } catch (error) {
        this.#failedWrites++;
        // Put the batch back in front so order is kept and the next flush retries it.
        this.#buffer = batch.concat(this.#buffer);
        this.#clearTimer();
        if (!this.#closed) {
          this.#timer = setTimeout(() => this.#backgroundFlush(), this.#flushIntervalMs);
          this.#timer.unref();
        }
        throw error;
      }
      this.#written += batch.length;
      this.#batches++;
    }
    // A partial batch left behind by a size-triggered write waits for the interval.
    if (this.#buffer.length > 0 && this.#timer === undefined && !this.#closed) {
      this.#timer = setTimeout(() => this.#backgroundFlush(), this.#flushIntervalMs);
      this.#timer.unref();
    }
  }

  #scheduleSizeFlush(): void {
    if (this.#sizeFlushScheduled) {
      return;
    }
    this.#sizeFlushScheduled = true;
    // A microtask lets records added in the same synchronous burst join the batch.
    queueMicrotask(() => {
      this.#sizeFlushScheduled = false;
      this.#backgroundFlush(true);
    });
  }

  #backgroundFlush(fullBatchesOnly = false): void {
    if (!fullBatchesOnly) {
      this.#timer = undefined;
    }
    this.#flush(fullBatchesOnly).catch((error: unknown) => {
      this.#logger?.warn(
        `sqlite-perf: a batch write failed; ${this.#buffer.length} records stay buffered for the next flush`,
        error,
      );
    });
  }

  #clearTimer(): void {
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
  }
}
