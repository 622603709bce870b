import { describe, expect, it } from 'vitest';
import type { ToolCallRequest, ToolCallResult } from '../src/index';
import { createCoordinator, delay, failOnUnhandledRejections, sampleOf } from './helpers';

/** Small deterministic generator (mulberry32), so a failing seed can be replayed. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const STEP = 'local:::demo:::step';

/** Builds a batch of calls that depend only on earlier calls, so it has no cycle. */
function randomBatch(next: () => number, size: number): ToolCallRequest[] {
  return Array.from({ length: size }, (_, index) => {
    const dependsOn: string[] = [];
    for (let earlier = 0; earlier < index; earlier++) {
      if (next() < 0.15) dependsOn.push(`c${earlier}`);
    }
    const outcome = next();
    return {
      id: `c${index}`,
      key: STEP,
      dependsOn,
      params: {
        ms: Math.floor(next() * 4),
        fail: outcome < 0.15,
        hang: outcome > 0.95,
      },
    };
  });
}

describe.each([1, 2, 3, 4, 5, 6])('random batch, seed %i', (seed) => {
  failOnUnhandledRejections();

  it.each([false, true])('settles every call (failFast %s)', async (failFast) => {
    const next = random(seed);
    const calls = randomBatch(next, 40);
    const ran = new Set<string>();
    const { coordinator, metrics } = createCoordinator([
      {
        key: STEP,
        kind: 'function',
        handler: async (params, { signal, callId }) => {
          ran.add(callId);
          if (params.hang === true) {
            await delay(10_000, signal);
          }
          await delay(params.ms as number, signal);
          if (params.fail === true) {
            throw new Error('step failed');
          }
          return params.ms;
        },
      },
    ]);
    const finished: ToolCallResult[] = [];

    const results = await coordinator.executeMany(calls, {
      concurrency: 1 + Math.floor(next() * 8),
      timeoutMs: 50,
      failFast,
    });
    for await (const result of coordinator.stream(calls, { concurrency: 4, timeoutMs: 50 })) {
      finished.push(result);
    }

    expect(results.map((result) => result.id)).toEqual(calls.map((call) => call.id));
    expect(new Set(finished.map((result) => result.id)).size).toBe(calls.length);
    for (const [index, result] of results.entries()) {
      const call = calls[index]!;
      const failedInput = (call.dependsOn ?? []).find((id) => !results[Number(id.slice(1))]!.ok);
      if (result.ok) {
        expect(failedInput).toBeUndefined();
        continue;
      }
      if (result.error.code === 'DEPENDENCY_FAILED') {
        expect(failedInput).toBeDefined();
        expect(ran.has(result.callId)).toBe(false);
      } else if (!failFast) {
        expect(['EXECUTION_FAILED', 'TIMEOUT']).toContain(result.error.code);
      } else {
        expect(['EXECUTION_FAILED', 'TIMEOUT', 'ABORTED']).toContain(result.error.code);
      }
    }
    expect(await sampleOf(metrics, 'agentnode_tool_calls_in_flight', { kind: 'function' })).toBe(0);
    expect(await sampleOf(metrics, 'agentnode_tool_calls_queued', { kind: 'function' })).toBe(0);
    await coordinator.close();
  });
});
