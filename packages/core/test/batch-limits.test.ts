import { describe, expect, it } from 'vitest';
import { DEFAULT_CONCURRENCY, ToolError } from '../src/index';
import {
  createCoordinator,
  delay,
  failOnUnhandledRejections,
  failureError,
  sampleOf,
  successValue,
} from './helpers';

const SLEEP = 'local:::demo:::sleep';
const FAIL = 'local:::demo:::fail';

function setup(config = {}) {
  const seenSignals: AbortSignal[] = [];
  let running = 0;
  let peak = 0;
  const { coordinator, metrics } = createCoordinator(
    [
      {
        key: SLEEP,
        kind: 'function',
        handler: async (params, { signal }) => {
          seenSignals.push(signal);
          running++;
          peak = Math.max(peak, running);
          try {
            await delay(params.ms as number, signal);
          } finally {
            running--;
          }
          return params.value;
        },
      },
      {
        key: FAIL,
        kind: 'function',
        handler: async (params) => {
          await delay((params.ms as number | undefined) ?? 0);
          throw new Error('boom');
        },
      },
    ],
    config,
  );

  return { coordinator, metrics, seenSignals, peak: () => peak };
}

describe('batch limits', () => {
  failOnUnhandledRejections();

  it('bounds concurrency by default', async () => {
    const { coordinator, peak } = setup();

    await coordinator.executeMany(
      Array.from({ length: DEFAULT_CONCURRENCY + 8 }, () => ({ key: SLEEP, params: { ms: 5 } })),
    );

    expect(peak()).toBe(DEFAULT_CONCURRENCY);
  });

  it('takes the coordinator concurrency as default', async () => {
    const { coordinator, peak } = setup({ concurrency: 2 });

    await coordinator.executeMany(
      Array.from({ length: 6 }, () => ({ key: SLEEP, params: { ms: 2 } })),
    );

    expect(peak()).toBe(2);
  });

  it('settles every call by default', async () => {
    const { coordinator } = setup();

    const results = await coordinator.executeMany([
      { key: FAIL },
      { key: SLEEP, params: { ms: 10, value: 'a' } },
      { key: SLEEP, params: { ms: 10, value: 'b' } },
    ]);

    expect(failureError(results[0]).code).toBe('EXECUTION_FAILED');
    expect(successValue(results[1])).toBe('a');
    expect(successValue(results[2])).toBe('b');
  });

  it('aborts running and queued calls on the first failure with failFast', async () => {
    const { coordinator, seenSignals } = setup();

    const results = await coordinator.executeMany(
      [
        { key: SLEEP, params: { ms: 1_000, value: 'running' } },
        { key: FAIL, params: { ms: 5 } },
        { key: SLEEP, params: { ms: 1_000, value: 'queued' } },
      ],
      { failFast: true, concurrency: 2 },
    );

    expect(failureError(results[0]).code).toBe('ABORTED');
    expect(failureError(results[0]).message).toContain('call "1" failed');
    expect(failureError(results[1]).code).toBe('EXECUTION_FAILED');
    expect(failureError(results[2]).code).toBe('ABORTED');
    expect(results[2]?.attempts).toBe(0);
    expect(seenSignals).toHaveLength(1);
    expect(seenSignals[0]?.aborted).toBe(true);
  });

  it('fails calls still running or queued at totalTimeoutMs', async () => {
    const { coordinator, metrics } = setup();

    const results = await coordinator.executeMany(
      [
        { key: SLEEP, params: { ms: 1, value: 'quick' } },
        { key: SLEEP, params: { ms: 1_000 } },
        { key: SLEEP, params: { ms: 1_000 } },
      ],
      { totalTimeoutMs: 100, concurrency: 2 },
    );

    expect(successValue(results[0])).toBe('quick');
    expect(failureError(results[1]).code).toBe('TIMEOUT');
    expect(failureError(results[1]).message).toContain('totalTimeoutMs 100');
    expect(failureError(results[2]).code).toBe('TIMEOUT');
    expect(
      (await metrics.collect()).find((family) => family.name === 'agentnode_tool_timeouts_total')
        ?.values[0]?.value,
    ).toBe(2);
  });

  it('bounds one call with totalTimeoutMs across retries', async () => {
    const { coordinator } = setup();
    coordinator.registry.register({
      key: 'local:::demo:::always_busy',
      kind: 'function',
      handler: () => {
        throw new ToolError('EXECUTION_FAILED', 'busy', { retryable: true });
      },
    });

    const result = await coordinator.execute(
      'local:::demo:::always_busy',
      {},
      {
        totalTimeoutMs: 50,
        retry: { maxAttempts: 100, initialDelayMs: 10, maxDelayMs: 10, jitter: 'none' },
      },
    );

    expect(failureError(result).code).toBe('TIMEOUT');
    expect(failureError(result).message).toContain('totalTimeoutMs 50');
    expect(result.attempts).toBeGreaterThan(1);
    expect(result.attempts).toBeLessThan(100);
  });

  it('aborts the batch with its signal', async () => {
    const { coordinator } = setup();
    const controller = new AbortController();

    const pending = coordinator.executeMany(
      [
        { key: SLEEP, params: { ms: 1_000 } },
        { key: SLEEP, params: { ms: 1_000 } },
      ],
      {
        signal: controller.signal,
      },
    );
    await delay(5);
    controller.abort(new Error('user left'));
    const results = await pending;

    expect(failureError(results[0]).code).toBe('ABORTED');
    expect(failureError(results[0]).message).toContain('user left');
    expect(failureError(results[1]).code).toBe('ABORTED');
  });

  it('aborts the rest when the consumer leaves the stream', async () => {
    const { coordinator, seenSignals } = setup();

    for await (const result of coordinator.stream([
      { key: SLEEP, params: { ms: 1, value: 'first' } },
      { key: SLEEP, params: { ms: 1_000 } },
    ])) {
      expect(successValue(result)).toBe('first');
      break;
    }

    expect(seenSignals[1]?.aborted).toBe(true);
  });

  it.each([
    ['concurrency 0', { concurrency: 0 }, '"concurrency"'],
    ['a negative totalTimeoutMs', { totalTimeoutMs: -1 }, '"totalTimeoutMs"'],
    ['a string failFast', { failFast: 'yes' }, '"failFast"'],
    ['a non-signal', { signal: {} }, '"signal"'],
    ['a misspelt option', { failfast: true }, 'Unknown field "failfast" in the batch options'],
  ])('rejects %s', async (_case, options, message) => {
    const { coordinator } = setup();

    const error = await coordinator
      .executeMany([{ key: SLEEP, params: { ms: 1 } }], options as never)
      .then(
        () => undefined,
        (reason: unknown) => reason,
      );

    expect(error).toBeInstanceOf(ToolError);
    expect((error as ToolError).code).toBe('INVALID_OPTIONS');
    expect((error as ToolError).message).toContain(message);
  });
});

describe('batch metrics and streams', () => {
  failOnUnhandledRejections();

  it('records queue wait for batch calls', async () => {
    const { coordinator, metrics } = setup();

    await coordinator.executeMany(
      Array.from({ length: 3 }, () => ({ key: SLEEP, params: { ms: 2 } })),
      { concurrency: 1 },
    );

    expect(
      await sampleOf(
        metrics,
        'agentnode_tool_queue_wait_seconds',
        { kind: 'function' },
        'agentnode_tool_queue_wait_seconds_count',
      ),
    ).toBe(3);
  });

  it('rejects an invalid batch on the first next()', async () => {
    const { coordinator } = setup();
    const iterator = coordinator.stream([{ id: 'a', key: SLEEP, dependsOn: ['a'] }]);

    const error = await iterator.next().then(
      () => undefined,
      (reason: unknown) => reason,
    );

    expect((error as ToolError).code).toBe('DEPENDENCY_CYCLE');
  });
});
