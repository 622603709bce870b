import { describe, expect, it } from 'vitest';
import { isSqlitePerfError, MAX_VARIABLES } from '../src/index';
import { openTemp, rejectionOf } from './helpers';

async function eventsTable() {
  const db = openTemp();
  await db.write((tx) =>
    tx.exec('CREATE TABLE events (id INTEGER PRIMARY KEY, kind TEXT NOT NULL, at INTEGER)'),
  );
  return db;
}

const rowsOf = (count: number, from = 0) =>
  Array.from({ length: count }, (_, index) => ({ id: from + index, kind: 'tick', at: index }));

describe('db.insertMany', () => {
  it('inserts every row, one transaction per chunk', async () => {
    const db = await eventsTable();

    const result = await db.insertMany('events', rowsOf(2_500), { chunkSize: 1_000 });

    expect(result).toEqual({ inserted: 2_500, chunks: 3 });
    expect(await db.queryOne('SELECT count(*) AS n, sum(at) AS total FROM events')).toEqual({
      n: 2_500,
      total: (2_499 * 2_500) / 2,
    });
  });

  it('splits wide chunks to stay under the variable limit', async () => {
    const db = openTemp();
    const columns = Array.from({ length: 100 }, (_, index) => `c${index}`);
    await db.write((tx) =>
      tx.exec(`CREATE TABLE wide (${columns.map((column) => `${column} INTEGER`).join(', ')})`),
    );
    const rows = Array.from({ length: 1_000 }, (_, row) =>
      Object.fromEntries(columns.map((column, index) => [column, row * 100 + index])),
    );
    // 100,000 values in one chunk: far above what one statement may bind.
    expect(rows.length * columns.length).toBeGreaterThan(MAX_VARIABLES);

    const result = await db.insertMany('wide', rows, { chunkSize: 1_000 });

    expect(result).toEqual({ inserted: 1_000, chunks: 1 });
    expect(await db.queryOne('SELECT count(*) AS n, max(c99) AS last FROM wide')).toEqual({
      n: 1_000,
      last: 999 * 100 + 99,
    });
  });

  it('names the row of a failed chunk', async () => {
    const db = await eventsTable();
    const rows = rowsOf(250);
    rows[180] = { id: 180, kind: null as unknown as string, at: 0 };

    const error = await rejectionOf(db.insertMany('events', rows, { chunkSize: 100 }));

    expect(isSqlitePerfError(error, 'INSERT_FAILED')).toBe(true);
    expect((error as { rowIndex?: number }).rowIndex).toBe(180);
    expect((error as { sqliteCode?: string }).sqliteCode).toBe('SQLITE_CONSTRAINT_NOTNULL');
    expect((error as Error).message).toContain('row 180');
    // The first chunk stays committed; the failed chunk left nothing behind.
    expect(await db.queryOne('SELECT count(*) AS n, max(id) AS last FROM events')).toEqual({
      n: 100,
      last: 99,
    });
  });

  it.each([
    ['a table name with SQL', 'events; DROP TABLE events', undefined],
    ['a quoted table name', '"events"', undefined],
    ['a column name with SQL', 'events', ['id', 'kind) VALUES (1,2); --']],
  ])('rejects %s before writing', async (_case, table, columns) => {
    const db = await eventsTable();
    const error = await rejectionOf(
      db.insertMany(table, [{ id: 1, kind: 'x', at: 1 }], columns ? { columns } : {}),
    );

    expect(isSqlitePerfError(error, 'INVALID_IDENTIFIER')).toBe(true);
    expect(await db.queryOne('SELECT count(*) AS n FROM events')).toEqual({ n: 0 });
  });

  it('rejects rows whose keys differ from the first row', async () => {
    const db = await eventsTable();
    const error = await rejectionOf(
      db.insertMany('events', [
        { id: 1, kind: 'a', at: 1 },
        { id: 2, kind: 'b', when: 2 },
      ]),
    );

    expect(isSqlitePerfError(error, 'INVALID_ARGUMENT')).toBe(true);
    expect((error as { rowIndex?: number }).rowIndex).toBe(1);
  });

  it('skips conflicting rows with onConflict ignore', async () => {
    const db = await eventsTable();
    await db.insertMany('events', rowsOf(10));

    const result = await db.insertMany('events', rowsOf(20), { onConflict: 'ignore' });

    expect(result.inserted).toBe(10);
    expect(await db.queryOne('SELECT count(*) AS n FROM events')).toEqual({ n: 20 });
  });

  it('accepts schema-qualified tables and an empty input', async () => {
    const db = await eventsTable();

    expect(await db.insertMany('main.events', rowsOf(3))).toEqual({ inserted: 3, chunks: 1 });
    expect(await db.insertMany('events', [])).toEqual({ inserted: 0, chunks: 0 });
  });

  it('rejects an invalid chunk size', async () => {
    const db = await eventsTable();
    const error = await rejectionOf(db.insertMany('events', rowsOf(3), { chunkSize: 0 }));

    expect(isSqlitePerfError(error, 'INVALID_ARGUMENT')).toBe(true);
    expect((error as Error).message).toContain('chunkSize');
  });
});
