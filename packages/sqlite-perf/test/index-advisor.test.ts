import { describe, expect, it } from 'vitest';
import { type Database, isSqlitePerfError } from '../src/index';
import { openTemp, rejectionOf } from './helpers';

async function shop(): Promise<Database> {
  const db = openTemp();
  await db.write((tx) =>
    tx.exec(`
      CREATE TABLE customers (id INTEGER PRIMARY KEY, country TEXT NOT NULL, name TEXT NOT NULL);
      CREATE TABLE orders (
        id INTEGER PRIMARY KEY,
        customer_id INTEGER NOT NULL REFERENCES customers (id),
        status TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        total REAL NOT NULL
      );
      CREATE INDEX orders_created_at ON orders (created_at);
    `),
  );
  await db.insertMany(
    'customers',
    Array.from({ length: 2_000 }, (_, id) => ({ id, country: `c${id % 50}`, name: `n${id}` })),
  );
  await db.insertMany(
    'orders',
    Array.from({ length: 20_000 }, (_, id) => ({
      id,
      customer_id: id % 2_000,
      status: ['new', 'paid', 'shipped', 'returned'][id % 4]!,
      created_at: 1_700_000_000 + id,
      total: id % 100,
    })),
  );
  return db;
}

const schemaOf = (db: Database) =>
  db.query<{ name: string }>("SELECT name FROM sqlite_schema WHERE type = 'index' ORDER BY name");

describe('db.adviseIndexes', () => {
  it('advises an equality index read-only', async () => {
    const db = await shop();
    const before = await schemaOf(db);

    const advice = await db.adviseIndexes(['SELECT * FROM orders WHERE customer_id = ?']);

    expect(advice).toHaveLength(1);
    expect(advice[0]).toMatchObject({
      table: 'orders',
      columns: ['customer_id'],
      createSql: 'CREATE INDEX IF NOT EXISTS "idx_orders_customer_id" ON "orders" ("customer_id")',
      queries: ['SELECT * FROM orders WHERE customer_id = ?'],
    });
    expect(advice[0]!.plans[0]!.before.join(' ')).toMatch(/SCAN orders/);
    expect(advice[0]!.plans[0]!.after.join(' ')).toContain('idx_orders_customer_id');
    expect(await schemaOf(db)).toEqual(before);
  });

  it('combines equality and range columns into one index', async () => {
    const db = await shop();

    const advice = await db.adviseIndexes([
      {
        sql: 'SELECT id FROM orders WHERE status = :status AND total > :min',
        params: { status: 'paid', min: 90 },
      },
    ]);

    expect(advice.map((index) => index.columns)).toContainEqual(['status', 'total']);
    // The single-column index on status helps the same query less, so only the wider one is kept.
    expect(advice.map((index) => index.columns)).not.toContainEqual(['status']);
  });

  it('advises both sides of a join', async () => {
    const db = await shop();
    const query =
      'SELECT o.id, o.total FROM customers AS c JOIN orders o ON o.customer_id = c.id WHERE c.country = ?';

    const advice = await db.adviseIndexes([query]);

    const indexes = advice.map((index) => `${index.table}(${index.columns.join(',')})`).sort();
    expect(indexes).toEqual(['customers(country)', 'orders(customer_id)']);
    for (const index of advice) {
      expect(index.queries).toEqual([query]);
      expect(index.plans[0]!.after.join(' ')).toContain(index.name);
    }
  });

  it('skips columns an index covers', async () => {
    const db = await shop();

    const advice = await db.adviseIndexes([
      'SELECT * FROM orders WHERE created_at > ? ORDER BY created_at LIMIT 10',
    ]);

    expect(advice).toEqual([]);
  });

  it('advises an index for ORDER BY', async () => {
    const db = await shop();

    const advice = await db.adviseIndexes(['SELECT id FROM customers ORDER BY name LIMIT 20']);

    expect(advice.map((index) => index.columns)).toEqual([['name']]);
  });

  it('creates the advised indexes only when apply is true', async () => {
    const db = await shop();

    const advice = await db.adviseIndexes(['SELECT * FROM orders WHERE customer_id = ?'], {
      apply: true,
    });

    expect((await schemaOf(db)).map((row) => row.name)).toContain(advice[0]!.name);
    expect(await db.adviseIndexes(['SELECT * FROM orders WHERE customer_id = ?'])).toEqual([]);
  });

  it('handles quoted names and queries over views', async () => {
    const db = openTemp();
    await db.write((tx) =>
      tx.exec(`
        CREATE TABLE "order items" (id INTEGER PRIMARY KEY, "order id" INTEGER, sku TEXT);
        CREATE VIEW skus AS SELECT DISTINCT sku FROM "order items";
      `),
    );
    await db.write((tx) => {
      for (let id = 0; id < 2_000; id++) {
        tx.run('INSERT INTO "order items" ("order id", sku) VALUES (?, ?)', [
          id % 300,
          `s${id % 40}`,
        ]);
      }
    });

    const advice = await db.adviseIndexes([
      'SELECT sku FROM "order items" WHERE "order id" = ?',
      'SELECT * FROM skus',
    ]);

    expect(advice.map((index) => index.columns)).toEqual([['order id']]);
    expect(advice[0]!.createSql).toBe(
      'CREATE INDEX IF NOT EXISTS "idx_order_items_order_id" ON "order items" ("order id")',
    );
  });

  it('reports a query the planner cannot plan', async () => {
    const db = await shop();
    const error = await rejectionOf(db.adviseIndexes(['SELECT * FROM nowhere WHERE x = 1']));

    expect(isSqlitePerfError(error, 'QUERY_FAILED')).toBe(true);
    expect((error as Error).message).toContain('nowhere');
  });

  it('rejects a query that is not SQL text', async () => {
    const db = await shop();
    const error = await rejectionOf(db.adviseIndexes([42 as unknown as string]));

    expect(isSqlitePerfError(error, 'INVALID_ARGUMENT')).toBe(true);
  });
});
