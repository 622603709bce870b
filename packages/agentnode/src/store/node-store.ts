import {
  type Database,
  type DatabaseConfig,
  type Kysely,
  openDatabase,
  SqlitePerfError,
} from '@agentnode/sqlite-perf';
import { ExecutionLogWriter, type ExecutionLogWriterConfig, fromRow } from './execution-log-writer';
import { migrateStore } from './migrations';
import { CALL_STATUSES, type ExecutionLogRecord, type StoreSchema } from './schema';
import { ToolStore } from './tool-store';

/** Configuration of {@link openNodeStore}: the database settings plus the log's batching. */
export interface NodeStoreConfig extends DatabaseConfig {
  readonly executionLog?: ExecutionLogWriterConfig;
}

/** Filters of {@link NodeStore.listExecutions}. */
export interface ListExecutionsOptions {
  readonly routerKey?: string;
  readonly status?: ExecutionLogRecord['status'];
  /** Only calls that started at or after this time, epoch ms. */
  readonly since?: number;
  /** Rows at most, newest first. @default 100 */
  readonly limit?: number;
}

/**
 * The node's own state in one SQLite file: tool definitions and the log of
 * finished calls, with the schema migrated on open.
 */
export class NodeStore {
  /** The tuned database the store runs on. */
  readonly database: Database;
  /** Typed Kysely access to the store's tables. */
  readonly db: Kysely<StoreSchema>;
  readonly tools: ToolStore;
  /** Batches finished calls into `executions`; also core's `ExecutionLog` port. */
  readonly executionLog: ExecutionLogWriter;
  #closing: Promise<void> | undefined;

  constructor(database: Database, config: NodeStoreConfig = {}) {
    this.database = database;
    this.db = database.kysely<StoreSchema>();
    this.tools = new ToolStore(this.db);
    this.executionLog = new ExecutionLogWriter(database, {
      ...config.executionLog,
      ...(config.logger !== undefined &&
        config.executionLog?.logger === undefined && { logger: config.logger }),
    });
  }

  /** Finished calls, newest first. Records still buffered in the log are not included. */
  async listExecutions(options: ListExecutionsOptions = {}): Promise<ExecutionLogRecord[]> {
    const limit = options.limit ?? 100;
    if (!Number.isSafeInteger(limit) || limit < 1) {
      throw new SqlitePerfError(
        'INVALID_ARGUMENT',
        `Invalid limit ${String(limit)}: must be an integer >= 1.`,
      );
    }
    if (options.status !== undefined && !CALL_STATUSES.includes(options.status)) {
      throw new SqlitePerfError(
        'INVALID_ARGUMENT',
        `Invalid status ${JSON.stringify(options.status)}: must be one of ${CALL_STATUSES.join(', ')}.`,
      );
    }
    let query = this.db.selectFrom('executions').selectAll();
    if (options.routerKey !== undefined) {
      query = query.where('router_key', '=', options.routerKey);
    }
    if (options.status !== undefined) {
      query = query.where('status', '=', options.status);
    }
    if (options.since !== undefined) {
      query = query.where('started_at', '>=', Math.floor(options.since));
    }
    const rows = await query.orderBy('started_at', 'desc').orderBy('id').limit(limit).execute();

    return rows.map(fromRow);
  }

  /** Writes every buffered execution record, then closes the database. Safe to call twice. */
  close(): Promise<void> {
    this.#closing ??= this.executionLog.close().finally(() => this.database.close());

    return this.#closing;
  }
}

/**
 * Opens (creating if needed) the node's store at `path` and migrates its schema.
 *
 * @example
 * import { openNodeStore } from 'agentnode';
 * const store = await openNodeStore('node.db', { executionLog: { maxBatchSize: 500 } });
 * await store.tools.upsert({ key: 'local:::me:::echo', kind: 'function' });
 * await store.close();
 */
export async function openNodeStore(
  path: string,
  config: NodeStoreConfig = {},
): Promise<NodeStore> {
  const { executionLog: _executionLog, ...databaseConfig } = config;
  const database = openDatabase(path, { name: 'store', ...databaseConfig });
  try {
    await migrateStore(database);
  } catch (error) {
    await database.close();
    throw error;
  }

  return new NodeStore(database, config);
}
