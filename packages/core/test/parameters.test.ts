import { describe, expect, it } from 'vitest';
import {
  createCoordinator,
  failOnUnhandledRejections,
  failureError,
  successValue,
} from './helpers';

const KEY = 'local:::demo:::book';

function coordinatorWithSchema() {
  let runs = 0;
  const { coordinator } = createCoordinator([
    {
      key: KEY,
      kind: 'function',
      parameters: {
        type: 'object',
        properties: {
          title: { type: 'string', minLength: 1 },
          guests: { type: 'integer', minimum: 1 },
          room: {
            type: 'object',
            properties: {
              floor: { type: 'integer' },
              tags: { type: 'array', items: { type: 'string' } },
            },
            required: ['floor'],
          },
        },
        required: ['title', 'guests'],
        additionalProperties: false,
      },
      handler: (params) => {
        runs++;
        return params.title;
      },
    },
  ]);

  return { coordinator, runs: () => runs };
}

describe('parameter validation', () => {
  failOnUnhandledRejections();

  it('runs the tool with valid parameters', async () => {
    const { coordinator } = coordinatorWithSchema();

    const result = await coordinator.execute(KEY, {
      title: 'Standup',
      guests: 3,
      room: { floor: 2 },
    });

    expect(successValue(result)).toBe('Standup');
  });

  it.each([
    ['a missing field', { guests: 2 }, 'title', 'is required'],
    ['a wrong type', { title: 'x', guests: 'two' }, 'guests', 'must be integer'],
    [
      'a nested field',
      { title: 'x', guests: 1, room: { floor: 'top' } },
      'room.floor',
      'must be integer',
    ],
    [
      'an array item',
      { title: 'x', guests: 1, room: { floor: 1, tags: ['ok', 7] } },
      'room.tags[1]',
      'must be string',
    ],
    ['a missing nested field', { title: 'x', guests: 1, room: {} }, 'room.floor', 'is required'],
    ['an unknown field', { title: 'x', guests: 1, colour: 'red' }, 'colour', 'is not allowed'],
    ['a broken bound', { title: 'x', guests: 0 }, 'guests', 'must be >= 1'],
  ])('names the field for %s', async (_case, params, field, rule) => {
    const { coordinator, runs } = coordinatorWithSchema();

    const error = failureError(await coordinator.execute(KEY, params));

    expect(error.code).toBe('INVALID_PARAMETERS');
    expect(error.field).toBe(field);
    expect(error.message).toContain(`field "${field}"`);
    expect(error.message).toContain(rule);
    expect(runs()).toBe(0);
  });

  it.each([
    ['null', null],
    ['an array', [1, 2]],
    ['a string', 'title'],
  ])('rejects %s as parameters', async (_case, params) => {
    const { coordinator } = coordinatorWithSchema();

    const error = failureError(await coordinator.execute(KEY, params as never));

    expect(error.code).toBe('INVALID_PARAMETERS');
    expect(error.message).toContain('expected a JSON object');
  });

  it('accepts any object without a schema', async () => {
    const { coordinator } = createCoordinator([
      { key: 'local:::demo:::free', kind: 'function', handler: (params) => Object.keys(params) },
    ]);

    expect(successValue(await coordinator.execute('local:::demo:::free', { anything: 1 }))).toEqual(
      ['anything'],
    );
  });

  it('rejects a Promise as parameters', async () => {
    const seen: unknown[] = [];
    const { coordinator } = createCoordinator([
      { key: 'local:::demo:::echo', kind: 'function', handler: (params) => seen.push(params) },
    ]);

    const single = await coordinator.execute(
      'local:::demo:::echo',
      Promise.resolve({ a: 1 }) as never,
    );
    const [inBatch] = await coordinator.executeMany([
      { key: 'local:::demo:::echo', params: Promise.resolve({ a: 1 }) as never },
    ]);

    expect(failureError(single).code).toBe('INVALID_PARAMETERS');
    expect(failureError(single).message).toContain('got a Promise');
    expect(failureError(inBatch).code).toBe('INVALID_PARAMETERS');
    expect(seen).toEqual([]);
  });

  it('does not retry invalid parameters', async () => {
    const { coordinator } = coordinatorWithSchema();

    const result = await coordinator.execute(
      KEY,
      {},
      { retry: { maxAttempts: 3, initialDelayMs: 0 } },
    );

    expect(failureError(result).code).toBe('INVALID_PARAMETERS');
    expect(result.attempts).toBe(0);
  });
});
