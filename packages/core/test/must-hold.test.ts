import { describe, expect, it } from 'vitest';
import type { AttestationGate, ToolCallResult, ToolExecutor } from '../src/index';
import {
  createCoordinator,
  delay,
  failOnUnhandledRejections,
  failureError,
  sampleOf,
  successValue,
} from './helpers';

describe('abort with one slot and four queued calls', () => {
  failOnUnhandledRejections();

  it('rejects queued calls at once and signals the running one', async () => {
    let started = 0;
    let runningSignal: AbortSignal | undefined;
    let runningHandlerDone = false;
    const controller = new AbortController();
    const { coordinator, metrics } = createCoordinator([
      {
        key: 'local:::demo:::work',
        kind: 'function',
        handler: async (_params, { signal }) => {
          started++;
          runningSignal = signal;
          queueMicrotask(() => controller.abort());
          // Ignores the signal on purpose: the coordinator must not wait for it.
          await delay(100);
          runningHandlerDone = true;
        },
      },
    ]);
    const finishedBeforeHandlerDone: boolean[] = [];
    coordinator.on('callFinished', () => finishedBeforeHandlerDone.push(!runningHandlerDone));

    const results = await coordinator.executeMany(
      Array.from({ length: 4 }, () => ({ key: 'local:::demo:::work' })),
      { concurrency: 1, signal: controller.signal },
    );

    expect(started).toBe(1);
    expect(runningSignal?.aborted).toBe(true);
    expect(results.map((result) => failureError(result).code)).toEqual([
      'ABORTED',
      'ABORTED',
      'ABORTED',
      'ABORTED',
    ]);
    expect(results.slice(1).map((result) => result.attempts)).toEqual([0, 0, 0]);
    expect(finishedBeforeHandlerDone).toEqual([true, true, true, true]);
    expect(await sampleOf(metrics, 'agentnode_tool_calls_in_flight', { kind: 'function' })).toBe(0);
    expect(await sampleOf(metrics, 'agentnode_tool_calls_queued', { kind: 'function' })).toBe(0);
  });
});

/** Runs the setup step before a call of `local:::demo:::setup` proceeds. */
type SetupVariant = {
  name: string;
  gate?: AttestationGate;
  executor?: ToolExecutor;
  privacyTier: 'open' | 'cpu_tee';
};

const SETUP_MS = 50;
const variants: SetupVariant[] = [
  {
    name: 'an attestation check',
    privacyTier: 'cpu_tee',
    gate: {
      check: async ({ signal }) => {
        await delay(SETUP_MS, signal);
        return { allowed: true };
      },
    },
  },
  {
    name: 'executor setup',
    privacyTier: 'open',
    executor: {
      kind: 'prepared',
      run: async (call) => {
        await delay(SETUP_MS, call.signal);
        return call.params.value;
      },
    },
  },
];

describe.each(variants)('rejection during $name', (variant) => {
  failOnUnhandledRejections();

  function setup() {
    const { coordinator } = createCoordinator([], {
      ...(variant.gate && { attestationGate: variant.gate }),
    });
    if (variant.executor) {
      coordinator.registry.registerExecutor(variant.executor);
    }
    coordinator.registry.register({
      key: 'local:::demo:::setup',
      kind: variant.executor ? 'prepared' : 'function',
      privacyTier: variant.privacyTier,
      handler: async (params) => params.value,
    });
    coordinator.registry.register({
      key: 'local:::demo:::reject_soon',
      kind: 'function',
      handler: async () => {
        await delay(1);
        throw new Error('rejected after 1 ms');
      },
    });
    coordinator.registry.register({
      key: 'local:::demo:::steady',
      kind: 'function',
      handler: async (params, { signal }) => {
        await delay(200, signal);
        return params.value;
      },
    });

    return coordinator;
  }

  const calls = [
    { key: 'local:::demo:::setup', params: { value: 'set up' } },
    { key: 'local:::demo:::reject_soon' },
    { key: 'local:::demo:::steady', params: { value: 'steady' } },
  ];

  it('reports the failure beside two results', async () => {
    const results: ToolCallResult[] = await setup().executeMany(calls);

    expect(successValue(results[0])).toBe('set up');
    expect(failureError(results[1]).code).toBe('EXECUTION_FAILED');
    expect(failureError(results[1]).message).toContain('rejected after 1 ms');
    expect(successValue(results[2])).toBe('steady');
  });

  it('aborts the other two with failFast', async () => {
    const results = await setup().executeMany(calls, { failFast: true });

    expect(failureError(results[0]).code).toBe('ABORTED');
    expect(failureError(results[1]).code).toBe('EXECUTION_FAILED');
    expect(failureError(results[2]).code).toBe('ABORTED');
    expect(failureError(results[2]).cause).toBe(failureError(results[1]));
  });
});
