import type { Connection } from './connection';
import type { ReadCallback, ReaderPoolStats } from './reader-pool';
import { closedError } from './writer-queue';

/**
 * The reader source of a `:memory:` database. Every in-memory connection is a
 * separate database, so reads run on the writer's connection.
 */
export class WriterAsReader {
  readonly #writer: () => Connection;
  #inUse = 0;
  #closed = false;

  constructor(writer: () => Connection) {
    this.#writer = writer;
  }

  get stats(): ReaderPoolStats {
    return { size: 0, inUse: this.#inUse, waiting: 0 };
  }

  read<T>(callback: ReadCallback<T>): Promise<T> {
    if (this.#closed) {
      return Promise.reject(closedError('read'));
    }
    this.#inUse++;
    try {
      const result = callback(this.#writer());
      if (result instanceof Promise) {
        return result.finally(() => this.#inUse--);
      }
      this.#inUse--;
      return Promise.resolve(result);
    } catch (error) {
      this.#inUse--;
      return Promise.reject(error);
    }
  }

  pause(): void {}
  resume(): void {}
  whenIdle(): Promise<boolean> {
    return Promise.resolve(true);
  }
  async close(): Promise<void> {
    this.#closed = true;
  }
}
