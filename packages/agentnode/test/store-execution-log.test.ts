import type { ExecutionRecord } from '@agentnode/core';
import { isSqlitePerfError } from '@agentnode/sqlite-perf';
import { describe, expect, it } from 'vitest';
import type { ExecutionLogRecord } from '../src/store/index';
import { openTempStore } from './store-helpers';

const record = (
  index: number,
  overrides: Partial<ExecutionLogRecord> = {},
): ExecutionLogRecord => ({
  id: `call-${index}`,
  routerKey: index % 2 ? 'local:::me:::odd' : 'local:::me:::even',
  kind: 'function',
  status: 'ok',
  durationMs: 1.25,
  startedAt: 1_700_000_000_000 + index,
  finishedAt: 1_700_000_000_002 + index,
  ...overrides,
});

const rowCount = async (store: Awaited<ReturnType<typeof openTempStore>>) =>
  (await store.database.queryOne<{ n: number }>('SELECT count(*) AS n FROM executions'))!.n;

describe('ExecutionLogWriter', () => {
  it('writes a batch as soon as maxBatchSize records are buffered', async () => {
    const store = await openTempStore({
      executionLog: { maxBatchSize: 10, flushIntervalMs: 60_000 },
    });

    for (let index = 0; index < 25; index++) {
      store.executionLog.add(record(index));
    }
    for (let turn = 0; turn < 1_000 && store.executionLog.stats.written < 20; turn++) {
      await new Promise((resolve) => setImmediate(resolve));
    }

    expect(store.executionLog.stats).toMatchObject({ written: 20, batches: 2, buffered: 5 });
    expect(await rowCount(store)).toBe(20);
  });

  it('writes a partial batch after flushIntervalMs', async () => {
    const store = await openTempStore({ executionLog: { maxBatchSize: 100, flushIntervalMs: 5 } });

    store.executionLog.add(record(1));
    for (let turn = 0; turn < 1_000 && store.executionLog.stats.written === 0; turn++) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }

    expect(await rowCount(store)).toBe(1);
  });

  it('loses nothing on a clean close', async () => {
    const store = await openTempStore({
      executionLog: { maxBatchSize: 64, flushIntervalMs: 60_000 },
    });
    for (let index = 0; index < 1_000; index++) {
      store.executionLog.add(record(index));
    }
    const path = store.database.path;

    await store.close();

    const { openNodeStore } = await import('../src/store/index');
    const reopened = await openNodeStore(path, { healthCheckIntervalMs: 0 });
    try {
      expect(await rowCount(reopened)).toBe(1_000);
    } finally {
      await reopened.close();
    }
  });

  it('rejects records beyond maxBufferedRecords with BUFFER_FULL', async () => {
    const store = await openTempStore({
      executionLog: { maxBatchSize: 10, maxBufferedRecords: 10, flushIntervalMs: 60_000 },
    });
    for (let index = 0; index < 10; index++) {
      store.executionLog.add(record(index));
    }

    let error: unknown;
    try {
      store.executionLog.add(record(10));
    } catch (caught) {
      error = caught;
    }

    expect(isSqlitePerfError(error, 'BUFFER_FULL')).toBe(true);
    await store.executionLog.flush();
    expect(await rowCount(store)).toBe(10);
  });

  it('rejects an invalid record when it is added', async () => {
    const store = await openTempStore();

    expect(() => store.executionLog.add(record(1, { status: 'done' as never }))).toThrow(/status/);
    expect(() => store.executionLog.add(record(1, { durationMs: Number.NaN }))).toThrow(
      /durationMs/,
    );
    expect(() => store.executionLog.add(record(1, { id: '' }))).toThrow(/id/);
    expect(store.executionLog.stats.buffered).toBe(0);
  });

  it("accepts core's ExecutionRecord batches", async () => {
    const store = await openTempStore();
    const finished: ExecutionRecord = {
      callId: 'c-42',
      id: '0',
      key: 'local:::me:::echo',
      kind: 'function',
      agentId: undefined,
      status: 'timeout',
      errorCode: 'TIMEOUT',
      errorMessage: 'took too long',
      startedAt: 1_700_000_000_000,
      queueWaitMs: 3,
      durationMs: 100,
      attempts: 1,
    };

    store.executionLog.record([finished]);
    await store.executionLog.flush();

    expect(await store.listExecutions()).toEqual([
      {
        id: 'c-42',
        routerKey: 'local:::me:::echo',
        kind: 'function',
        status: 'timeout',
        durationMs: 100,
        errorCode: 'TIMEOUT',
        startedAt: 1_700_000_000_000,
        finishedAt: 1_700_000_000_103,
      },
    ]);
  });

  it('lists executions newest first with filters', async () => {
    const store = await openTempStore();
    for (let index = 0; index < 6; index++) {
      store.executionLog.add(
        record(index, index === 4 ? { status: 'error', errorCode: 'TRAP' } : {}),
      );
    }
    await store.executionLog.flush();

    const even = await store.listExecutions({ routerKey: 'local:::me:::even', limit: 2 });
    const failed = await store.listExecutions({ status: 'error' });
    const recent = await store.listExecutions({ since: 1_700_000_000_003 });

    expect(even.map((row) => row.id)).toEqual(['call-4', 'call-2']);
    expect(failed).toMatchObject([{ id: 'call-4', errorCode: 'TRAP' }]);
    expect(recent.map((row) => row.id)).toEqual(['call-5', 'call-4', 'call-3']);
    await expect(store.listExecutions({ limit: 0 })).rejects.toThrow(/limit/);
  });
});
