import { describe, expect, it } from 'vitest';
import type { ToolCallResult } from '../src/index';
import {
  createCoordinator,
  delay,
  failOnUnhandledRejections,
  failureError,
  successValue,
} from './helpers';

const SLEEP = 'local:::demo:::sleep';
const FAIL = 'local:::demo:::fail';
const ECHO = 'local:::demo:::echo';

function tools() {
  return [
    {
      key: SLEEP,
      kind: 'function',
      handler: async (
        params: Readonly<Record<string, unknown>>,
        { signal }: { signal: AbortSignal },
      ) => {
        await delay(params.ms as number, signal);
        return params.value;
      },
    },
    {
      key: FAIL,
      kind: 'function',
      handler: async (params: Readonly<Record<string, unknown>>) => {
        await delay((params.ms as number | undefined) ?? 0);
        throw new Error(`failed ${String(params.value)}`);
      },
    },
    { key: ECHO, kind: 'function', handler: (params: Readonly<Record<string, unknown>>) => params },
  ];
}

describe('executeMany', () => {
  failOnUnhandledRejections();

  it('returns results in input order', async () => {
    const { coordinator } = createCoordinator(tools());

    const results = await coordinator.executeMany([
      { key: SLEEP, params: { ms: 30, value: 'slow' } },
      { key: SLEEP, params: { ms: 1, value: 'fast' } },
      { key: SLEEP, params: { ms: 10, value: 'middle' } },
    ]);

    expect(results.map(successValue)).toEqual(['slow', 'fast', 'middle']);
    expect(results.map((result) => result.id)).toEqual(['0', '1', '2']);
  });

  it('reports failures beside successes', async () => {
    const { coordinator } = createCoordinator(tools());

    const results = await coordinator.executeMany([
      { key: SLEEP, params: { ms: 1, value: 'a' } },
      { key: FAIL, params: { value: 'b' } },
      { key: SLEEP, params: { ms: 500, value: 'c' }, timeoutMs: 10 },
    ]);

    expect(results[0]?.ok).toBe(true);
    expect(failureError(results[1]).code).toBe('EXECUTION_FAILED');
    expect(failureError(results[2]).code).toBe('TIMEOUT');
  });

  it('never runs more calls at once than concurrency', async () => {
    let running = 0;
    let peak = 0;
    const { coordinator } = createCoordinator([
      {
        key: 'local:::demo:::count',
        kind: 'function',
        handler: async () => {
          running++;
          peak = Math.max(peak, running);
          await delay(5);
          running--;
        },
      },
    ]);

    const results = await coordinator.executeMany(
      Array.from({ length: 12 }, () => ({ key: 'local:::demo:::count' })),
      { concurrency: 3 },
    );

    expect(results.every((result) => result.ok)).toBe(true);
    expect(peak).toBe(3);
  });

  it('resolves an empty batch to an empty list', async () => {
    const { coordinator } = createCoordinator(tools());

    expect(await coordinator.executeMany([])).toEqual([]);
  });

  it('runs a batch of 20,000 calls', async () => {
    const { coordinator } = createCoordinator(tools());
    const calls = Array.from({ length: 20_000 }, (_, index) => ({ key: ECHO, params: { index } }));

    const results = await coordinator.executeMany(calls, { concurrency: 8 });

    expect(results).toHaveLength(20_000);
    expect(results.every((result) => result.ok)).toBe(true);
    expect(successValue(results[19_999])).toEqual({ index: 19_999 });
  });

  it('streams results in completion order', async () => {
    const { coordinator } = createCoordinator(tools());
    const seen: ToolCallResult[] = [];

    for await (const result of coordinator.stream([
      { id: 'slow', key: SLEEP, params: { ms: 200, value: 1 } },
      { id: 'fast', key: SLEEP, params: { ms: 1, value: 2 } },
      { id: 'broken', key: FAIL, params: { ms: 60 } },
    ])) {
      seen.push(result);
    }

    expect(seen.map((result) => result.id)).toEqual(['fast', 'broken', 'slow']);
  });
});

describe('executeMany batch retry', () => {
  failOnUnhandledRejections();

  function counted() {
    const calls = { count: 0 };
    const { coordinator } = createCoordinator([
      {
        key: ECHO,
        kind: 'function',
        retry: { initialDelayMs: 10 },
        handler: () => {
          calls.count += 1;
          return 'ran';
        },
      },
    ]);
    return { coordinator, calls };
  }

  it.each([
    [{ maxAttempts: 0 }, 'maxAttempts must be an integer from 1 to 100'],
    [{ jitter: 'lots' }, 'jitter must be "full", "equal" or "none"'],
    [{ initialDelayMs: 500, maxDelayMs: 100 }, 'maxDelayMs must be a number from initialDelayMs'],
    [{ maxAttempts: null }, 'maxAttempts must not be null; leave it out to use the default'],
    [{ initialDelayMs: 3e9 }, 'initialDelayMs must be a number from 0 to 2147483647'],
    [{ maxAttempt: 3 }, 'has unknown field "maxAttempt"'],
    ['often', 'must be an object'],
  ])('rejects retry %j before any call runs', async (retry, message) => {
    const { coordinator, calls } = counted();

    const error = await coordinator.executeMany([{ key: ECHO }], { retry: retry as never }).then(
      () => undefined,
      (reason: unknown) => reason,
    );

    expect(error).toMatchObject({ code: 'INVALID_OPTIONS' });
    expect((error as Error).message).toContain(`Batch options: "retry" ${message}`);
    expect(calls.count).toBe(0);
  });

  it('accepts retry that a tool policy completes', async () => {
    const { coordinator, calls } = counted();

    const [result] = await coordinator.executeMany([{ key: ECHO }], { retry: { maxDelayMs: 50 } });

    expect(successValue(result)).toBe('ran');
    expect(calls.count).toBe(1);
  });

  it('names the merged policy when only the merge breaks a rule', async () => {
    const { coordinator, calls } = counted();

    const [result] = await coordinator.executeMany([{ key: ECHO }], {
      retry: { maxDelayMs: 5 },
    });

    expect(failureError(result).code).toBe('INVALID_OPTIONS');
    expect(failureError(result).message).toContain(
      "Retry policy of this call (its own or its batch's, over the tool's or coordinator's): \"retry\" maxDelayMs must be a number from initialDelayMs (10)",
    );
    expect(calls.count).toBe(0);
  });
});
