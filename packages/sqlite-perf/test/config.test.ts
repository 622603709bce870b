import { describe, expect, it } from 'vitest';
import { type DatabaseConfig, isSqlitePerfError, openDatabase } from '../src/index';
import { tempDir } from './helpers';

describe('openDatabase config', () => {
  it.each<[string, DatabaseConfig, RegExp]>([
    [
      'minReaders above maxReaders',
      { minReaders: 5, maxReaders: 2 },
      /minReaders 5.*maxReaders \(2\)/,
    ],
    ['a negative busy timeout', { pragmas: { busyTimeoutMs: -1 } }, /pragmas\.busyTimeoutMs -1/],
    [
      'an unknown journal mode',
      { pragmas: { journalMode: 'fast' as never } },
      /pragmas\.journalMode "fast"/,
    ],
    ['a fractional reader count', { maxReaders: 1.5 }, /maxReaders 1\.5/],
    ['an unknown integer mode', { integers: 'float' as never }, /integers "float"/],
    ['an extra pragma with SQL', { pragmas: { extra: { 'x; DROP': 1 } } }, /pragmas\.extra key/],
    [
      'an extra pragma value with SQL',
      { pragmas: { extra: { cache_spill: '1; DROP TABLE t' } } },
      /pragmas\.extra\.cache_spill/,
    ],
    ['a zero checkpoint bound', { checkpoint: { walMaxBytes: 0 } }, /checkpoint\.walMaxBytes 0/],
    ['a metric name with spaces', { name: 'my db' }, /name "my db"/],
  ])('rejects %s with INVALID_CONFIG', (_case, config, message) => {
    let error: unknown;
    try {
      openDatabase(`${tempDir()}/bad.db`, config);
    } catch (caught) {
      error = caught;
    }

    expect(isSqlitePerfError(error, 'INVALID_CONFIG')).toBe(true);
    expect((error as Error).message).toMatch(message);
  });

  it('rejects an empty path', () => {
    expect(() => openDatabase('')).toThrow(/path/);
  });

  it('freezes the resolved config with every default', async () => {
    const db = openDatabase(`${tempDir()}/ok.db`);
    try {
      expect(Object.isFrozen(db.config)).toBe(true);
      expect(db.config).toMatchObject({
        name: 'ok',
        minReaders: 1,
        maxReaders: 8,
        acquireTimeoutMs: 10_000,
        readerThreads: 0,
        statementCacheSize: 256,
        integers: 'number',
        busyRetries: 10,
      });
    } finally {
      await db.close();
    }
  });
});
