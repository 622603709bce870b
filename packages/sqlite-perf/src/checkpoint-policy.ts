import { statSync } from 'node:fs';
import type { CheckpointConfig, Logger } from './config';
import type { WriterQueue } from './writer-queue';

/** A checkpoint mode SQLite supports, lower-cased. */
export type CheckpointMode = 'passive' | 'full' | 'restart' | 'truncate';

/** Outcome of one checkpoint. */
export interface CheckpointResult {
  readonly mode: CheckpointMode;
  /**
   * `ok`: every WAL frame was copied (and for restart/truncate, the WAL reset);
   * `partial`: a passive checkpoint stopped at a frame a reader still needs;
   * `starved`: readers kept a forced checkpoint from finishing.
   */
  readonly result: 'ok' | 'partial' | 'starved';
  /** WAL frames before the checkpoint. */
  readonly walFrames: number;
  /** Frames copied into the database file. */
  readonly checkpointedFrames: number;
}

/** Counts kept by the checkpoint policy. */
export interface CheckpointStats {
  readonly passive: number;
  readonly forced: number;
  readonly starved: number;
  /** WAL size at the last check, in bytes. */
  readonly walBytes: number;
}

/** Something whose new reads can be held back while a forced checkpoint runs. */
export interface PausableReaders {
  pause(): void;
  resume(): void;
  whenIdle(timeoutMs: number): Promise<boolean>;
}

/** Dependencies of the policy on the database. */
export interface CheckpointPolicyInit {
  readonly walPath: string;
  readonly config: Readonly<Required<CheckpointConfig>>;
  /** Whether the policy checks on its own every `intervalMs`; manual runs work either way. */
  readonly automatic: boolean;
  readonly queue: WriterQueue;
  readonly readers: () => readonly PausableReaders[];
  readonly busyTimeoutMs: number;
  readonly onCheckpoint?: (result: CheckpointResult) => void;
  readonly logger?: Logger | undefined;
}

/**
 * Keeps the WAL small. After the writer has been idle for `idleMs`, a PASSIVE
 * checkpoint copies what it can without waiting for anyone. When the WAL grows past
 * `walMaxBytes`, a TRUNCATE checkpoint runs with the writer held and new reads
 * paused until running reads finish, so a stream of overlapping readers cannot
 * starve it forever. A forced checkpoint that still finds readers (they held a
 * snapshot past `readerDrainTimeoutMs`, or another process reads) is counted as
 * starved and tried again on the next check.
 */
export class CheckpointPolicy {
  readonly #init: CheckpointPolicyInit;
  readonly #timer: NodeJS.Timeout | undefined;
  #lastCommitAt = 0;
  #commitsSinceCheckpoint = 0;
  #running = false;
  #passive = 0;
  #forced = 0;
  #starved = 0;
  #walBytes = 0;

  constructor(init: CheckpointPolicyInit) {
    this.#init = init;
    if (init.automatic) {
      this.#timer = setInterval(() => void this.check(), init.config.intervalMs);
      this.#timer.unref();
    }
  }

  /** Counts of checkpoints run and starved, and the WAL size last seen. */
  get stats(): CheckpointStats {
    return {
      passive: this.#passive,
      forced: this.#forced,
      starved: this.#starved,
      walBytes: this.#walBytes,
    };
  }

  /** Current WAL file size in bytes (0 when there is no WAL file). */
  walBytes(): number {
    try {
      this.#walBytes = statSync(this.#init.walPath).size;
    } catch {
      this.#walBytes = 0;
    }

    return this.#walBytes;
  }

  /** Records a commit, so an idle writer is checkpointed later. */
  noteCommit(): void {
    this.#lastCommitAt = Date.now();
    this.#commitsSinceCheckpoint++;
  }

  /** Runs the checkpoint the policy calls for now, if any. Never rejects. */
  async check(): Promise<CheckpointResult | undefined> {
    if (this.#running) {
      return undefined;
    }
    try {
      if (this.walBytes() > this.#init.config.walMaxBytes) {
        return await this.run('truncate');
      }
      const idleFor = Date.now() - this.#lastCommitAt;
      if (this.#commitsSinceCheckpoint > 0 && idleFor >= this.#init.config.idleMs) {
        return await this.run('passive');
      }
    } catch (error) {
      this.#init.logger?.warn('sqlite-perf: WAL checkpoint failed', error);
    }

    return undefined;
  }

  /**
   * Runs one checkpoint now. `passive` never waits; the other modes hold the writer,
   * pause new reads and wait up to `readerDrainTimeoutMs` for running reads.
   */
  async run(mode: CheckpointMode): Promise<CheckpointResult> {
    this.#running = true;
    let lease: Awaited<ReturnType<WriterQueue['lease']>>;
    try {
      lease = await this.#init.queue.lease();
    } catch (error) {
      this.#running = false;
      throw error;
    }
    const readers = mode === 'passive' ? [] : this.#init.readers();
    try {
      for (const reader of readers) {
        reader.pause();
      }
      const drained = await Promise.all(
        readers.map((reader) => reader.whenIdle(this.#init.config.readerDrainTimeoutMs)),
      );
      const connection = lease.connection;
      // With a busy timeout SQLite would block this thread waiting for readers that
      // can only finish on this same thread. Failing fast counts it as starved instead.
      connection.pragma('busy_timeout = 0');
      let row: { busy: number; log: number; checkpointed: number } | undefined;
      try {
        row = connection.pragma(`wal_checkpoint(${mode.toUpperCase()})`)[0] as typeof row;
      } finally {
        connection.pragma(`busy_timeout = ${this.#init.busyTimeoutMs}`);
      }
      const result = this.#record(mode, row, drained.every(Boolean));
      this.#init.onCheckpoint?.(result);
      this.walBytes();
      return result;
    } finally {
      for (const reader of readers) {
        reader.resume();
      }
      lease.release();
      this.#running = false;
    }
  }

  /** Stops the periodic check. */
  stop(): void {
    clearInterval(this.#timer);
  }

  #record(
    mode: CheckpointMode,
    row: { busy: number; log: number; checkpointed: number } | undefined,
    drained: boolean,
  ): CheckpointResult {
    const walFrames = Math.max(0, Number(row?.log ?? 0));
    const checkpointedFrames = Math.max(0, Number(row?.checkpointed ?? 0));
    const complete = Number(row?.busy ?? 1) === 0 && checkpointedFrames >= walFrames;
    let result: CheckpointResult['result'];
    if (mode === 'passive') {
      this.#passive++;
      result = complete ? 'ok' : 'partial';
    } else {
      this.#forced++;
      result = complete ? 'ok' : 'starved';
      if (!complete) {
        this.#starved++;
        this.#init.logger?.warn(
          `sqlite-perf: ${mode} checkpoint starved (${checkpointedFrames}/${walFrames} frames, ` +
            `readers ${drained ? 'drained' : 'still running'}); retrying on the next check`,
        );
      }
    }
    if (complete) {
      this.#commitsSinceCheckpoint = 0;
    }

    return { mode, result, walFrames, checkpointedFrames };
  }
}
