import type { Counter, MetricsRegistry } from '@agentnode/metrics';
import type { Logger } from './logger';
import type { ExecutionLog, ExecutionRecord } from './ports';
import type { TaskSupervisor } from './task-supervisor';

/** Batching settings of the execution log. */
export interface ExecutionLogWriterConfig {
  readonly log: ExecutionLog;
  /** A batch is written once it has this many records. */
  readonly maxBatchSize: number;
  /** A partial batch is written this long after its first record. */
  readonly flushIntervalMs: number;
  /** Records held while the log is slow; beyond this the oldest are dropped. */
  readonly maxBufferedRecords: number;
  readonly tasks: TaskSupervisor;
  readonly logger: Logger;
  readonly metrics: MetricsRegistry | undefined;
}

/**
 * Buffers finished calls and writes them to the {@link ExecutionLog} in
 * batches from a supervised background task. `add` only pushes to an array,
 * so recording never slows a call; one write runs at a time, in order.
 */
export class ExecutionLogWriter {
  readonly #config: ExecutionLogWriterConfig;
  readonly #records: Counter<'status'> | undefined;
  #buffer: ExecutionRecord[] = [];
  #timer: NodeJS.Timeout | undefined;
  #writing: Promise<void> | undefined;

  constructor(config: ExecutionLogWriterConfig) {
    this.#config = config;
    this.#records = config.metrics?.counter({
      name: 'agentnode_execution_log_records_total',
      help: 'Finished tool calls handed to the execution log, by status (written, failed, dropped).',
      labelNames: ['status'],
    });
  }

  /** Buffers one record and schedules a write. */
  add(record: ExecutionRecord): void {
    this.#buffer.push(record);

    if (this.#buffer.length > this.#config.maxBufferedRecords) {
      const dropped = this.#buffer.length - this.#config.maxBufferedRecords;
      this.#buffer.splice(0, dropped);
      this.#records?.inc({ status: 'dropped' }, dropped);
      this.#config.logger.warn('Execution log is behind; dropped the oldest buffered records.', {
        dropped,
      });
    }

    if (this.#buffer.length >= this.#config.maxBatchSize) {
      this.#scheduleWrite();
    } else if (this.#timer === undefined) {
      this.#timer = setTimeout(() => this.#scheduleWrite(), this.#config.flushIntervalMs);
      this.#timer.unref();
    }
  }

  /** Writes every buffered record; resolves when the log has taken them (or failed). */
  async flush(): Promise<void> {
    while (this.#buffer.length > 0 || this.#writing) {
      this.#scheduleWrite();
      await this.#writing;
    }
  }

  #scheduleWrite(): void {
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }

    if (this.#writing || this.#buffer.length === 0) {
      return;
    }

    const batch = this.#buffer.splice(0, this.#config.maxBatchSize);
    this.#writing = this.#config.tasks
      .spawn('execution-log-write', () => this.#config.log.record(batch), {
        context: { records: batch.length },
      })
      .then((outcome) => {
        this.#records?.inc({ status: outcome.ok ? 'written' : 'failed' }, batch.length);
        this.#writing = undefined;
        if (this.#buffer.length >= this.#config.maxBatchSize) {
          this.#scheduleWrite();
        } else if (this.#buffer.length > 0 && this.#timer === undefined) {
          this.#timer = setTimeout(() => this.#scheduleWrite(), this.#config.flushIntervalMs);
          this.#timer.unref();
        }
      });
  }
}
