import { describe, expect, it } from 'vitest';
import { type ToolDefinition, ToolError, ToolRegistry } from '../src/index';
import {
  createCoordinator,
  delay,
  failOnUnhandledRejections,
  functionExecutor,
  successValue,
} from './helpers';

function registry(): ToolRegistry {
  return new ToolRegistry({ executors: [functionExecutor] });
}

function registrationError(definition: unknown, target = registry()): ToolError {
  try {
    target.register(definition as ToolDefinition);
  } catch (error) {
    if (error instanceof ToolError) {
      return error;
    }
    throw error;
  }
  throw new Error('register() did not throw');
}

const handler = () => 'ok';

describe('ToolRegistry.register', () => {
  it('stores the canonical key and defaults', () => {
    const tool = registry().register({
      key: 'Local:::Demo:::Echo:::1.0',
      kind: 'function',
      handler,
    });

    expect(tool.key).toBe('local:::demo:::echo:::1_0');
    expect(tool.keyWithoutVersion).toBe('local:::demo:::echo');
    expect(tool.version).toBe('1_0');
    expect(tool.privacyTier).toBe('open');
    expect(tool.config).toEqual([]);
    expect(Object.isFrozen(tool)).toBe(true);
  });

  it('rejects a kind without an executor', () => {
    const error = registrationError({ key: 'local:::demo:::x', kind: 'wasm' });

    expect(error.code).toBe('UNSUPPORTED_TOOL_KIND');
    expect(error.message).toContain('"wasm"');
    expect(error.message).toContain('"function"');
  });

  it('accepts any kind once its executor is registered', () => {
    const target = registry();
    target.registerExecutor({ kind: 'container', run: () => 'ran' });

    const tool = target.register({
      key: 'local:::demo:::box',
      kind: 'container',
      spec: { image: 'busybox' },
    });

    expect(tool.spec).toEqual({ image: 'busybox' });
    expect(target.kinds).toEqual(['function', 'container']);
  });

  it('rejects a duplicate key unless replace is set', () => {
    const target = registry();
    target.register({ key: 'local:::demo:::x', kind: 'function', handler });

    expect(
      registrationError({ key: 'LOCAL:::demo:::x', kind: 'function', handler }, target).code,
    ).toBe('TOOL_ALREADY_REGISTERED');
    expect(() =>
      target.register({ key: 'local:::demo:::x', kind: 'function', handler }, { replace: true }),
    ).not.toThrow();
    expect(target.size).toBe(1);
  });

  it('reports the executor rejecting a definition', () => {
    const error = registrationError({ key: 'local:::demo:::nohandler', kind: 'function' });

    expect(error.code).toBe('INVALID_DEFINITION');
    expect(error.message).toContain('"handler" must be a function');
  });

  it.each([
    ['an unknown field', { timeout: 5 }, 'unknown field "timeout"'],
    ['an unknown tier', { privacyTier: 'secret' }, '"privacyTier"'],
    ['a zero timeout', { timeoutMs: 0 }, '"timeoutMs"'],
    ['a non-function handler', { handler: 'x' }, '"handler" must be a function'],
    ['an invalid schema', { parameters: { type: 'nonsense' } }, 'not a valid JSON Schema'],
    ['a duplicate config field', { config: [{ name: 'a' }, { name: 'a' }] }, 'declared twice'],
    ['a nameless config field', { config: [{ required: true }] }, 'config[0].name'],
    ['an invalid retry policy', { retry: { maxAttempts: 0 } }, 'maxAttempts'],
  ])('rejects %s', (_case, fields, message) => {
    const error = registrationError({
      key: 'local:::demo:::bad',
      kind: 'function',
      handler,
      ...fields,
    });

    expect(error.code).toBe('INVALID_DEFINITION');
    expect(error.message).toContain(message);
    expect(error.message).toContain('local:::demo:::bad');
  });

  it('rejects an invalid key', () => {
    expect(registrationError({ key: 'bad', kind: 'function', handler }).code).toBe(
      'INVALID_ROUTER_KEY',
    );
  });
});

describe('ToolRegistry lookups', () => {
  it('resolves a key without version to the latest version', () => {
    const target = registry();
    target.register({ key: 'local:::demo:::t:::1', kind: 'function', handler });
    target.register({ key: 'local:::demo:::t:::2', kind: 'function', handler });

    expect(target.get('local:::demo:::t')?.version).toBe('2');
    expect(target.get('local:::demo:::t:::1')?.version).toBe('1');
    expect(target.get('local:::demo:::t:::3')).toBeUndefined();
    expect(target.get('not a key')).toBeUndefined();
  });

  it('unregisters one version', () => {
    const target = registry();
    target.register({ key: 'local:::demo:::t:::1', kind: 'function', handler });
    target.register({ key: 'local:::demo:::t:::2', kind: 'function', handler });

    expect(target.unregister('local:::demo:::t')).toBe(true);
    expect(target.get('local:::demo:::t')?.version).toBe('1');
    expect(target.unregister('local:::demo:::t:::9')).toBe(false);
    expect(target.list().map((tool) => tool.key)).toEqual(['local:::demo:::t:::1']);
  });

  it('compiles a schema again after replacement with the same $id', () => {
    const target = registry();
    const parameters = { $id: 'urn:demo:params', type: 'object' };
    target.register({ key: 'local:::demo:::s', kind: 'function', handler, parameters });

    expect(() =>
      target.register(
        { key: 'local:::demo:::s', kind: 'function', handler, parameters: { ...parameters } },
        { replace: true },
      ),
    ).not.toThrow();
  });

  it.each([5, null, Object.create(null)])('rejects executors given as %s', (executors) => {
    expect(() => new ToolRegistry({ executors })).toThrow(ToolError);
    expect(() => new ToolRegistry({ executors })).toThrow(/Option "executors" must be an array/);
  });

  it('rejects a second executor for one kind', () => {
    expect(() => registry().registerExecutor({ kind: 'function', run: () => 1 })).toThrow(
      /already registered/,
    );
  });
});

describe('registry changes during calls', () => {
  failOnUnhandledRejections();

  it('keeps the definition a running call started with', async () => {
    const { coordinator } = createCoordinator([
      {
        key: 'local:::demo:::v',
        kind: 'function',
        handler: async () => {
          await delay(20);
          return 'old';
        },
      },
    ]);

    const running = coordinator.execute('local:::demo:::v');
    await delay(5);
    coordinator.registry.register(
      { key: 'local:::demo:::v', kind: 'function', handler: () => 'new' },
      { replace: true },
    );
    const after = await coordinator.execute('local:::demo:::v');

    expect(successValue(await running)).toBe('old');
    expect(successValue(after)).toBe('new');
  });
});
