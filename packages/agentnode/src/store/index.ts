export {
  ExecutionLogWriter,
  type ExecutionLogWriterConfig,
  fromCoreRecord,
} from './execution-log-writer';
export { createStoreMigrator, MIGRATION_TABLE, migrateStore, STORE_MIGRATIONS } from './migrations';
export {
  type ListExecutionsOptions,
  NodeStore,
  type NodeStoreConfig,
  openNodeStore,
} from './node-store';
export {
  CALL_STATUSES,
  type ExecutionLogRecord,
  type ExecutionsTable,
  type StoreSchema,
  type ToolsTable,
} from './schema';
export { type StoredTool, type StoredToolDefinition, ToolStore } from './tool-store';
