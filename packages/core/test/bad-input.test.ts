import { describe, expect, it } from 'vitest';
import { type ToolCallRequest, type ToolCallResult, ToolError } from '../src/index';
import { createCoordinator, failOnUnhandledRejections, failureError } from './helpers';

const ECHO = 'local:::demo:::echo';

function setup() {
  return createCoordinator([{ key: ECHO, kind: 'function', handler: (params) => params }])
    .coordinator;
}

/** Settles `run` and returns the rejection reason, or undefined when it resolved. */
async function rejectionOf(run: () => Promise<unknown>): Promise<unknown> {
  try {
    await run();
  } catch (error) {
    return error;
  }

  return undefined;
}

/** Consumes a stream to the end and returns the rejection reason, or undefined. */
function streamRejectionOf(
  coordinator: ReturnType<typeof setup>,
  calls: unknown,
  options?: unknown,
): Promise<unknown> {
  return rejectionOf(async () => {
    for await (const _result of coordinator.stream(calls as never, options as never)) {
      // Only the rejection matters here.
    }
  });
}

const BAD_VALUES: ReadonlyArray<readonly [string, unknown]> = [
  ['null', null],
  ['an array', []],
  ['a number', 5],
  ['a string', 'text'],
];

describe.each(BAD_VALUES)('bad input: %s', (_name, bad) => {
  failOnUnhandledRejections();

  it('fails execute() given it as options', async () => {
    const result = await setup().execute(ECHO, {}, bad as never);

    expect(failureError(result).code).toBe('INVALID_OPTIONS');
    expect(failureError(result).message).toContain('Call options must be an object');
  });

  it('fails execute() given it as params', async () => {
    const result = await setup().execute(ECHO, bad as never);

    expect(failureError(result).code).toBe('INVALID_PARAMETERS');
  });

  it('fails execute() given it as key', async () => {
    const result: ToolCallResult = await setup().execute(bad as never);

    expect(failureError(result).code).toBe('INVALID_ROUTER_KEY');
    expect(typeof result.key).toBe('string');
  });

  it('fails execute() given it as id', async () => {
    const result = await setup().execute(ECHO, {}, { id: bad as never });

    if (bad === 'text') {
      expect(result.id).toBe('text');
      return;
    }
    expect(failureError(result).code).toBe('INVALID_OPTIONS');
    expect(failureError(result).message).toContain('"id"');
    expect(result.id).toBe(result.callId);
  });

  it('fails execute() given it as retry', async () => {
    const result = await setup().execute(ECHO, {}, { retry: bad as never });

    expect(failureError(result).code).toBe('INVALID_OPTIONS');
    expect(failureError(result).message).toContain('"retry"');
  });

  it('rejects executeMany() given it as calls', async () => {
    const error = await rejectionOf(() => setup().executeMany(bad as never));

    if (Array.isArray(bad)) {
      expect(error).toBeUndefined();
    } else {
      expect(error).toBeInstanceOf(ToolError);
      expect((error as ToolError).code).toBe('INVALID_OPTIONS');
    }
  });

  it.each([
    [
      'options',
      (coordinator: ReturnType<typeof setup>) =>
        coordinator.executeMany([{ key: ECHO }], bad as never),
    ],
    ['a call', (coordinator: ReturnType<typeof setup>) => coordinator.executeMany([bad as never])],
    [
      'inputs',
      (coordinator: ReturnType<typeof setup>) =>
        coordinator.executeMany([
          { id: 'a', key: ECHO },
          { key: ECHO, inputs: bad as never },
        ]),
    ],
    [
      'dependsOn',
      (coordinator: ReturnType<typeof setup>) =>
        coordinator.executeMany([
          { id: 'a', key: ECHO },
          { key: ECHO, dependsOn: bad as never },
        ]),
    ],
    [
      'an input id',
      (coordinator: ReturnType<typeof setup>) =>
        coordinator.executeMany([
          { id: 'a', key: ECHO },
          { key: ECHO, inputs: { x: bad as never } },
        ]),
    ],
    [
      'a dependsOn id',
      (coordinator: ReturnType<typeof setup>) =>
        coordinator.executeMany([
          { id: 'a', key: ECHO },
          { key: ECHO, dependsOn: [bad as never] },
        ]),
    ],
  ])('rejects executeMany() given it as %s', async (field, run) => {
    const error = await rejectionOf(() => run(setup()));

    if (field === 'dependsOn' && Array.isArray(bad)) {
      // An empty dependsOn list is valid.
      expect(error).toBeUndefined();
      return;
    }
    expect(error).toBeInstanceOf(ToolError);
    if (bad === 'text' && field.endsWith(' id')) {
      // A string is an id, but no call in the batch has this one.
      expect((error as ToolError).code).toBe('DEPENDENCY_NOT_FOUND');
    } else {
      expect((error as ToolError).code).toBe('INVALID_OPTIONS');
    }
  });

  it('fails a batch call given it as retry', async () => {
    const [result] = await setup().executeMany([{ key: ECHO, retry: bad as never }]);

    expect(failureError(result).code).toBe('INVALID_OPTIONS');
    expect(failureError(result).message).toContain('"retry"');
  });

  it('rejects executeMany() given it as a call id', async () => {
    const error = await rejectionOf(() => setup().executeMany([{ id: bad as never, key: ECHO }]));

    if (bad === 'text') {
      expect(error).toBeUndefined();
    } else {
      expect((error as ToolError).code).toBe('INVALID_OPTIONS');
      expect((error as ToolError).message).toContain('"id"');
    }
  });

  it('fails a batch call given it as params', async () => {
    const [result] = await setup().executeMany([{ key: ECHO, params: bad as never }]);

    expect(failureError(result).code).toBe('INVALID_PARAMETERS');
  });

  it('rejects stream() given it as calls, a call or options', async () => {
    const coordinator = setup();
    const calls: ToolCallRequest[] = [{ key: ECHO }];

    const asCalls = await streamRejectionOf(coordinator, bad);
    const asCall = await streamRejectionOf(coordinator, [bad]);
    const asOptions = await streamRejectionOf(coordinator, calls, bad);

    if (!Array.isArray(bad)) {
      expect((asCalls as ToolError).code).toBe('INVALID_OPTIONS');
    }
    expect((asCall as ToolError).code).toBe('INVALID_OPTIONS');
    expect((asOptions as ToolError).code).toBe('INVALID_OPTIONS');
  });
});

describe('values without a string form', () => {
  failOnUnhandledRejections();

  // String() throws a TypeError for the bare object, and a template literal for the symbol.
  const bare = () => Object.create(null) as never;
  const symbol = Symbol('odd') as never;

  it('fails a tool that throws a bare object', async () => {
    const { coordinator } = createCoordinator([
      {
        key: 'local:::demo:::odd',
        kind: 'function',
        handler: () => {
          throw bare();
        },
      },
    ]);

    const single = await coordinator.execute('local:::demo:::odd');
    const [inBatch] = await coordinator.executeMany([{ key: 'local:::demo:::odd' }]);

    expect(failureError(single).code).toBe('EXECUTION_FAILED');
    expect(failureError(inBatch).code).toBe('EXECUTION_FAILED');
    expect(failureError(inBatch).message).toContain('Tool "local:::demo:::odd" failed');
  });

  it('fails execute() given a bare object as key', async () => {
    const result = await setup().execute(bare());

    expect(failureError(result).code).toBe('INVALID_ROUTER_KEY');
  });

  it.each([
    ['timeoutMs', { timeoutMs: bare() }],
    ['totalTimeoutMs', { totalTimeoutMs: symbol }],
    ['retry', { retry: { maxAttempts: bare() } }],
    ['retry', { retry: { initialDelayMs: symbol } }],
  ])('fails execute() given an odd %s', async (name, options) => {
    const result = await setup().execute(ECHO, {}, options);

    expect(failureError(result).code).toBe('INVALID_OPTIONS');
    expect(failureError(result).message).toContain(name);
  });

  it('rejects executeMany() given an odd concurrency', async () => {
    const error = await rejectionOf(() =>
      setup().executeMany([{ key: ECHO }], { concurrency: bare() }),
    );

    expect((error as ToolError).code).toBe('INVALID_OPTIONS');
    expect((error as ToolError).message).toContain('"concurrency"');
  });
});
