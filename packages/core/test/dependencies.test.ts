import { describe, expect, it } from 'vitest';
import { type ToolCallRequest, ToolError } from '../src/index';
import {
  createCoordinator,
  delay,
  failOnUnhandledRejections,
  failureError,
  successValue,
} from './helpers';

const SLEEP = 'local:::demo:::sleep';
const ADD = 'local:::demo:::add';
const FAIL = 'local:::demo:::fail';

function setup() {
  const order: string[] = [];
  const { coordinator } = createCoordinator([
    {
      key: SLEEP,
      kind: 'function',
      handler: async (params, { signal }) => {
        order.push(`start ${String(params.name)}`);
        await delay(params.ms as number, signal);
        order.push(`end ${String(params.name)}`);
        return params.value;
      },
    },
    {
      key: ADD,
      kind: 'function',
      parameters: {
        type: 'object',
        properties: { a: { type: 'number' }, b: { type: 'number' } },
        required: ['a', 'b'],
      },
      handler: (params) => {
        order.push('add');
        return (params.a as number) + (params.b as number);
      },
    },
    {
      key: FAIL,
      kind: 'function',
      handler: () => {
        throw new Error('input broke');
      },
    },
  ]);

  return { coordinator, order };
}

async function batchError(run: () => Promise<unknown>): Promise<ToolError> {
  try {
    await run();
  } catch (error) {
    if (error instanceof ToolError) {
      return error;
    }
    throw error;
  }
  throw new Error('expected the batch to be rejected');
}

describe('dependencies', () => {
  failOnUnhandledRejections();

  it('feeds outputs into inputs', async () => {
    const { coordinator } = setup();

    const results = await coordinator.executeMany([
      { id: 'sum', key: ADD, inputs: { a: 'x', b: 'y' } },
      { id: 'x', key: SLEEP, params: { name: 'x', ms: 5, value: 2 } },
      { id: 'y', key: SLEEP, params: { name: 'y', ms: 1, value: 40 } },
    ]);

    expect(successValue(results[0])).toBe(42);
    expect(results.map((result) => result.id)).toEqual(['sum', 'x', 'y']);
  });

  it('builds parameters with a function of the outputs', async () => {
    const { coordinator } = setup();

    const results = await coordinator.executeMany([
      { id: 'x', key: SLEEP, params: { name: 'x', ms: 1, value: 5 } },
      {
        id: 'double',
        key: ADD,
        dependsOn: ['x'],
        params: (outputs) => ({ a: outputs.x, b: outputs.x }),
      },
    ]);

    expect(successValue(results[1])).toBe(10);
  });

  it('starts a dependent while unrelated calls still run', async () => {
    const { coordinator, order } = setup();
    let releaseSlow: () => void = () => {};
    const slowReleased = new Promise<void>((resolve) => {
      releaseSlow = resolve;
    });
    coordinator.registry.register({
      key: 'local:::demo:::slow',
      kind: 'function',
      handler: async () => {
        order.push('start slow');
        // Ends only once the dependent has started, or after 5 s if it never does.
        await Promise.race([slowReleased, delay(5_000)]);
        order.push('end slow');
      },
    });
    coordinator.on('callStarted', (event) => {
      if (event.id === 'after-b') releaseSlow();
    });

    await coordinator.executeMany([
      { id: 'slow', key: 'local:::demo:::slow' },
      { id: 'b', key: SLEEP, params: { name: 'b', ms: 5, value: 2 } },
      { id: 'after-b', key: SLEEP, dependsOn: ['b'], params: { name: 'after-b', ms: 1, value: 3 } },
    ]);

    expect(order.indexOf('start b')).toBeLessThan(order.indexOf('end slow'));
    expect(order.indexOf('start after-b')).toBeGreaterThan(order.indexOf('end b'));
    expect(order.indexOf('start after-b')).toBeLessThan(order.indexOf('end slow'));
  });

  it('fails dependents of a failed input with DEPENDENCY_FAILED', async () => {
    const { coordinator, order } = setup();

    const results = await coordinator.executeMany([
      { id: 'source', key: FAIL },
      { id: 'middle', key: ADD, inputs: { a: 'source' }, params: { b: 1 } },
      { id: 'last', key: ADD, inputs: { a: 'middle' }, params: { b: 1 } },
      { id: 'free', key: ADD, params: { a: 1, b: 1 } },
    ]);

    expect(failureError(results[0]).code).toBe('EXECUTION_FAILED');
    expect(failureError(results[1]).code).toBe('DEPENDENCY_FAILED');
    expect(failureError(results[1]).message).toContain('input "source"');
    expect(failureError(results[2]).code).toBe('DEPENDENCY_FAILED');
    expect(failureError(results[2]).message).toContain('input "middle"');
    expect(failureError(results[2]).callId).toBe(results[2]?.callId);
    expect(successValue(results[3])).toBe(2);
    expect(order).toEqual(['add']);
  });

  it('shortens the message of a long cycle', async () => {
    const { coordinator } = setup();
    const calls = Array.from({ length: 5_000 }, (_, index) => ({
      id: `c${index}`,
      key: ADD,
      dependsOn: [`c${(index + 1) % 5_000}`],
    }));

    const error = await batchError(() => coordinator.executeMany(calls));

    expect(error.code).toBe('DEPENDENCY_CYCLE');
    expect(error.message).toContain('(5000 calls in the cycle)');
    expect(error.message.length).toBeLessThan(400);
  });

  it('runs a chain of 2,000 dependent calls', async () => {
    const { coordinator } = setup();
    const calls = Array.from({ length: 2_000 }, (_, index) => ({
      id: `c${index}`,
      key: ADD,
      ...(index === 0
        ? { params: { a: 0, b: 1 } }
        : { inputs: { a: `c${index - 1}` }, params: { b: 1 } }),
    }));

    const results = await coordinator.executeMany(calls);

    expect(successValue(results.at(-1))).toBe(2_000);
  });

  it('fails a call whose parameter builder throws', async () => {
    const { coordinator } = setup();

    const results = await coordinator.executeMany([
      {
        key: ADD,
        params: () => {
          throw new Error('no outputs yet');
        },
      },
    ]);

    expect(failureError(results[0]).code).toBe('INVALID_PARAMETERS');
    expect(failureError(results[0]).message).toContain('no outputs yet');
  });

  it('rejects a parameter set by both params and inputs', async () => {
    const { coordinator, order } = setup();

    const error = await batchError(() =>
      coordinator.executeMany([
        { id: 'a', key: SLEEP, params: { name: 'a', ms: 1, value: 1 } },
        { id: 'b', key: ADD, inputs: { a: 'a' }, params: { a: 5, b: 2 } },
      ]),
    );

    expect(error.code).toBe('INVALID_OPTIONS');
    expect(error.message).toContain('"a"');
    expect(error.message).toContain('both');
    expect(order).toEqual([]);
  });

  it.each([
    ['a number', 5, 'got 5'],
    ['a Promise', Promise.resolve({ b: 2 }), 'got a Promise'],
  ])('fails params of %s beside inputs', async (_case, params, message) => {
    const { coordinator, order } = setup();

    const [, result] = await coordinator.executeMany([
      { id: 'a', key: SLEEP, params: { name: 'a', ms: 1, value: 1 } },
      { id: 'b', key: ADD, inputs: { a: 'a' }, params: params as never },
    ]);

    expect(failureError(result).code).toBe('INVALID_PARAMETERS');
    expect(failureError(result).message).toContain(message);
    expect(order).not.toContain('add');
  });

  it('fails a builder that returns an input parameter', async () => {
    const { coordinator, order } = setup();

    const [, result] = await coordinator.executeMany([
      { id: 'a', key: SLEEP, params: { name: 'a', ms: 1, value: 1 } },
      { id: 'b', key: ADD, inputs: { a: 'a' }, params: () => ({ a: 5, b: 2 }) },
    ]);

    expect(failureError(result).code).toBe('INVALID_PARAMETERS');
    expect(failureError(result).message).toContain('"a"');
    expect(order).not.toContain('add');
  });

  it('fails a call whose parameter builder is async', async () => {
    const seen: unknown[] = [];
    const { coordinator } = createCoordinator([
      { key: 'local:::demo:::echo', kind: 'function', handler: (params) => seen.push(params) },
    ]);

    const [resolving, rejecting] = await coordinator.executeMany([
      { key: 'local:::demo:::echo', params: (async () => ({ a: 1 })) as never },
      {
        key: 'local:::demo:::echo',
        params: (async () => {
          throw new Error('lookup failed');
        }) as never,
      },
    ]);

    expect(failureError(resolving).code).toBe('INVALID_PARAMETERS');
    expect(failureError(resolving).message).toContain('returned a Promise');
    expect(failureError(rejecting).code).toBe('INVALID_PARAMETERS');
    expect(seen).toEqual([]);
  });

  it.each<[string, ToolCallRequest[], string, string]>([
    [
      'a cycle',
      [
        { id: 'a', key: ADD, dependsOn: ['c'] },
        { id: 'b', key: ADD, dependsOn: ['a'] },
        { id: 'c', key: ADD, dependsOn: ['b'] },
        { id: 'd', key: SLEEP, params: { name: 'd', ms: 1 } },
      ],
      'DEPENDENCY_CYCLE',
      '"a" -> "c" -> "b" -> "a"',
    ],
    [
      'a self-dependency',
      [{ id: 'a', key: ADD, inputs: { a: 'a' } }],
      'DEPENDENCY_CYCLE',
      '"a" -> "a"',
    ],
    [
      'a missing id',
      [
        { id: 'a', key: SLEEP, params: { name: 'a', ms: 1 } },
        { id: 'b', key: ADD, inputs: { a: 'nope' } },
      ],
      'DEPENDENCY_NOT_FOUND',
      '"nope"',
    ],
    [
      'a duplicate id',
      [
        { id: 'a', key: SLEEP, params: { name: 'a', ms: 1 } },
        { id: 'a', key: SLEEP, params: { name: 'a2', ms: 1 } },
      ],
      'DUPLICATE_CALL_ID',
      '"a"',
    ],
  ])('rejects %s before anything runs', async (_case, calls, code, message) => {
    const { coordinator, order } = setup();

    const error = await batchError(() => coordinator.executeMany(calls));

    expect(error.code).toBe(code);
    expect(error.message).toContain(message);
    expect(order).toEqual([]);
  });
});
