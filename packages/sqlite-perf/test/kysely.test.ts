import BetterSqlite3 from 'better-sqlite3';
import { SqliteDialect } from 'kysely';
import { describe, expect, it } from 'vitest';
import { type Database, type Generated, Kysely, type Migration, Migrator, sql } from '../src/index';
import { nextTurn, onCleanup, openTemp } from './helpers';

interface Schema {
  tools: { id: Generated<number>; name: string; kind: string };
}

async function toolsDb(config: Parameters<typeof openTemp>[0] = {}) {
  const db = openTemp(config);
  await db.write((tx) =>
    tx.exec(
      'CREATE TABLE tools (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, kind TEXT NOT NULL)',
    ),
  );
  return db;
}

async function seed(db: Database, count: number) {
  await db.insertMany(
    'tools',
    Array.from({ length: count }, (_, index) => ({
      name: `tool-${index}`,
      kind: index % 2 ? 'wasm' : 'js',
    })),
  );
}

describe('db.kysely', () => {
  it('returns the same rows as the stock SqliteDialect', async () => {
    const db = await toolsDb();
    await seed(db, 20);
    const stockConnection = new BetterSqlite3(db.path, { readonly: true });
    const stock = new Kysely<Schema>({ dialect: new SqliteDialect({ database: stockConnection }) });
    onCleanup(() => stock.destroy());
    const query = (k: Kysely<Schema>) =>
      k.selectFrom('tools').selectAll().where('kind', '=', 'wasm').orderBy('id').limit(5).execute();

    const ours = await query(db.kysely<Schema>());

    expect(ours).toEqual(await query(stock));
    expect(ours).toHaveLength(5);
  });

  it('inserts, updates and deletes through the writer', async () => {
    const db = await toolsDb();
    const k = db.kysely<Schema>();

    const inserted = await k
      .insertInto('tools')
      .values({ name: 'a', kind: 'js' })
      .executeTakeFirst();
    const updated = await k
      .updateTable('tools')
      .set({ kind: 'wasm' })
      .where('name', '=', 'a')
      .executeTakeFirst();
    const returned = await k
      .insertInto('tools')
      .values({ name: 'b', kind: 'js' })
      .returning(['id', 'name'])
      .executeTakeFirstOrThrow();
    const deleted = await k.deleteFrom('tools').where('name', '=', 'b').executeTakeFirst();

    expect(inserted.insertId).toBe(1n);
    expect(updated.numUpdatedRows).toBe(1n);
    expect(returned).toEqual({ id: 2, name: 'b' });
    expect(deleted.numDeletedRows).toBe(1n);
    expect(await db.query('SELECT name, kind FROM tools')).toEqual([{ name: 'a', kind: 'wasm' }]);
  });

  it('reads during a transaction see commits only', async () => {
    const db = await toolsDb();
    const k = db.kysely<Schema>();
    const order: string[] = [];

    await k.transaction().execute(async (trx) => {
      await trx.insertInto('tools').values({ name: 'pending', kind: 'js' }).execute();
      const outside = await k.selectFrom('tools').selectAll().execute();
      const inside = await trx.selectFrom('tools').selectAll().execute();
      expect(outside).toEqual([]);
      expect(inside).toHaveLength(1);
      // A plain write queues behind the transaction instead of interleaving with it.
      void db.write((tx) => {
        order.push('write');
        tx.run("INSERT INTO tools (name, kind) VALUES ('queued', 'js')");
      });
      await nextTurn();
      order.push('transaction end');
    });
    await db.write(() => undefined);

    expect(order).toEqual(['transaction end', 'write']);
    expect(await db.query('SELECT name FROM tools ORDER BY id')).toEqual([
      { name: 'pending' },
      { name: 'queued' },
    ]);
  });

  it('serializes concurrent transactions', async () => {
    const db = await toolsDb();
    const k = db.kysely<Schema>();
    await k.insertInto('tools').values({ name: 'counter', kind: '0' }).execute();
    const increment = () =>
      k.transaction().execute(async (trx) => {
        const row = await trx
          .selectFrom('tools')
          .select('kind')
          .where('name', '=', 'counter')
          .executeTakeFirstOrThrow();
        await nextTurn();
        await trx
          .updateTable('tools')
          .set({ kind: String(Number(row.kind) + 1) })
          .where('name', '=', 'counter')
          .execute();
      });

    await Promise.all(Array.from({ length: 20 }, increment));

    expect(await db.queryOne('SELECT kind FROM tools')).toEqual({ kind: '20' });
  });

  it('rolls back a transaction that throws', async () => {
    const db = await toolsDb();
    const k = db.kysely<Schema>();

    await expect(
      k.transaction().execute(async (trx) => {
        await trx.insertInto('tools').values({ name: 'gone', kind: 'js' }).execute();
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');

    expect(await db.query('SELECT * FROM tools')).toEqual([]);
    await k.insertInto('tools').values({ name: 'after', kind: 'js' }).execute();
    expect(await db.query('SELECT name FROM tools')).toEqual([{ name: 'after' }]);
  });

  it('rolls back to a savepoint in a controlled transaction', async () => {
    const db = await toolsDb();
    const k = db.kysely<Schema>();

    const trx = await k.startTransaction().execute();
    await trx.insertInto('tools').values({ name: 'kept', kind: 'js' }).execute();
    const savepoint = await trx.savepoint('before_second').execute();
    await savepoint.insertInto('tools').values({ name: 'undone', kind: 'js' }).execute();
    await savepoint.rollbackToSavepoint('before_second').execute();
    await trx.commit().execute();

    expect(await db.query('SELECT name FROM tools')).toEqual([{ name: 'kept' }]);
  });

  it('reuses cached statements for repeated queries', async () => {
    const db = await toolsDb();
    await seed(db, 5);
    const k = db.kysely<Schema>();
    const run = () => k.selectFrom('tools').select('name').where('id', '=', 3).execute();
    await run();
    const before = db.stats().statementCache;

    for (let index = 0; index < 10; index++) {
      await run();
    }

    const after = db.stats().statementCache;
    expect(after.misses).toBe(before.misses);
    expect(after.hits - before.hits).toBe(10);
  });

  it('sends SELECTs to reader workers', async () => {
    const db = await toolsDb({ readerThreads: 1 });
    await seed(db, 3);
    const before = db.stats().workers.completed;

    const rows = await db
      .kysely<Schema>()
      .selectFrom('tools')
      .select('name')
      .orderBy('id')
      .execute();

    expect(rows.map((row) => row.name)).toEqual(['tool-0', 'tool-1', 'tool-2']);
    expect(db.stats().workers.completed - before).toBe(1);
  });

  it('streams rows in chunks', async () => {
    const db = await toolsDb();
    await seed(db, 25);
    const names: string[] = [];

    for await (const row of db.kysely<Schema>().selectFrom('tools').select('name').stream(10)) {
      names.push(row.name);
    }

    expect(names).toHaveLength(25);
    expect(db.stats().readers.inUse).toBe(0);
  });

  it('runs raw sql through the writer', async () => {
    const db = await toolsDb();
    const result = await sql<{ n: number }>`SELECT count(*) AS n FROM tools`.execute(db.kysely());

    expect(result.rows).toEqual([{ n: 0 }]);
  });

  it('survives destroying one instance', async () => {
    const db = await toolsDb();
    const first = db.kysely<Schema>();
    await first.destroy();

    const second = db.kysely<Schema>();
    await second.insertInto('tools').values({ name: 'a', kind: 'js' }).execute();

    expect(await second.selectFrom('tools').select('name').execute()).toEqual([{ name: 'a' }]);
  });

  it("runs Kysely's Migrator", async () => {
    const db = openTemp();
    const migrations: Record<string, Migration> = {
      '0001_create': {
        async up(k: Kysely<unknown>) {
          await k.schema
            .createTable('notes')
            .addColumn('id', 'integer', (c) => c.primaryKey())
            .execute();
        },
      },
    };
    const migrator = new Migrator({
      db: db.kysely(),
      provider: { getMigrations: async () => migrations },
    });

    const { error, results } = await migrator.migrateToLatest();

    expect(error).toBeUndefined();
    expect(results?.map((result) => result.status)).toEqual(['Success']);
    expect(await db.query("SELECT name FROM sqlite_schema WHERE name = 'notes'")).toEqual([
      { name: 'notes' },
    ]);
  });
});
