import type { ToolDefinition } from '@agentnode/core';
import { type Kysely, SqlitePerfError } from '@agentnode/sqlite-perf';
import type { StoreSchema, ToolsTable } from './schema';

/** A tool definition as stored: everything but the handler, which is code. */
export type StoredToolDefinition = Omit<ToolDefinition, 'handler'>;

/** A stored tool with its timestamps. */
export interface StoredTool {
  readonly definition: StoredToolDefinition;
  /** Milliseconds since the epoch. */
  readonly createdAt: number;
  /** Milliseconds since the epoch. */
  readonly updatedAt: number;
}

/**
 * The `tools` table: tool definitions by router key, read and written through Kysely.
 *
 * Note: a definition is stored as JSON, so `spec` and `parameters` must be
 * JSON-serializable. Binary data (a WASM module's bytes) is rejected. It belongs in a
 * file or blob store that the spec points to.
 */
export class ToolStore {
  readonly #db: Kysely<StoreSchema>;
  readonly #now: () => number;

  constructor(db: Kysely<StoreSchema>, now: () => number = Date.now) {
    this.#db = db;
    this.#now = now;
  }

  /** Inserts or replaces the definition stored under `definition.key`. */
  async upsert(definition: StoredToolDefinition): Promise<void> {
    const row = toRow(definition, this.#now());
    await this.#db
      .insertInto('tools')
      .values(row)
      .onConflict((conflict) =>
        conflict.column('key').doUpdateSet({
          kind: row.kind,
          description: row.description,
          definition: row.definition,
          updated_at: row.updated_at,
        }),
      )
      .execute();
  }

  /** Returns the tool stored under `key`, or `undefined`. */
  async get(key: string): Promise<StoredTool | undefined> {
    const row = await this.#db
      .selectFrom('tools')
      .selectAll()
      .where('key', '=', key)
      .executeTakeFirst();

    return row === undefined ? undefined : fromRow(row);
  }

  /** Lists every stored tool, optionally of one kind, ordered by key. */
  async list(options: { readonly kind?: string } = {}): Promise<StoredTool[]> {
    let query = this.#db.selectFrom('tools').selectAll().orderBy('key');
    if (options.kind !== undefined) {
      query = query.where('kind', '=', options.kind);
    }

    return (await query.execute()).map(fromRow);
  }

  /** Deletes the tool stored under `key`; resolves whether one was there. */
  async remove(key: string): Promise<boolean> {
    const result = await this.#db.deleteFrom('tools').where('key', '=', key).executeTakeFirst();

    return result.numDeletedRows > 0n;
  }
}

function toRow(definition: StoredToolDefinition, now: number): ToolsTable {
  if (typeof definition?.key !== 'string' || definition.key.length === 0) {
    throw invalid(definition?.key, 'key must be a non-empty router key');
  }
  if (typeof definition.kind !== 'string' || definition.kind.length === 0) {
    throw invalid(definition.key, 'kind must be a non-empty string');
  }
  const { handler: _handler, ...stored } = definition as ToolDefinition;

  return {
    key: definition.key,
    kind: definition.kind,
    description: definition.description ?? null,
    definition: JSON.stringify(stored, (name, value: unknown) => {
      if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) {
        throw invalid(
          definition.key,
          `${name || 'the definition'} holds binary data, which is not stored`,
        );
      }
      return value;
    }),
    created_at: now,
    updated_at: now,
  };
}

function fromRow(row: ToolsTable): StoredTool {
  return {
    definition: JSON.parse(row.definition) as StoredToolDefinition,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function invalid(key: unknown, rule: string): SqlitePerfError {
  return new SqlitePerfError(
    'INVALID_ARGUMENT',
    `Invalid tool definition ${JSON.stringify(key ?? null)}: ${rule}.`,
  );
}
