import { describe, expect, it } from 'vitest';
import { openTemp } from './helpers';

describe('statement cache', () => {
  it('counts hits for repeated SQL', async () => {
    const db = openTemp();
    await db.write((tx) => tx.exec('CREATE TABLE t (id INTEGER PRIMARY KEY)'));
    const before = db.stats().statementCache;

    for (let id = 0; id < 100; id++) {
      await db.write((tx) => tx.run('INSERT INTO t (id) VALUES (?)', [id]));
    }

    const after = db.stats().statementCache;
    expect(after.misses - before.misses).toBe(1);
    expect(after.hits - before.hits).toBe(99);
    expect(after.hitRate).toBeGreaterThan(0.9);
  });

  it('evicts the least recently used statement when full', async () => {
    const db = openTemp({ statementCacheSize: 2 });
    const queries = ['SELECT 1', 'SELECT 2', 'SELECT 3'];
    const misses = () => db.stats().statementCache.misses;

    await db
      .read((conn) => {
        conn.get(queries[0]!);
        conn.get(queries[1]!);
        conn.get(queries[0]!); // SELECT 1 is now the most recent, SELECT 2 the oldest
        const beforeThird = misses();
        conn.get(queries[2]!); // evicts SELECT 2
        conn.get(queries[0]!); // still cached
        const afterKept = misses();
        conn.get(queries[1]!); // was evicted: prepared again
        return { beforeThird, afterKept, cached: conn.cachedStatements };
      })
      .then(({ beforeThird, afterKept, cached }) => {
        expect(afterKept - beforeThird).toBe(1);
        expect(misses() - afterKept).toBe(1);
        expect(cached).toBe(2);
      });
  });

  it('does not cache SQL that fails to prepare', async () => {
    const db = openTemp();
    const result = await db.read((conn) => {
      try {
        conn.get('SELEKT 1');
      } catch {
        // expected
      }
      return conn.cachedStatements;
    });

    expect(result).toBe(0);
  });
});
