import { describe, expect, it, vi } from 'vitest';
import type { ExecutionLog, ExecutionRecord, Logger } from '../src/index';
import { createCoordinator, failOnUnhandledRejections, sampleOf, successValue } from './helpers';

const ECHO = 'local:::demo:::echo';

function recordingLogger(): Logger & { errors: Array<Record<string, unknown> | undefined> } {
  const errors: Array<Record<string, unknown> | undefined> = [];
  const ignore = () => {};

  return {
    errors,
    debug: ignore,
    info: ignore,
    warn: ignore,
    error: (_message, context) => errors.push(context),
  };
}

describe('execution log', () => {
  failOnUnhandledRejections();

  it('records finished calls in batches', async () => {
    const batches: ExecutionRecord[][] = [];
    const log: ExecutionLog = { record: (records) => batches.push([...records]) };
    const { coordinator } = createCoordinator(
      [{ key: ECHO, kind: 'function', handler: (params) => params }],
      {
        executionLog: log,
        executionLogBatchSize: 4,
        executionLogFlushIntervalMs: 10_000,
      },
    );

    await coordinator.executeMany(
      Array.from({ length: 10 }, (_, index) => ({ key: ECHO, params: { index } })),
    );
    await coordinator.close();

    expect(batches.map((batch) => batch.length)).toEqual([4, 4, 2]);
    const first = batches[0]![0]!;
    expect(first.key).toBe(ECHO);
    expect(first.kind).toBe('function');
    expect(first.status).toBe('ok');
    expect(first.attempts).toBe(1);
    expect(first.errorCode).toBeUndefined();
    expect(typeof first.startedAt).toBe('number');
  });

  it('writes a partial batch after the flush interval', async () => {
    const batches: ExecutionRecord[][] = [];
    const { coordinator } = createCoordinator([{ key: ECHO, kind: 'function', handler: () => 1 }], {
      executionLog: { record: (records) => batches.push([...records]) },
      executionLogFlushIntervalMs: 5,
    });

    const result = await coordinator.execute(ECHO, {}, { agentId: 'agent-1' });
    await vi.waitFor(() => expect(batches).toHaveLength(1), { timeout: 5_000, interval: 5 });

    expect(batches).toHaveLength(1);
    expect(batches[0]![0]!.callId).toBe(result.callId);
    expect(batches[0]![0]!.agentId).toBe('agent-1');
  });

  it('records failures with their code', async () => {
    const batches: ExecutionRecord[][] = [];
    const { coordinator } = createCoordinator([], {
      executionLog: { record: (records) => batches.push([...records]) },
    });

    await coordinator.execute('local:::demo:::missing');
    await coordinator.close();

    expect(batches[0]![0]!.status).toBe('error');
    expect(batches[0]![0]!.errorCode).toBe('TOOL_NOT_FOUND');
    expect(batches[0]![0]!.kind).toBe('unknown');
  });

  it('never makes a call wait for a slow log', async () => {
    let release: () => void = () => {};
    const blocked = new Promise<void>((resolve) => {
      release = resolve;
    });
    let written = 0;
    const { coordinator } = createCoordinator(
      [{ key: ECHO, kind: 'function', handler: () => 'done' }],
      {
        executionLog: {
          record: async (records) => {
            await blocked;
            written += records.length;
          },
        },
        executionLogBatchSize: 1,
      },
    );

    const results = await Promise.all([
      coordinator.execute(ECHO),
      coordinator.execute(ECHO),
      coordinator.execute(ECHO),
    ]);

    expect(results.map(successValue)).toEqual(['done', 'done', 'done']);
    expect(written).toBe(0);
    release();
    await coordinator.close();
    expect(written).toBe(3);
  });

  it('logs and counts a failing write without an unhandled rejection', async () => {
    const logger = recordingLogger();
    const { coordinator, metrics } = createCoordinator(
      [{ key: ECHO, kind: 'function', handler: () => 1 }],
      {
        logger,
        executionLog: {
          record: async () => {
            throw new Error('disk full');
          },
        },
      },
    );

    await coordinator.execute(ECHO);
    await coordinator.close();

    expect(logger.errors).toHaveLength(1);
    expect(logger.errors[0]?.task).toBe('execution-log-write');
    expect(logger.errors[0]?.records).toBe(1);
    expect(logger.errors[0]?.error).toEqual(new Error('disk full'));
    expect(
      await sampleOf(metrics, 'agentnode_execution_log_records_total', { status: 'failed' }),
    ).toBe(1);
    expect(
      await sampleOf(metrics, 'agentnode_tasks_total', {
        task: 'execution-log-write',
        status: 'error',
      }),
    ).toBe(1);
  });

  it('drops the oldest records beyond the buffer bound', async () => {
    let release: () => void = () => {};
    const blocked = new Promise<void>((resolve) => {
      release = resolve;
    });
    const written: number[] = [];
    const { coordinator, metrics } = createCoordinator(
      [{ key: ECHO, kind: 'function', handler: () => 1 }],
      {
        executionLog: {
          record: async (records) => {
            await blocked;
            written.push(records.length);
          },
        },
        executionLogBatchSize: 1,
        executionLogMaxBufferedRecords: 2,
      },
    );

    for (let index = 0; index < 6; index++) {
      await coordinator.execute(ECHO);
    }
    release();
    await coordinator.close();

    expect(written.reduce((sum, count) => sum + count, 0)).toBe(3);
    expect(
      await sampleOf(metrics, 'agentnode_execution_log_records_total', { status: 'dropped' }),
    ).toBe(3);
  });
});
