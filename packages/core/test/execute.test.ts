import { describe, expect, it } from 'vitest';
import { isToolError, ToolError } from '../src/index';
import {
  createCoordinator,
  delay,
  failOnUnhandledRejections,
  failureError,
  sampleOf,
  successValue,
} from './helpers';

const DURATION = 'agentnode_tool_execution_duration_seconds';
const EXECUTIONS = 'agentnode_tool_executions_total';

describe('execute', () => {
  failOnUnhandledRejections();

  it('returns the value with duration and attempts', async () => {
    const { coordinator } = createCoordinator([
      {
        key: 'local:::demo:::add:::1',
        kind: 'function',
        handler: (p) => (p.a as number) + (p.b as number),
      },
    ]);

    const result = await coordinator.execute('local:::demo:::add:::1', { a: 2, b: 3 });

    expect(result.ok).toBe(true);
    expect(successValue(result)).toBe(5);
    expect(result.attempts).toBe(1);
    expect(result.durationMs).toBeGreaterThanOrEqual(0);
    expect(result.key).toBe('local:::demo:::add:::1');
    expect(result.callId).toMatch(/^[0-9a-f]{12}-[0-9a-z]+$/);
  });

  it('resolves a key without version to the latest version', async () => {
    const { coordinator } = createCoordinator([
      { key: 'local:::demo:::v:::1', kind: 'function', handler: () => 'one' },
      { key: 'local:::demo:::v:::2', kind: 'function', handler: () => 'two' },
    ]);

    const latest = await coordinator.execute('Local:::Demo:::V');
    const pinned = await coordinator.execute('local:::demo:::v:::1');

    expect(successValue(latest)).toBe('two');
    expect(successValue(pinned)).toBe('one');
  });

  it('reports a throwing tool as a failed result', async () => {
    const { coordinator } = createCoordinator([
      {
        key: 'local:::demo:::broken',
        kind: 'function',
        handler: async () => {
          throw new Error('disk on fire');
        },
      },
    ]);

    const result = await coordinator.execute('local:::demo:::broken');

    const error = failureError(result);
    expect(error.code).toBe('EXECUTION_FAILED');
    expect(error.message).toContain('disk on fire');
    expect(error.key).toBe('local:::demo:::broken');
    expect(error.callId).toBe(result.callId);
    expect((error.cause as Error).message).toBe('disk on fire');
  });

  it('reports a synchronous throw as a failed result', async () => {
    const { coordinator } = createCoordinator([
      {
        key: 'local:::demo:::sync_throw',
        kind: 'function',
        handler: () => {
          throw new TypeError('bad input');
        },
      },
    ]);

    const result = await coordinator.execute('local:::demo:::sync_throw');

    expect(failureError(result).code).toBe('EXECUTION_FAILED');
  });

  it('reports a synchronously throwing executor as a failed result', async () => {
    const { coordinator } = createCoordinator();
    coordinator.registry.registerExecutor({
      kind: 'broken',
      run: () => {
        throw new Error('executor bug');
      },
    });
    coordinator.registry.register({ key: 'local:::demo:::on_broken', kind: 'broken' });

    const result = await coordinator.execute('local:::demo:::on_broken');

    expect(failureError(result).code).toBe('EXECUTION_FAILED');
    expect(failureError(result).message).toContain('executor bug');
    expect(result.attempts).toBe(1);
  });

  it('reports a timed-out tool as a failed result and aborts its signal', async () => {
    let aborted: unknown;
    const { coordinator } = createCoordinator([
      {
        key: 'local:::demo:::slow',
        kind: 'function',
        handler: async (_params, { signal }) => {
          signal.addEventListener('abort', () => {
            aborted = signal.reason;
          });
          await delay(5_000, signal);
        },
      },
    ]);

    const result = await coordinator.execute('local:::demo:::slow', {}, { timeoutMs: 20 });

    expect(failureError(result).code).toBe('TIMEOUT');
    expect(failureError(result).message).toContain('timeoutMs 20');
    expect(isToolError(aborted, 'TIMEOUT')).toBe(true);
  });

  it('settles on time even when the tool ignores its signal', async () => {
    const { coordinator } = createCoordinator([
      {
        key: 'local:::demo:::stubborn',
        kind: 'function',
        handler: async () => {
          await delay(100);
          throw new Error('late failure');
        },
      },
    ]);

    const result = await coordinator.execute('local:::demo:::stubborn', {}, { timeoutMs: 10 });
    await delay(150);

    expect(failureError(result).code).toBe('TIMEOUT');
  });

  it('fails an unknown key with TOOL_NOT_FOUND', async () => {
    const { coordinator } = createCoordinator();

    const result = await coordinator.execute('local:::demo:::missing');

    expect(failureError(result).code).toBe('TOOL_NOT_FOUND');
    expect(failureError(result).message).toContain('local:::demo:::missing');
  });

  it('fails an invalid key with INVALID_ROUTER_KEY', async () => {
    const { coordinator } = createCoordinator();

    const result = await coordinator.execute('not-a-key');

    expect(failureError(result).code).toBe('INVALID_ROUTER_KEY');
  });

  it('aborts with the caller signal', async () => {
    const { coordinator } = createCoordinator([
      {
        key: 'local:::demo:::wait',
        kind: 'function',
        handler: (_p, { signal }) => delay(5_000, signal),
      },
    ]);
    const controller = new AbortController();

    const pending = coordinator.execute('local:::demo:::wait', {}, { signal: controller.signal });
    await delay(5);
    controller.abort();
    const result = await pending;

    expect(failureError(result).code).toBe('ABORTED');
  });

  it('fails at once when the signal is already aborted', async () => {
    let ran = false;
    const { coordinator } = createCoordinator([
      {
        key: 'local:::demo:::never',
        kind: 'function',
        handler: () => {
          ran = true;
        },
      },
    ]);

    const result = await coordinator.execute(
      'local:::demo:::never',
      {},
      { signal: AbortSignal.abort() },
    );

    expect(failureError(result).code).toBe('ABORTED');
    expect(ran).toBe(false);
  });

  it('keeps a ToolError thrown by the tool', async () => {
    const { coordinator } = createCoordinator([
      {
        key: 'local:::demo:::typed',
        kind: 'function',
        handler: () => {
          throw new ToolError('INVALID_PARAMETERS', 'n must be even', { field: 'n' });
        },
      },
    ]);

    const result = await coordinator.execute('local:::demo:::typed', { n: 3 });

    expect(failureError(result).code).toBe('INVALID_PARAMETERS');
    expect(failureError(result).field).toBe('n');
  });

  it('rejects invalid options as a failed result', async () => {
    const { coordinator } = createCoordinator([
      { key: 'local:::demo:::x', kind: 'function', handler: () => 1 },
    ]);

    const result = await coordinator.execute('local:::demo:::x', {}, { timeoutMs: -5 });

    expect(failureError(result).code).toBe('INVALID_OPTIONS');
    expect(failureError(result).message).toContain('"timeoutMs"');
  });
});

describe('execute input checks', () => {
  it('rejects a misspelt option', async () => {
    const { coordinator } = createCoordinator([
      { key: 'local:::demo:::x', kind: 'function', handler: () => 1 },
    ]);

    const result = await coordinator.execute('local:::demo:::x', {}, { timeout: 5 } as never);

    expect(failureError(result).code).toBe('INVALID_OPTIONS');
    expect(failureError(result).message).toContain('Unknown field "timeout" in the call options');
  });

  it('rejects null options as a failed result', async () => {
    const { coordinator } = createCoordinator([
      { key: 'local:::demo:::x', kind: 'function', handler: () => 1 },
    ]);

    const result = await coordinator.execute('local:::demo:::x', {}, null as never);

    expect(failureError(result).code).toBe('INVALID_OPTIONS');
  });

  it('rejects an empty agent id', async () => {
    const { coordinator } = createCoordinator([
      { key: 'local:::demo:::x', kind: 'function', handler: () => 1 },
    ]);

    const result = await coordinator.execute('local:::demo:::x', {}, { agentId: '' });

    expect(failureError(result).code).toBe('INVALID_OPTIONS');
    expect(failureError(result).message).toContain('"agentId"');
  });

  it('rejects a batch call with a misspelt field', async () => {
    const { coordinator } = createCoordinator([
      { key: 'local:::demo:::x', kind: 'function', handler: () => 1 },
    ]);

    const error = await coordinator
      .executeMany([{ key: 'local:::demo:::x', param: {} } as never])
      .then(
        () => undefined,
        (reason: unknown) => reason as ToolError,
      );

    expect(error?.code).toBe('INVALID_OPTIONS');
    expect(error?.message).toContain('Unknown field "param" in call 0');
  });

  it('rejects a batch call without a key', async () => {
    const { coordinator } = createCoordinator();

    const error = await coordinator.executeMany([{ id: 'a' } as never]).then(
      () => undefined,
      (reason: unknown) => reason as ToolError,
    );

    expect(error?.code).toBe('INVALID_OPTIONS');
    expect(error?.message).toContain('"key"');
  });
});

describe('execute metrics', () => {
  it('times and counts each call by kind, tool and status', async () => {
    const { coordinator, metrics } = createCoordinator([
      { key: 'local:::demo:::ok:::3', kind: 'function', handler: () => 'fine' },
      {
        key: 'local:::demo:::bad',
        kind: 'function',
        handler: () => {
          throw new Error('no');
        },
      },
      {
        key: 'local:::demo:::slow',
        kind: 'function',
        handler: (_p, { signal }) => delay(1_000, signal),
      },
    ]);

    await coordinator.execute('local:::demo:::ok:::3');
    await coordinator.execute('local:::demo:::ok:::3');
    await coordinator.execute('local:::demo:::bad');
    await coordinator.execute('local:::demo:::slow', {}, { timeoutMs: 5 });

    const ok = { kind: 'function', tool: 'local:::demo:::ok', status: 'ok' };
    expect(await sampleOf(metrics, EXECUTIONS, ok)).toBe(2);
    expect(await sampleOf(metrics, DURATION, ok, `${DURATION}_count`)).toBe(2);
    expect(
      await sampleOf(metrics, EXECUTIONS, { tool: 'local:::demo:::bad', status: 'error' }),
    ).toBe(1);
    expect(
      await sampleOf(metrics, EXECUTIONS, { tool: 'local:::demo:::slow', status: 'timeout' }),
    ).toBe(1);
    expect(
      await sampleOf(metrics, 'agentnode_tool_timeouts_total', { tool: 'local:::demo:::slow' }),
    ).toBe(1);
    expect(await sampleOf(metrics, 'agentnode_tool_calls_in_flight', { kind: 'function' })).toBe(0);
  });
});
