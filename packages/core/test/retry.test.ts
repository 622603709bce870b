import { describe, expect, it } from 'vitest';
import { type CallRetryingEvent, computeRetryDelayMs, NO_RETRY, ToolError } from '../src/index';
import {
  createCoordinator,
  delay,
  failOnUnhandledRejections,
  failureError,
  sampleOf,
  successValue,
} from './helpers';

const FAST = { initialDelayMs: 1, maxDelayMs: 2 };

/** A tool that fails `failures` times with `makeError`, then returns 'done'. */
function flakyTool(failures: number, makeError: () => unknown) {
  let calls = 0;
  const tool = {
    key: 'local:::demo:::flaky',
    kind: 'function',
    handler: () => {
      calls++;
      if (calls <= failures) {
        throw makeError();
      }
      return 'done';
    },
  };

  return { tool, calls: () => calls };
}

describe('retries', () => {
  failOnUnhandledRejections();

  it('retries a retryable ToolError until it succeeds', async () => {
    const { tool, calls } = flakyTool(
      2,
      () => new ToolError('EXECUTION_FAILED', 'busy', { retryable: true }),
    );
    const { coordinator, metrics } = createCoordinator([tool]);

    const result = await coordinator.execute(tool.key, {}, { retry: { maxAttempts: 3, ...FAST } });

    expect(successValue(result)).toBe('done');
    expect(result.attempts).toBe(3);
    expect(calls()).toBe(3);
    expect(await sampleOf(metrics, 'agentnode_tool_retries_total', { tool: tool.key })).toBe(2);
  });

  it('retries any error with a retryable property', async () => {
    const { tool } = flakyTool(1, () => Object.assign(new Error('503'), { retryable: true }));
    const { coordinator } = createCoordinator([tool]);

    const result = await coordinator.execute(tool.key, {}, { retry: { maxAttempts: 2, ...FAST } });

    expect(successValue(result)).toBe('done');
  });

  it('stops after maxAttempts', async () => {
    const { tool, calls } = flakyTool(10, () =>
      Object.assign(new Error('503'), { retryable: true }),
    );
    const { coordinator } = createCoordinator([tool]);

    const result = await coordinator.execute(tool.key, {}, { retry: { maxAttempts: 3, ...FAST } });

    expect(failureError(result).code).toBe('EXECUTION_FAILED');
    expect(failureError(result).retryable).toBe(true);
    expect(result.attempts).toBe(3);
    expect(calls()).toBe(3);
  });

  it('does not retry an error not marked retryable', async () => {
    const { tool, calls } = flakyTool(1, () => new Error('bad request'));
    const { coordinator } = createCoordinator([tool]);

    const result = await coordinator.execute(tool.key, {}, { retry: { maxAttempts: 5, ...FAST } });

    expect(failureError(result).code).toBe('EXECUTION_FAILED');
    expect(calls()).toBe(1);
  });

  it('does not retry a retryable abort', async () => {
    const { tool, calls } = flakyTool(
      1,
      () => new ToolError('ABORTED', 'stopped', { retryable: true }),
    );
    const { coordinator } = createCoordinator([tool]);

    const result = await coordinator.execute(tool.key, {}, { retry: { maxAttempts: 5, ...FAST } });

    expect(failureError(result).code).toBe('ABORTED');
    expect(calls()).toBe(1);
  });

  it('retries a timeout only with retryOnTimeout', async () => {
    let calls = 0;
    const { coordinator, metrics } = createCoordinator([
      {
        key: 'local:::demo:::hangs_once',
        kind: 'function',
        handler: async (_params, { signal }) => {
          calls++;
          if (calls === 1) {
            await delay(1_000, signal);
          }
          return calls;
        },
      },
    ]);

    const without = await coordinator.execute(
      'local:::demo:::hangs_once',
      {},
      { timeoutMs: 10, retry: { maxAttempts: 3 } },
    );
    calls = 0;
    const withRetry = await coordinator.execute(
      'local:::demo:::hangs_once',
      {},
      { timeoutMs: 10, retry: { maxAttempts: 3, retryOnTimeout: true, ...FAST } },
    );

    expect(failureError(without).code).toBe('TIMEOUT');
    expect(successValue(withRetry)).toBe(2);
    expect(
      await sampleOf(metrics, 'agentnode_tool_timeouts_total', {
        tool: 'local:::demo:::hangs_once',
      }),
    ).toBe(2);
  });

  it('uses the tool policy when the call sets none', async () => {
    const { tool } = flakyTool(1, () => Object.assign(new Error('503'), { retryable: true }));
    const { coordinator } = createCoordinator([{ ...tool, retry: { maxAttempts: 2, ...FAST } }]);

    expect(successValue(await coordinator.execute(tool.key))).toBe('done');
  });

  it('emits callRetrying with the delay and error', async () => {
    const { tool } = flakyTool(1, () => Object.assign(new Error('503'), { retryable: true }));
    const { coordinator } = createCoordinator([tool]);
    const events: CallRetryingEvent[] = [];
    coordinator.on('callRetrying', (event) => events.push(event));

    const result = await coordinator.execute(
      tool.key,
      {},
      { retry: { maxAttempts: 2, ...FAST, jitter: 'none' } },
    );

    expect(events).toHaveLength(1);
    expect(events[0]?.callId).toBe(result.callId);
    expect(events[0]?.attempt).toBe(1);
    expect(events[0]?.delayMs).toBe(1);
    expect(events[0]?.error.message).toContain('503');
  });

  it('stops waiting for a retry when aborted', async () => {
    const { tool, calls } = flakyTool(5, () =>
      Object.assign(new Error('503'), { retryable: true }),
    );
    const { coordinator } = createCoordinator([tool]);
    const controller = new AbortController();
    coordinator.on('callRetrying', () => controller.abort());

    const result = await coordinator.execute(
      tool.key,
      {},
      {
        signal: controller.signal,
        retry: { maxAttempts: 5, initialDelayMs: 60_000, maxDelayMs: 60_000, jitter: 'none' },
      },
    );

    expect(failureError(result).code).toBe('ABORTED');
    expect(calls()).toBe(1);
  });

  it('rejects an invalid per-call policy', async () => {
    const { tool } = flakyTool(0, () => null);
    const { coordinator } = createCoordinator([tool]);

    const result = await coordinator.execute(
      tool.key,
      {},
      { retry: { maxAttempts: 2, jitter: 'lots' as never } },
    );

    expect(failureError(result).code).toBe('INVALID_OPTIONS');
    expect(failureError(result).message).toContain('jitter');
  });
});

describe('computeRetryDelayMs', () => {
  const policy = {
    ...NO_RETRY,
    maxAttempts: 10,
    initialDelayMs: 100,
    maxDelayMs: 1_000,
    multiplier: 2,
  };

  it('grows exponentially up to maxDelayMs', () => {
    const delays = [1, 2, 3, 4, 5].map((attempt) =>
      computeRetryDelayMs({ ...policy, jitter: 'none' }, attempt),
    );

    expect(delays).toEqual([100, 200, 400, 800, 1_000]);
  });

  it('applies full jitter', () => {
    expect(computeRetryDelayMs({ ...policy, jitter: 'full' }, 3, 0.25)).toBe(100);
  });

  it('applies equal jitter', () => {
    expect(computeRetryDelayMs({ ...policy, jitter: 'equal' }, 3, 0.5)).toBe(300);
  });
});
