import { createMetricsRegistry } from '@agentnode/metrics';
import BetterSqlite3 from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { onCleanup, openTemp } from './helpers';

/** The value of one sample line of the exposition text, or undefined. */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  const wanted = Object.entries(labels).map(([key, value]) => `${key}="${value}"`);
  for (const line of text.split('\n')) {
    if (line.startsWith(`${name}{`) && wanted.every((label) => line.includes(label))) {
      return Number(line.slice(line.lastIndexOf(' ') + 1));
    }
  }
  return undefined;
}

describe('metrics', () => {
  it('records every agentnode_db metric with a database label', async () => {
    const metrics = createMetricsRegistry({ collectSystem: false });
    onCleanup(() => metrics.close());
    const db = openTemp({
      metrics,
      name: 'store',
      pragmas: { busyTimeoutMs: 0 },
      busyRetryBaseDelayMs: 1,
    });
    await db.write((tx) => tx.exec('CREATE TABLE t (id INTEGER PRIMARY KEY)'));
    for (let id = 0; id < 5; id++) {
      await db.write((tx) => tx.run('INSERT INTO t (id) VALUES (?)', [id]));
    }
    await db.read((conn) => conn.all('SELECT * FROM t'));
    await db.query('SELECT count(*) FROM t');
    await db.insertMany('t', [{ id: 100 }]);
    await db.checkpoint('truncate');
    const other = new BetterSqlite3(db.path);
    other.exec('BEGIN IMMEDIATE');
    setTimeout(() => other.exec('COMMIT'), 10);
    await db.write((tx) => tx.run('INSERT INTO t (id) VALUES (200)'));
    other.close();

    const text = await metrics.metrics();
    const db_ = { database: 'store' };

    expect(
      sample(text, 'agentnode_db_query_duration_seconds_count', {
        ...db_,
        operation: 'write',
        status: 'ok',
      }),
    ).toBeGreaterThanOrEqual(7);
    expect(
      sample(text, 'agentnode_db_query_duration_seconds_count', {
        ...db_,
        operation: 'read',
        status: 'ok',
      }),
    ).toBe(1);
    expect(
      sample(text, 'agentnode_db_query_duration_seconds_count', {
        ...db_,
        operation: 'query',
        status: 'ok',
      }),
    ).toBe(1);
    expect(
      sample(text, 'agentnode_db_query_duration_seconds_count', {
        ...db_,
        operation: 'insert_many',
        status: 'ok',
      }),
    ).toBe(1);
    expect(
      sample(text, 'agentnode_db_busy_retries_total', { ...db_, operation: 'write' }),
    ).toBeGreaterThan(0);
    expect(
      sample(text, 'agentnode_db_checkpoints_total', { ...db_, mode: 'truncate', result: 'ok' }),
    ).toBe(1);
    expect(
      sample(text, 'agentnode_db_statement_cache_lookups_total', { ...db_, result: 'hit' }),
    ).toBeGreaterThan(0);
    expect(
      sample(text, 'agentnode_db_statement_cache_lookups_total', { ...db_, result: 'miss' }),
    ).toBeGreaterThan(0);
    expect(sample(text, 'agentnode_db_statement_cache_hit_ratio', db_)).toBeGreaterThan(0);
    expect(
      sample(text, 'agentnode_db_pool_connections', { ...db_, role: 'reader', state: 'idle' }),
    ).toBeGreaterThanOrEqual(1);
    expect(
      sample(text, 'agentnode_db_pool_connections', { ...db_, role: 'writer', state: 'idle' }),
    ).toBe(1);
    expect(sample(text, 'agentnode_db_write_queue_depth', db_)).toBe(0);
    expect(sample(text, 'agentnode_db_wal_size_bytes', db_)).toBeGreaterThanOrEqual(0);
    expect(text).toContain('agentnode_db_pool_acquire_wait_seconds_count{database="store"}');
  });

  it('keeps two databases on one registry apart', async () => {
    const metrics = createMetricsRegistry({ collectSystem: false });
    onCleanup(() => metrics.close());
    const first = openTemp({ metrics, name: 'first' }, 'first.db');
    const second = openTemp({ metrics, name: 'second' }, 'second.db');
    await first.write((tx) => tx.exec('CREATE TABLE t (id INTEGER)'));
    await second.write((tx) => tx.exec('CREATE TABLE t (id INTEGER)'));
    await second.write((tx) => tx.run('INSERT INTO t VALUES (1)'));

    const text = await metrics.metrics();

    const writes = (database: string) =>
      sample(text, 'agentnode_db_query_duration_seconds_count', {
        database,
        operation: 'write',
        status: 'ok',
      });
    expect(writes('first')).toBe(1);
    expect(writes('second')).toBe(2);
    expect(sample(text, 'agentnode_db_write_queue_depth', { database: 'first' })).toBe(0);
    expect(sample(text, 'agentnode_db_write_queue_depth', { database: 'second' })).toBe(0);
  });

  it('stops reporting gauges after close()', async () => {
    const metrics = createMetricsRegistry({ collectSystem: false });
    onCleanup(() => metrics.close());
    const db = openTemp({ metrics, name: 'gone' });
    await db.close();

    const text = await metrics.metrics();

    expect(sample(text, 'agentnode_db_write_queue_depth', { database: 'gone' })).toBeUndefined();
  });
});
