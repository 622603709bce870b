import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  createStoreMigrator,
  MIGRATION_TABLE,
  migrateStore,
  openNodeStore,
} from '../src/store/index';
import { openTempStore, tempDir } from './store-helpers';

describe('openNodeStore', () => {
  it('creates the tools and executions tables through versioned migrations', async () => {
    const store = await openTempStore();

    const tables = await store.database.query<{ name: string }>(
      "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
    );
    const applied = await store.database.query<{ name: string }>(
      `SELECT name FROM ${MIGRATION_TABLE} ORDER BY name`,
    );

    expect(tables.map((table) => table.name)).toEqual(
      expect.arrayContaining(['executions', 'tools', MIGRATION_TABLE]),
    );
    expect(applied.map((migration) => migration.name)).toEqual([
      '0001_create_tools',
      '0002_create_executions',
    ]);
  });

  it('runs no migration twice when reopened', async () => {
    const path = join(tempDir(), 'node.db');
    const first = await openNodeStore(path, { healthCheckIntervalMs: 0 });
    await first.tools.upsert({ key: 'local:::me:::echo', kind: 'function' });
    await first.close();

    const second = await openTempStore(undefined, path);

    expect(await migrateStore(second.database)).toEqual([]);
    expect((await second.tools.get('local:::me:::echo'))?.definition.kind).toBe('function');
  });

  it('migrates down and up again', async () => {
    const store = await openTempStore();
    const migrator = createStoreMigrator(store.database);

    await migrator.migrateDown();
    const afterDown = await store.database.query(
      "SELECT name FROM sqlite_schema WHERE name = 'executions'",
    );
    const { error } = await migrator.migrateToLatest();

    expect(afterDown).toEqual([]);
    expect(error).toBeUndefined();
    expect(await store.listExecutions()).toEqual([]);
  });
});

describe('ToolStore', () => {
  it('stores, reads, lists and removes definitions', async () => {
    const store = await openTempStore();
    await store.tools.upsert({
      key: 'local:::me:::echo',
      kind: 'function',
      description: 'Echoes its input.',
      parameters: { type: 'object' },
      timeoutMs: 5_000,
    });
    await store.tools.upsert({
      key: 'hub:::acme:::resize:::1',
      kind: 'wasm',
      spec: { entry: 'run' },
    });

    const echo = await store.tools.get('local:::me:::echo');
    const wasm = await store.tools.list({ kind: 'wasm' });

    expect(echo?.definition).toEqual({
      key: 'local:::me:::echo',
      kind: 'function',
      description: 'Echoes its input.',
      parameters: { type: 'object' },
      timeoutMs: 5_000,
    });
    expect(wasm.map((tool) => tool.definition.key)).toEqual(['hub:::acme:::resize:::1']);
    expect((await store.tools.list()).map((tool) => tool.definition.key)).toEqual([
      'hub:::acme:::resize:::1',
      'local:::me:::echo',
    ]);
    expect(await store.tools.remove('local:::me:::echo')).toBe(true);
    expect(await store.tools.remove('local:::me:::echo')).toBe(false);
    expect(await store.tools.get('local:::me:::echo')).toBeUndefined();
  });

  it('replaces a definition and keeps its creation time', async () => {
    const store = await openTempStore();
    await store.tools.upsert({ key: 'local:::me:::echo', kind: 'function', description: 'v1' });
    const first = await store.tools.get('local:::me:::echo');

    await store.tools.upsert({ key: 'local:::me:::echo', kind: 'function', description: 'v2' });
    const second = await store.tools.get('local:::me:::echo');

    expect(second?.definition.description).toBe('v2');
    expect(second?.createdAt).toBe(first?.createdAt);
    expect(second!.updatedAt).toBeGreaterThanOrEqual(first!.updatedAt);
  });

  it('leaves the handler out and rejects binary data', async () => {
    const store = await openTempStore();
    await store.tools.upsert({
      key: 'local:::me:::fn',
      kind: 'function',
      handler: () => 1,
    } as never);

    expect((await store.tools.get('local:::me:::fn'))?.definition).toEqual({
      key: 'local:::me:::fn',
      kind: 'function',
    });
    await expect(
      store.tools.upsert({
        key: 'local:::me:::bin',
        kind: 'wasm',
        spec: { bytes: new Uint8Array(4) },
      }),
    ).rejects.toThrow(/binary data/);
    await expect(store.tools.upsert({ key: '', kind: 'wasm' })).rejects.toThrow(/key/);
  });
});
