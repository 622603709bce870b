import {
  type CompiledQuery,
  type DatabaseConnection,
  type DatabaseIntrospector,
  type Dialect,
  type DialectAdapter,
  type Driver,
  Kysely,
  type QueryCompiler,
  type QueryResult,
  SelectQueryNode,
  SqliteAdapter,
  SqliteIntrospector,
  SqliteQueryCompiler,
} from 'kysely';
import type { IntegerMode } from './config';
import type { Connection } from './connection';
import type { DatabaseOperation } from './database-metrics';
import { isBusyError, SqlitePerfError } from './errors';
import { toBindable } from './integers';
import type { ReadCallback } from './reader-pool';
import type { WorkerReaders } from './worker-readers';
import type { WriterLease, WriterQueue } from './writer-queue';

/** Routing targets of the dialect: the writer queue, the readers and the workers. */
export interface KyselyRouting {
  readonly queue: WriterQueue;
  readonly read: <T>(callback: ReadCallback<T>) => Promise<T>;
  readonly workers: WorkerReaders | undefined;
  readonly integers: IntegerMode;
  readonly onBusyRetry: (attempt: number) => void;
  readonly observe:
    | ((operation: DatabaseOperation, status: 'ok' | 'error', durationNs: bigint) => void)
    | undefined;
}

/**
 * A Kysely dialect over a {@link Database}: SELECTs go to the reader pool (or the
 * reader workers), every other statement to the writer queue as its own
 * transaction, and a Kysely transaction keeps the writer from BEGIN IMMEDIATE to
 * COMMIT. Statements come from the per-connection caches instead of being prepared
 * on every call.
 */
export class AgentnodeSqliteDialect implements Dialect {
  readonly #routing: KyselyRouting;

  constructor(routing: KyselyRouting) {
    this.#routing = routing;
  }

  createDriver(): Driver {
    return new RoutingDriver(this.#routing);
  }

  createQueryCompiler(): QueryCompiler {
    return new SqliteQueryCompiler();
  }

  createAdapter(): DialectAdapter {
    return new SqliteAdapter();
  }

  createIntrospector(db: Kysely<unknown>): DatabaseIntrospector {
    return new SqliteIntrospector(db);
  }
}

/** Creates the Kysely instance behind `db.kysely()`. */
export function createKysely(routing: KyselyRouting): Kysely<unknown> {
  return new Kysely<unknown>({ dialect: new AgentnodeSqliteDialect(routing) });
}

// Routing connections are tiny, but Kysely tracks each one it sees in a WeakSet;
// reusing a few keeps that set and the allocations small.
const MAX_FREE_CONNECTIONS = 64;

class RoutingDriver implements Driver {
  readonly #routing: KyselyRouting;
  readonly #free: RoutingConnection[] = [];

  constructor(routing: KyselyRouting) {
    this.#routing = routing;
  }

  async init(): Promise<void> {}

  async acquireConnection(): Promise<DatabaseConnection> {
    // Nothing is held yet: a routing connection picks a reader or the writer per
    // query. Released ones are reused, so a query allocates none.
    return this.#free.pop() ?? new RoutingConnection(this.#routing);
  }

  async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await (connection as RoutingConnection).begin();
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    (connection as RoutingConnection).finish('COMMIT');
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    (connection as RoutingConnection).finish('ROLLBACK');
  }

  async savepoint(connection: DatabaseConnection, savepointName: string): Promise<void> {
    await (connection as RoutingConnection).savepointCommand('savepoint', savepointName);
  }

  async rollbackToSavepoint(connection: DatabaseConnection, savepointName: string): Promise<void> {
    await (connection as RoutingConnection).savepointCommand('rollback to', savepointName);
  }

  async releaseSavepoint(connection: DatabaseConnection, savepointName: string): Promise<void> {
    await (connection as RoutingConnection).savepointCommand('release', savepointName);
  }

  async releaseConnection(connection: DatabaseConnection): Promise<void> {
    const routing = connection as RoutingConnection;
    routing.releaseWriter();
    if (this.#free.length < MAX_FREE_CONNECTIONS) {
      this.#free.push(routing);
    }
  }

  // The database handle owns every connection; `db.close()` closes them.
  async destroy(): Promise<void> {}
}

class RoutingConnection implements DatabaseConnection {
  readonly #routing: KyselyRouting;
  #lease: WriterLease | undefined;

  constructor(routing: KyselyRouting) {
    this.#routing = routing;
  }

  executeQuery<R>(compiledQuery: CompiledQuery): Promise<QueryResult<R>> {
    const { sql, parameters } = compiledQuery;
    if (this.#lease !== undefined) {
      try {
        return Promise.resolve(toQueryResult<R>(this.#lease.connection, sql, parameters));
      } catch (error) {
        return Promise.reject(error);
      }
    }
    const result = SelectQueryNode.is(compiledQuery.query)
      ? this.#executeRead<R>(sql, parameters)
      : this.#routing.queue.write((connection) => toQueryResult<R>(connection, sql, parameters));

    const observe = this.#routing.observe;
    if (observe === undefined) {
      return result;
    }
    const operation = SelectQueryNode.is(compiledQuery.query) ? 'read' : 'write';
    const startedAt = process.hrtime.bigint();
    return result.then(
      (value) => {
        observe(operation, 'ok', process.hrtime.bigint() - startedAt);
        return value;
      },
      (error: unknown) => {
        observe(operation, 'error', process.hrtime.bigint() - startedAt);
        throw error;
      },
    );
  }

  async *streamQuery<R>(
    compiledQuery: CompiledQuery,
    chunkSize = 100,
  ): AsyncIterableIterator<QueryResult<R>> {
    if (!SelectQueryNode.is(compiledQuery.query)) {
      throw new SqlitePerfError('INVALID_ARGUMENT', 'Only SELECT queries can be streamed.');
    }
    const { sql, parameters } = compiledQuery;
    if (this.#lease !== undefined) {
      yield* chunks<R>(this.#lease.connection, sql, parameters, chunkSize);
      return;
    }
    // Hold one reader for the whole stream: its callback settles when iteration ends.
    let finish!: () => void;
    const finished = new Promise<void>((resolve) => {
      finish = resolve;
    });
    const connection = await new Promise<Connection>((resolve, reject) => {
      this.#routing
        .read((reader) => {
          resolve(reader);
          return finished;
        })
        .catch(reject);
    });
    try {
      yield* chunks<R>(connection, sql, parameters, chunkSize);
    } finally {
      finish();
    }
  }

  /** Takes the writer and opens a write transaction, restarting BEGIN while the file is locked. */
  async begin(): Promise<void> {
    const lease = await this.#routing.queue.lease();
    const { retries } = this.#routing.queue.retryPolicy;
    for (let attempt = 0; ; attempt++) {
      try {
        lease.connection.control('BEGIN IMMEDIATE');
        this.#lease = lease;
        return;
      } catch (error) {
        if (!isBusyError(error) || attempt >= retries) {
          lease.release();
          throw error;
        }
        this.#routing.onBusyRetry(attempt + 1);
        await delay(this.#routing.queue.retryDelayMs(attempt + 1));
      }
    }
  }

  /** Commits or rolls back. A failed COMMIT keeps the writer so Kysely's ROLLBACK can follow. */
  finish(command: 'COMMIT' | 'ROLLBACK'): void {
    const lease = this.#lease;
    if (lease === undefined) {
      return;
    }
    if (command === 'ROLLBACK' && !lease.connection.inTransaction) {
      this.releaseWriter();
      return;
    }
    lease.connection.control(command);
    this.releaseWriter();
  }

  async savepointCommand(
    command: 'savepoint' | 'rollback to' | 'release',
    name: string,
  ): Promise<void> {
    if (this.#lease === undefined) {
      throw new SqlitePerfError(
        'INVALID_ARGUMENT',
        `Cannot ${command} savepoint ${name} outside a transaction.`,
      );
    }
    const keyword = { savepoint: 'SAVEPOINT', 'rollback to': 'ROLLBACK TO', release: 'RELEASE' }[
      command
    ];
    // Quoted as an identifier, doubling any quote, so a name can never carry SQL.
    this.#lease.connection.exec(`${keyword} "${name.replaceAll('"', '""')}"`);
  }

  releaseWriter(): void {
    const lease = this.#lease;
    this.#lease = undefined;
    lease?.release();
  }

  #executeRead<R>(sql: string, parameters: readonly unknown[]): Promise<QueryResult<R>> {
    const workers = this.#routing.workers;
    if (workers !== undefined) {
      return workers
        .query('all', sql, toBindable(parameters, sql), this.#routing.integers)
        .then((rows) => ({ rows: rows as R[] }));
    }

    return this.#routing.read((connection) => ({ rows: connection.all<R>(sql, parameters) }));
  }
}

function toQueryResult<R>(
  connection: Connection,
  sql: string,
  parameters: readonly unknown[],
): QueryResult<R> {
  const { rows, run } = connection.execute<R>(sql, parameters);
  if (run === undefined) {
    return { rows };
  }

  return {
    rows,
    numAffectedRows: BigInt(run.changes),
    insertId: BigInt(run.lastInsertRowid),
  };
}

function* chunks<R>(
  connection: Connection,
  sql: string,
  parameters: readonly unknown[],
  chunkSize: number,
): Generator<QueryResult<R>> {
  let rows: R[] = [];
  for (const row of connection.iterate<R>(sql, parameters)) {
    rows.push(row);
    if (rows.length >= chunkSize) {
      yield { rows };
      rows = [];
    }
  }
  if (rows.length > 0) {
    yield { rows };
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
