import {
  type Database,
  type Kysely,
  type Migration,
  type MigrationResultSet,
  Migrator,
  SqlitePerfError,
  sql,
} from '@agentnode/sqlite-perf';

/** Name of the table that records which store migrations ran. */
export const MIGRATION_TABLE = 'agentnode_migrations';

/**
 * The store's migrations, applied in name order. A released migration is never
 * edited; a schema change is a new entry with the next number.
 */
export const STORE_MIGRATIONS: Readonly<Record<string, Migration>> = Object.freeze({
  '0001_create_tools': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('tools')
        .addColumn('key', 'text', (column) => column.primaryKey())
        .addColumn('kind', 'text', (column) => column.notNull())
        .addColumn('description', 'text')
        .addColumn('definition', 'text', (column) => column.notNull())
        .addColumn('created_at', 'integer', (column) => column.notNull())
        .addColumn('updated_at', 'integer', (column) => column.notNull())
        .execute();
      await db.schema.createIndex('tools_kind').on('tools').column('kind').execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.dropTable('tools').execute();
    },
  },
  '0002_create_executions': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('executions')
        .addColumn('id', 'text', (column) => column.primaryKey())
        .addColumn('router_key', 'text', (column) => column.notNull())
        .addColumn('kind', 'text', (column) => column.notNull())
        .addColumn('status', 'text', (column) =>
          column.notNull().check(sql`status IN ('ok', 'error', 'timeout', 'aborted')`),
        )
        .addColumn('duration_ms', 'real', (column) => column.notNull())
        .addColumn('error_code', 'text')
        .addColumn('started_at', 'integer', (column) => column.notNull())
        .addColumn('finished_at', 'integer', (column) => column.notNull())
        .execute();
      await db.schema
        .createIndex('executions_router_key_started_at')
        .on('executions')
        .columns(['router_key', 'started_at'])
        .execute();
      await db.schema
        .createIndex('executions_started_at')
        .on('executions')
        .column('started_at')
        .execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.dropTable('executions').execute();
    },
  },
});

/** Creates a migrator over the store's migrations, for `migrateToLatest`, `migrateDown` and the rest. */
export function createStoreMigrator(database: Database): Migrator {
  return new Migrator({
    db: database.kysely(),
    provider: { getMigrations: async () => ({ ...STORE_MIGRATIONS }) },
    migrationTableName: MIGRATION_TABLE,
    migrationLockTableName: `${MIGRATION_TABLE}_lock`,
  });
}

/**
 * Brings the store's schema to the latest version and returns the names of the
 * migrations that ran now (empty when it was already current).
 *
 * @example
 * import { openDatabase } from '@agentnode/sqlite-perf';
 * import { migrateStore } from 'agentnode';
 * const database = openDatabase('node.db');
 * await migrateStore(database);
 */
export async function migrateStore(database: Database): Promise<string[]> {
  const { error, results }: MigrationResultSet =
    await createStoreMigrator(database).migrateToLatest();
  if (error !== undefined) {
    const failed = results?.find((result) => result.status === 'Error')?.migrationName;
    throw new SqlitePerfError(
      'QUERY_FAILED',
      `Store migration ${failed ?? '(before any migration ran)'} failed: ${
        error instanceof Error ? error.message : String(error)
      }`,
      { cause: error },
    );
  }

  return (results ?? [])
    .filter((result) => result.status === 'Success')
    .map((result) => result.migrationName);
}
