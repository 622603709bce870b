import { describe, expect, it } from 'vitest';
import { type ConfigField, ToolConfigStore, ToolError, ToolRegistry } from '../src/index';
import {
  createCoordinator,
  failOnUnhandledRejections,
  failureError,
  functionExecutor,
  successValue,
} from './helpers';

const KEY = 'local:::acme:::search:::2';

function registered(config: ConfigField[]) {
  const registry = new ToolRegistry({ executors: [functionExecutor] });

  return registry.register({ key: KEY, kind: 'function', handler: () => null, config });
}

function missingField(run: () => unknown): ToolError {
  try {
    run();
  } catch (error) {
    if (error instanceof ToolError) {
      return error;
    }
    throw error;
  }
  throw new Error('expected MISSING_CONFIG');
}

const FIELDS: ConfigField[] = [
  { name: 'endpoint', required: true, description: 'Search API base URL' },
  { name: 'maxResults', default: 10 },
  { name: 'language', default: 'en' },
];

describe('ToolConfigStore.resolve', () => {
  it('uses the tool defaults object without copying it', () => {
    const tool = registered([{ name: 'maxResults', default: 10 }]);
    const store = new ToolConfigStore();

    const view = store.resolve(tool);

    expect(view.values).toEqual({ maxResults: 10 });
    expect(view.values).toBe(tool.configDefaults);
  });

  it('layers node config over defaults and agent overrides over both', () => {
    const tool = registered(FIELDS);
    const store = new ToolConfigStore({
      node: { [KEY]: { endpoint: 'http://127.0.0.1:9', maxResults: 20 } },
    });
    store.setAgentConfig('agent-1', 'local:::acme:::search', { maxResults: 5 });

    expect(store.resolve(tool).values).toEqual({
      endpoint: 'http://127.0.0.1:9',
      maxResults: 20,
      language: 'en',
    });
    expect(store.resolve(tool, 'agent-1').values).toEqual({
      endpoint: 'http://127.0.0.1:9',
      maxResults: 5,
      language: 'en',
    });
    expect(store.resolve(tool, 'agent-2').values.maxResults).toBe(20);
  });

  it('adds a new key as a required field', () => {
    const tool = registered(FIELDS);
    const store = new ToolConfigStore();
    store.setNodeConfig(KEY, { endpoint: 'http://127.0.0.1:9' });
    store.setAgentConfig('agent-1', KEY, { apiKey: 'k-1' });

    const view = store.resolve(tool, 'agent-1');

    expect(view.values.apiKey).toBe('k-1');
    expect(view.fields.find((field) => field.name === 'apiKey')).toEqual({
      name: 'apiKey',
      required: true,
    });
  });

  it('names the missing required field', () => {
    const tool = registered(FIELDS);
    const store = new ToolConfigStore();

    const error = missingField(() => store.resolve(tool));

    expect(error.code).toBe('MISSING_CONFIG');
    expect(error.field).toBe('endpoint');
    expect(error.message).toContain('"endpoint"');
    expect(error.message).toContain('Search API base URL');
  });

  it('treats an added key set to undefined as missing', () => {
    const tool = registered([]);
    const store = new ToolConfigStore();
    store.setAgentConfig('agent-1', KEY, { token: undefined });

    expect(missingField(() => store.resolve(tool, 'agent-1')).field).toBe('token');
  });

  it('caches the merged view until a layer changes', () => {
    const tool = registered(FIELDS);
    const store = new ToolConfigStore({ node: { [KEY]: { endpoint: 'http://127.0.0.1:9' } } });
    store.setAgentConfig('agent-1', KEY, { maxResults: 3 });

    const first = store.resolve(tool, 'agent-1');
    const second = store.resolve(tool, 'agent-1');
    store.updateAgentConfig('agent-1', KEY, { language: 'de' });
    const third = store.resolve(tool, 'agent-1');

    expect(second).toBe(first);
    expect(third).not.toBe(first);
    expect(third.values).toEqual({ endpoint: 'http://127.0.0.1:9', maxResults: 3, language: 'de' });
  });

  it('leaves other layers alone when one changes', () => {
    const tool = registered(FIELDS);
    const store = new ToolConfigStore({ node: { [KEY]: { endpoint: 'http://127.0.0.1:9' } } });
    const nodeLayer = store.getNodeConfig(KEY);
    const nodeView = store.resolve(tool);

    store.setAgentConfig('agent-1', KEY, { maxResults: 1 });

    expect(store.getNodeConfig(KEY)).toBe(nodeLayer);
    expect(store.resolve(tool)).toBe(nodeView);
  });

  it('shares the node view with agents that override nothing', () => {
    const tool = registered(FIELDS);
    const store = new ToolConfigStore({ node: { [KEY]: { endpoint: 'http://127.0.0.1:9' } } });

    expect(store.resolve(tool, 'agent-9')).toBe(store.resolve(tool));
  });

  it('isolates a layer from input edits', () => {
    const tool = registered(FIELDS);
    const input = { endpoint: 'http://127.0.0.1:9' };
    const store = new ToolConfigStore();
    store.setNodeConfig(KEY, input);

    input.endpoint = 'http://127.0.0.1:10';

    expect(store.resolve(tool).values.endpoint).toBe('http://127.0.0.1:9');
    expect(Object.isFrozen(store.getNodeConfig(KEY))).toBe(true);
  });

  it('removes a layer set to undefined', () => {
    const tool = registered(FIELDS);
    const store = new ToolConfigStore({ node: { [KEY]: { endpoint: 'http://127.0.0.1:9' } } });
    store.setAgentConfig('agent-1', KEY, { maxResults: 1 });

    store.setAgentConfig('agent-1', KEY, undefined);
    store.clearAgent('agent-2');

    expect(store.getAgentConfig('agent-1', KEY)).toBeUndefined();
    expect(store.resolve(tool, 'agent-1').values.maxResults).toBe(10);
  });

  it.each([
    ['an array', () => new ToolConfigStore().setNodeConfig(KEY, [] as never)],
    ['an empty agent id', () => new ToolConfigStore().setAgentConfig('', KEY, {})],
    ['an invalid key', () => new ToolConfigStore().setNodeConfig('nope', {})],
  ])('rejects %s', (_case, run) => {
    expect(run).toThrow(ToolError);
  });
});

describe('config in calls', () => {
  failOnUnhandledRejections();

  it('hands the merged config to the tool', async () => {
    const { coordinator } = createCoordinator([
      { key: KEY, kind: 'function', config: FIELDS, handler: (_params, { config }) => config },
    ]);
    coordinator.configStore.setNodeConfig(KEY, { endpoint: 'http://127.0.0.1:9' });
    coordinator.configStore.setAgentConfig('agent-1', KEY, { language: 'fr' });

    const result = await coordinator.execute(KEY, {}, { agentId: 'agent-1' });

    expect(successValue(result)).toEqual({
      endpoint: 'http://127.0.0.1:9',
      maxResults: 10,
      language: 'fr',
    });
  });

  it('fails a call with MISSING_CONFIG before it runs', async () => {
    let ran = false;
    const { coordinator } = createCoordinator([
      {
        key: KEY,
        kind: 'function',
        config: FIELDS,
        handler: () => {
          ran = true;
        },
      },
    ]);

    const result = await coordinator.execute(KEY, {}, { retry: { maxAttempts: 3 } });

    expect(failureError(result).code).toBe('MISSING_CONFIG');
    expect(failureError(result).field).toBe('endpoint');
    expect(ran).toBe(false);
  });
});
