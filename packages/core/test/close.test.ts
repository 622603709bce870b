import { describe, expect, it } from 'vitest';
import { createCoordinator, delay, failOnUnhandledRejections, failureError } from './helpers';

describe('ToolCoordinator.close', () => {
  failOnUnhandledRejections();

  it('aborts calls that are running or queued', async () => {
    const signals: AbortSignal[] = [];
    const { coordinator } = createCoordinator([
      {
        key: 'local:::demo:::wait',
        kind: 'function',
        handler: (_params, { signal }) => {
          signals.push(signal);
          return delay(5_000, signal);
        },
      },
    ]);

    const single = coordinator.execute('local:::demo:::wait');
    const batch = coordinator.executeMany(
      [{ key: 'local:::demo:::wait' }, { key: 'local:::demo:::wait' }],
      {
        concurrency: 1,
      },
    );
    await delay(5);
    await coordinator.close();

    expect(failureError(await single).code).toBe('ABORTED');
    expect((await batch).map((result) => failureError(result).code)).toEqual([
      'ABORTED',
      'ABORTED',
    ]);
    expect(signals.every((signal) => signal.aborted)).toBe(true);
  });

  it('says a running call was aborted by close', async () => {
    let started = false;
    const { coordinator } = createCoordinator([
      {
        key: 'local:::demo:::wait',
        kind: 'function',
        handler: (_params, { signal }) => {
          started = true;
          return delay(5_000, signal);
        },
      },
    ]);

    const running = coordinator.execute('local:::demo:::wait');
    const [inBatch] = await Promise.all([
      coordinator.executeMany([{ key: 'local:::demo:::wait' }]).then(([result]) => result),
      delay(5).then(() => coordinator.close()),
    ]);
    const error = failureError(await running);

    expect(started).toBe(true);
    expect(error.message).toBe('The call was aborted because the coordinator is closing.');
    expect(error.message).not.toContain('not run');
    expect(failureError(inBatch).message).toBe(error.message);
    expect((await running).attempts).toBe(1);
  });

  it('waits for queued batch calls and writes their records', async () => {
    const records: string[] = [];
    const { coordinator } = createCoordinator(
      [
        {
          key: 'local:::demo:::wait',
          kind: 'function',
          handler: (_p, { signal }) => delay(5_000, signal),
        },
      ],
      {
        executionLog: { record: (batch) => records.push(...batch.map((record) => record.status)) },
      },
    );
    let settled = false;

    const batch = coordinator
      .executeMany(
        Array.from({ length: 50 }, () => ({ key: 'local:::demo:::wait' })),
        { concurrency: 2 },
      )
      .then((results) => {
        settled = true;
        return results;
      });
    await delay(5);
    await coordinator.close();

    expect(settled).toBe(true);
    expect(records).toHaveLength(50);
    expect(new Set(records)).toEqual(new Set(['aborted']));
    expect((await batch).every((result) => !result.ok)).toBe(true);
  });

  it('fails later calls with COORDINATOR_CLOSED', async () => {
    const { coordinator } = createCoordinator([
      { key: 'local:::demo:::x', kind: 'function', handler: () => 1 },
    ]);

    await coordinator.close();
    const result = await coordinator.execute('local:::demo:::x');

    expect(failureError(result).code).toBe('COORDINATOR_CLOSED');
  });

  it('is idempotent', async () => {
    const { coordinator } = createCoordinator();

    const first = coordinator.close();

    expect(coordinator.close()).toBe(first);
    await first;
  });

  it('rejects unknown config options', () => {
    expect(() => createCoordinator([], { concurency: 4 } as never)).toThrow(
      /unknown option "concurency"/,
    );
  });
});
