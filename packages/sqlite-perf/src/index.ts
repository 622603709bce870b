// The Kysely API this package is built on, re-exported so callers (the node's store)
// use the same copy of Kysely as the dialect.
export {
  type ColumnType,
  type Generated,
  type Insertable,
  Kysely,
  type Migration,
  type MigrationProvider,
  type MigrationResultSet,
  Migrator,
  type Selectable,
  sql,
  type Updateable,
} from 'kysely';
export {
  BatchWriter,
  type BatchWriterConfig,
  type BatchWriterStats,
} from './batch-writer';
export type { CheckpointMode, CheckpointResult, CheckpointStats } from './checkpoint-policy';
export type {
  CheckpointConfig,
  DatabaseConfig,
  IntegerMode,
  Logger,
  PragmaConfig,
  ResolvedDatabaseConfig,
} from './config';
export { Connection, type ExecuteResult, type QueryOptions, type RunResult } from './connection';
export { Database, type DatabaseStats, type HealthReport, openDatabase } from './database';
export type { DatabaseOperation } from './database-metrics';
export {
  isSqlitePerfError,
  SqlitePerfError,
  type SqlitePerfErrorCode,
  type SqlitePerfErrorOptions,
} from './errors';
export { quoteIdentifier } from './identifiers';
export type { AdvisedQuery, AdviseIndexesOptions, IndexAdvice } from './index-advisor';
export { type InsertManyOptions, type InsertManyResult, MAX_VARIABLES } from './insert-many';
export type { SqlParameters } from './integers';
export type { AgentnodeSqliteDialect } from './kysely-dialect';
export type { ConnectionPragmas, ConnectionRole } from './pragmas';
export type { ReadCallback, ReaderPoolStats } from './reader-pool';
export type { BeginMode, WriteCallback, WriteOptions } from './writer-queue';
