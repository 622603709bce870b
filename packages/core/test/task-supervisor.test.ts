import { createMetricsRegistry } from '@agentnode/metrics';
import { describe, expect, it } from 'vitest';
import { type Logger, TaskSupervisor } from '../src/index';
import { delay, failOnUnhandledRejections, sampleOf } from './helpers';

function recordingLogger(): Logger & {
  errors: Array<[string, Record<string, unknown> | undefined]>;
} {
  const errors: Array<[string, Record<string, unknown> | undefined]> = [];
  const ignore = () => {};

  return {
    errors,
    debug: ignore,
    info: ignore,
    warn: ignore,
    error: (message, context) => errors.push([message, context]),
  };
}

describe('TaskSupervisor.spawn', () => {
  failOnUnhandledRejections();

  it('returns the value of a task that succeeds', async () => {
    const metrics = createMetricsRegistry({ collectSystem: false });
    const tasks = new TaskSupervisor({ metrics, logger: recordingLogger() });

    const outcome = await tasks.spawn('sum', async () => 1 + 1);

    expect(outcome).toEqual({ ok: true, value: 2 });
    expect(await sampleOf(metrics, 'agentnode_tasks_total', { task: 'sum', status: 'ok' })).toBe(1);
  });

  it('logs and counts a failure with its context', async () => {
    const metrics = createMetricsRegistry({ collectSystem: false });
    const logger = recordingLogger();
    const tasks = new TaskSupervisor({ metrics, logger });
    const failure = new Error('refresh failed');

    const outcome = await tasks.spawn(
      'refresh',
      async () => {
        await delay(1);
        throw failure;
      },
      { context: { tenant: 't-1' } },
    );

    expect(outcome).toEqual({ ok: false, error: failure });
    expect(logger.errors).toEqual([
      ['Background task "refresh" failed.', { task: 'refresh', tenant: 't-1', error: failure }],
    ]);
    expect(
      await sampleOf(metrics, 'agentnode_tasks_total', { task: 'refresh', status: 'error' }),
    ).toBe(1);
    expect(await sampleOf(metrics, 'agentnode_tasks_running', { task: 'refresh' })).toBe(0);
  });

  it('treats a synchronous throw as a failure', async () => {
    const logger = recordingLogger();
    const tasks = new TaskSupervisor({ logger });

    const outcome = await tasks.spawn('sync', () => {
      throw new TypeError('bad');
    });

    expect(outcome.ok).toBe(false);
    expect(logger.errors).toHaveLength(1);
  });

  it('never leaves an unawaited failure unhandled', async () => {
    const tasks = new TaskSupervisor({ logger: recordingLogger() });

    tasks.spawn('ignored', () => Promise.reject(new Error('nobody awaits this')));
    await tasks.drain();

    expect(tasks.running).toBe(0);
  });

  it('drains tasks spawned by running tasks', async () => {
    const tasks = new TaskSupervisor({ logger: recordingLogger() });
    const finished: string[] = [];

    tasks.spawn('parent', async () => {
      await delay(2);
      tasks.spawn('child', async () => {
        await delay(5);
        finished.push('child');
      });
      finished.push('parent');
    });
    await tasks.drain();

    expect(finished).toEqual(['parent', 'child']);
  });

  it('rejects a nameless task at once', () => {
    const tasks = new TaskSupervisor({ logger: recordingLogger() });

    expect(() => tasks.spawn('', () => 1)).toThrow(/non-empty string/);
    expect(() => tasks.spawn('x', 'run' as never)).toThrow(/must be a function/);
  });
});
