import { describe, expect, it } from 'vitest';
import { BatchWriter, isSqlitePerfError } from '../src/index';
import { openTemp } from './helpers';

function recorder() {
  const batches: number[][] = [];
  return { batches, write: (records: number[]) => void batches.push(records) };
}

describe('BatchWriter', () => {
  it('flushes as soon as maxBatchSize records are buffered', async () => {
    const { batches, write } = recorder();
    const writer = new BatchWriter<number>({ write, maxBatchSize: 3, flushIntervalMs: 60_000 });

    for (let n = 0; n < 7; n++) {
      writer.add(n);
    }
    await writer.flush();

    expect(batches).toEqual([[0, 1, 2], [3, 4, 5], [6]]);
    expect(writer.stats).toEqual({ buffered: 0, written: 7, batches: 3, failedWrites: 0 });
  });

  it('flushes a partial batch after flushIntervalMs', async () => {
    const { batches, write } = recorder();
    const writer = new BatchWriter<number>({ write, maxBatchSize: 100, flushIntervalMs: 5 });

    writer.add(1);
    writer.add(2);
    for (let turn = 0; turn < 1_000 && batches.length === 0; turn++) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }

    expect(batches).toEqual([[1, 2]]);
    await writer.close();
  });

  it('writes every record on close', async () => {
    const { batches, write } = recorder();
    const writer = new BatchWriter<number>({ write, maxBatchSize: 10, flushIntervalMs: 60_000 });

    for (let n = 0; n < 25; n++) {
      writer.add(n);
    }
    await writer.close();

    expect(batches.flat()).toEqual(Array.from({ length: 25 }, (_, n) => n));
    expect(() => writer.add(99)).toThrow(/closed/);
  });

  it('keeps a failed batch in order', async () => {
    const batches: number[][] = [];
    let failures = 1;
    const writer = new BatchWriter<number>({
      maxBatchSize: 5,
      flushIntervalMs: 60_000,
      write: (records) => {
        if (failures-- > 0) {
          throw new Error('disk busy');
        }
        batches.push(records);
      },
    });
    writer.add(1);
    writer.add(2);
    writer.add(3);

    await expect(writer.flush()).rejects.toThrow('disk busy');
    expect(writer.stats.buffered).toBe(3);
    await writer.close();

    expect(batches).toEqual([[1, 2, 3]]);
    expect(writer.stats).toMatchObject({ written: 3, failedWrites: 1 });
  });

  it('rejects records past maxBufferedRecords with BUFFER_FULL', async () => {
    let release!: () => void;
    const blocked = new Promise<void>((resolve) => {
      release = resolve;
    });
    const writer = new BatchWriter<number>({
      write: () => blocked,
      maxBatchSize: 2,
      maxBufferedRecords: 4,
      flushIntervalMs: 60_000,
    });
    for (let n = 0; n < 4; n++) {
      writer.add(n);
    }

    let error: unknown;
    try {
      writer.add(4);
    } catch (caught) {
      error = caught;
    }

    expect(isSqlitePerfError(error, 'BUFFER_FULL')).toBe(true);
    release();
    await writer.close();
    expect(writer.stats.written).toBe(4);
  });

  it('batches rows into a table through insertMany', async () => {
    const db = openTemp();
    await db.write((tx) => tx.exec('CREATE TABLE log (id INTEGER PRIMARY KEY, message TEXT)'));
    const log = new BatchWriter<{ id: number; message: string }>({
      write: (rows) => db.insertMany('log', rows),
      maxBatchSize: 50,
    });

    for (let id = 0; id < 120; id++) {
      log.add({ id, message: `m${id}` });
    }
    await log.close();

    expect(await db.queryOne('SELECT count(*) AS n FROM log')).toEqual({ n: 120 });
  });

  it('rejects invalid settings', () => {
    expect(() => new BatchWriter<number>({ write: () => {}, maxBatchSize: 0 })).toThrow(
      /maxBatchSize/,
    );
    expect(
      () => new BatchWriter<number>({ write: () => {}, maxBatchSize: 10, maxBufferedRecords: 5 }),
    ).toThrow(/maxBufferedRecords/);
    expect(() => new BatchWriter<number>({ write: 'no' as never })).toThrow(/write/);
  });
});
