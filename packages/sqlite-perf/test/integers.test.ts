import { describe, expect, it } from 'vitest';
import { isSqlitePerfError } from '../src/index';
import { openTemp, rejectionOf } from './helpers';

// `loose` has no declared type, so SQLite keeps values as bound: a REAL stays REAL.
async function numbersTable() {
  const db = openTemp();
  await db.write((tx) => tx.exec('CREATE TABLE n (id INTEGER PRIMARY KEY, big INTEGER, loose)'));
  return db;
}

describe('integers', () => {
  it.each([
    ['max int64', 2n ** 63n - 1n],
    ['min int64', -(2n ** 63n)],
    ['2^53 + 1', 2n ** 53n + 1n],
  ])('round-trips %s exactly as a bigint', async (_name, value) => {
    const db = await numbersTable();
    await db.write((tx) => tx.run('INSERT INTO n (big) VALUES (?)', [value]));

    const row = await db.queryOne<{ big: bigint }>('SELECT big FROM n', [], { integers: 'bigint' });

    expect(row?.big).toBe(value);
  });

  it('rejects a number beyond 2^53 that JS already rounded', async () => {
    const db = await numbersTable();
    const error = await rejectionOf(
      db.write((tx) => tx.run('INSERT INTO n (big) VALUES (?)', [2 ** 60])),
    );

    expect(isSqlitePerfError(error, 'UNSAFE_INTEGER')).toBe(true);
    expect((error as Error).message).toContain('bigint');
    expect(await db.query('SELECT * FROM n')).toEqual([]);
  });

  it('rejects a bigint outside the 64-bit range', async () => {
    const db = await numbersTable();
    const error = await rejectionOf(
      db.write((tx) => tx.run('INSERT INTO n (big) VALUES (?)', [2n ** 63n])),
    );

    expect(isSqlitePerfError(error, 'UNSAFE_INTEGER')).toBe(true);
  });

  it('stores an integer-valued number as INTEGER, not REAL', async () => {
    const db = await numbersTable();
    await db.write((tx) => tx.run('INSERT INTO n (loose) VALUES (?)', [5]));
    await db.write((tx) => tx.run('INSERT INTO n (loose) VALUES (:value)', { value: 7 }));
    await db.write((tx) => tx.run('INSERT INTO n (loose) VALUES (?)', [2.5]));
    await db.write((tx) => tx.run('INSERT INTO n (loose) VALUES (5.0)'));

    expect(await db.query('SELECT loose, typeof(loose) AS type FROM n ORDER BY id')).toEqual([
      { loose: 5, type: 'integer' },
      { loose: 7, type: 'integer' },
      { loose: 2.5, type: 'real' },
      // The same value written as a REAL literal stays REAL in this column.
      { loose: 5, type: 'real' },
    ]);
  });

  it('rejects NaN instead of storing NULL', async () => {
    const db = await numbersTable();
    const error = await rejectionOf(
      db.write((tx) => tx.run('INSERT INTO n (loose) VALUES (?)', [Number.NaN])),
    );

    expect(isSqlitePerfError(error, 'INVALID_ARGUMENT')).toBe(true);
  });

  it('raises UNSAFE_INTEGER instead of rounding on a number read', async () => {
    const db = await numbersTable();
    await db.write((tx) => tx.run('INSERT INTO n (big) VALUES (?)', [2n ** 53n + 1n]));

    const error = await rejectionOf(db.query('SELECT big FROM n'));

    expect(isSqlitePerfError(error, 'UNSAFE_INTEGER')).toBe(true);
    expect((error as Error).message).toContain('"big"');
  });

  it('returns a REAL beyond 2^53 as a number', async () => {
    const db = await numbersTable();
    // A REAL literal: as a parameter, 1e20 would be rejected as an unsafe integer.
    await db.write((tx) => tx.run('INSERT INTO n (loose) VALUES (1e20)'));

    expect(await db.query('SELECT loose, typeof(loose) AS type FROM n')).toEqual([
      { loose: 1e20, type: 'real' },
    ]);
    expect(await db.read((conn) => conn.get('SELECT loose FROM n'))).toEqual({ loose: 1e20 });
  });

  it('returns a REAL beyond 2^53 from a reader worker', async () => {
    const db = openTemp({ readerThreads: 1 });
    await db.write((tx) => tx.exec('CREATE TABLE n (id INTEGER PRIMARY KEY, loose)'));
    await db.write((tx) => tx.run('INSERT INTO n (loose) VALUES (1e20)'));

    expect(await db.query('SELECT loose FROM n')).toEqual([{ loose: 1e20 }]);
  });

  it('raises UNSAFE_INTEGER from a RETURNING clause too', async () => {
    const db = await numbersTable();
    const error = await rejectionOf(
      db.write((tx) => tx.all('INSERT INTO n (big) VALUES (?) RETURNING big', [2n ** 60n + 1n])),
    );

    expect(isSqlitePerfError(error, 'UNSAFE_INTEGER')).toBe(true);
  });

  it('returns every integer as a bigint in bigint mode', async () => {
    const db = openTemp({ integers: 'bigint' });
    await db.write((tx) =>
      tx.exec('CREATE TABLE n (id INTEGER PRIMARY KEY, small INTEGER, r REAL)'),
    );
    await db.write((tx) => tx.run('INSERT INTO n (small, r) VALUES (?, ?)', [1, 1.5]));

    expect(await db.query('SELECT id, small, r FROM n')).toEqual([{ id: 1n, small: 1n, r: 1.5 }]);
  });

  it('binds booleans as 1 and 0', async () => {
    const db = await numbersTable();
    await db.write((tx) => tx.run('INSERT INTO n (loose) VALUES (?), (?)', [true, false]));

    expect(await db.query('SELECT loose FROM n ORDER BY id')).toEqual([{ loose: 1 }, { loose: 0 }]);
  });

  it('applies the same rules in reader workers', async () => {
    const db = openTemp({ readerThreads: 1 });
    await db.write((tx) => tx.exec('CREATE TABLE n (id INTEGER PRIMARY KEY, big INTEGER)'));
    await db.write((tx) => tx.run('INSERT INTO n (big) VALUES (?)', [2n ** 62n]));

    expect(
      isSqlitePerfError(await rejectionOf(db.query('SELECT big FROM n')), 'UNSAFE_INTEGER'),
    ).toBe(true);
    expect(await db.query('SELECT big FROM n', [], { integers: 'bigint' })).toEqual([
      { big: 2n ** 62n },
    ]);
  });
});
