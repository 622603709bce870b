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
    const writer = this.#writer();
    // A Kysely transaction may be open on the writer; endRead keeps that one.
    const transactionBefore = writer.inTransaction;
    const done = () => {
      this.#inUse--;
      writer.endRead(transactionBefore);
    };
    try {
      const result = callback(writer);
      if (result instanceof Promise) {
        return result.finally(done);
      }
      done();
      return Promise.resolve(result);
    } catch (error) {
      done();
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
