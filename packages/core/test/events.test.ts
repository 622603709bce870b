import { describe, expect, it } from 'vitest';
import type { CallFinishedEvent, CallStartedEvent, Logger } from '../src/index';
import {
  createCoordinator,
  failOnUnhandledRejections,
  failureError,
  sampleOf,
  successValue,
} from './helpers';

function recordingLogger(): Logger & { errors: string[] } {
  const errors: string[] = [];
  const ignore = () => {};

  return {
    errors,
    debug: ignore,
    info: ignore,
    warn: ignore,
    error: (message) => errors.push(message),
  };
}

describe('coordinator events', () => {
  failOnUnhandledRejections();

  it('ties callStarted to callFinished by call id', async () => {
    const { coordinator } = createCoordinator([
      { key: 'local:::demo:::one', kind: 'function', handler: () => 1 },
    ]);
    const started: CallStartedEvent[] = [];
    const finished: CallFinishedEvent[] = [];
    coordinator.on('callStarted', (event) => started.push(event));
    coordinator.on('callFinished', (event) => finished.push(event));

    const result = await coordinator.execute(
      'local:::demo:::one',
      {},
      { id: 'first', agentId: 'agent-1' },
    );

    expect(started).toHaveLength(1);
    expect(started[0]?.callId).toBe(result.callId);
    expect(started[0]?.id).toBe('first');
    expect(started[0]?.kind).toBe('function');
    expect(started[0]?.agentId).toBe('agent-1');
    expect(finished[0]?.callId).toBe(result.callId);
    expect(finished[0]?.status).toBe('ok');
    expect(finished[0]?.attempts).toBe(1);
  });

  it('sends callFinished for a call that never started', async () => {
    const { coordinator } = createCoordinator();
    const started: CallStartedEvent[] = [];
    const finished: CallFinishedEvent[] = [];
    coordinator.on('callStarted', (event) => started.push(event));
    coordinator.on('callFinished', (event) => finished.push(event));

    await coordinator.execute('local:::demo:::absent');

    expect(started).toEqual([]);
    expect(finished[0]?.status).toBe('error');
    expect(finished[0]?.kind).toBe('unknown');
    expect(finished[0]?.error?.code).toBe('TOOL_NOT_FOUND');
  });

  it('catches, logs and counts a throwing listener', async () => {
    const logger = recordingLogger();
    const { coordinator, metrics } = createCoordinator(
      [{ key: 'local:::demo:::one', kind: 'function', handler: () => 1 }],
      {
        logger,
      },
    );
    const after: string[] = [];
    coordinator.on('callStarted', () => {
      throw new Error('listener bug');
    });
    coordinator.on('callStarted', (event) => after.push(event.callId));

    const result = await coordinator.execute('local:::demo:::one');

    expect(successValue(result)).toBe(1);
    expect(after).toEqual([result.callId]);
    expect(logger.errors).toEqual(['A "callStarted" listener threw; the error was caught.']);
    expect(
      await sampleOf(metrics, 'agentnode_tool_event_listener_errors_total', {
        event: 'callStarted',
      }),
    ).toBe(1);
  });

  it('survives a logger that throws too', async () => {
    const throwing = () => {
      throw new Error('logger down');
    };
    const logger = { debug: throwing, info: throwing, warn: throwing, error: throwing };
    const { coordinator } = createCoordinator(
      [{ key: 'local:::demo:::one', kind: 'function', handler: () => 1 }],
      { logger },
    );
    coordinator.on('callFinished', () => {
      throw new Error('listener bug');
    });

    const results = await coordinator.executeMany([{ key: 'local:::demo:::one' }]);

    expect(successValue(results[0])).toBe(1);
  });

  it('catches an async listener that rejects', async () => {
    const logger = recordingLogger();
    const { coordinator } = createCoordinator(
      [{ key: 'local:::demo:::one', kind: 'function', handler: () => 1 }],
      { logger },
    );
    coordinator.on('callFinished', async () => {
      await Promise.resolve();
      throw new Error('async listener bug');
    });

    await coordinator.execute('local:::demo:::one');
    await new Promise((resolve) => setImmediate(resolve));

    expect(logger.errors).toEqual(['A "callFinished" listener threw; the error was caught.']);
  });

  it('rejects an unknown event name', () => {
    const { coordinator } = createCoordinator();

    expect(() => coordinator.on('callDone' as never, () => {})).toThrow(/Unknown event "callDone"/);
  });

  it('rejects an event name without a string form', () => {
    const { coordinator } = createCoordinator();

    expect(() => coordinator.on(Object.create(null) as never, () => {})).toThrow(
      /Unknown event an object/,
    );
  });

  it('rejects a listener that is not a function', () => {
    const { coordinator } = createCoordinator();

    expect(() => coordinator.on('callFinished', 'log' as never)).toThrow(/must be a function/);
  });

  it('stops calling a removed listener', async () => {
    const { coordinator } = createCoordinator([
      { key: 'local:::demo:::one', kind: 'function', handler: () => 1 },
    ]);
    const seen: string[] = [];
    const remove = coordinator.on('callFinished', (event) => seen.push(event.callId));

    await coordinator.execute('local:::demo:::one');
    remove();
    await coordinator.execute('local:::demo:::one');

    expect(seen).toHaveLength(1);
  });

  it('reports a timeout in callFinished', async () => {
    const { coordinator } = createCoordinator([
      { key: 'local:::demo:::hang', kind: 'function', handler: () => new Promise(() => {}) },
    ]);
    const finished: CallFinishedEvent[] = [];
    coordinator.on('callFinished', (event) => finished.push(event));

    const result = await coordinator.execute('local:::demo:::hang', {}, { timeoutMs: 5 });

    expect(failureError(result).code).toBe('TIMEOUT');
    expect(finished[0]?.status).toBe('timeout');
    expect(finished[0]?.error).toBe(failureError(result));
  });
});
