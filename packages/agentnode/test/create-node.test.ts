import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { type AgentNode, createNode, isNodeError, isToolError } from '../src/index';

const nodes: AgentNode[] = [];

afterEach(async () => {
  await Promise.all(nodes.splice(0).map((node) => node.close()));
});

async function newNode(config: Parameters<typeof createNode>[0] = {}) {
  const node = await createNode({
    metrics: { collectSystem: false },
    database: ':memory:',
    containers: false,
    ...config,
  });
  nodes.push(node);
  return node;
}

function captureUnhandledRejections() {
  const seen: unknown[] = [];
  const listener = (reason: unknown) => seen.push(reason);
  process.on('unhandledRejection', listener);
  return {
    seen,
    stop: () => process.off('unhandledRejection', listener),
  };
}

describe('createNode', () => {
  it('runs a function tool with no configuration', async () => {
    const node = await createNode();
    nodes.push(node);
    node.tools.register({
      key: 'local:::test:::add',
      kind: 'function',
      parameters: {
        type: 'object',
        properties: { a: { type: 'number' }, b: { type: 'number' } },
        required: ['a', 'b'],
      },
      handler: ({ a, b }) => (a as number) + (b as number),
    });

    const result = await node.execute('local:::test:::add', { a: 2, b: 3 });

    expect(result.ok).toBe(true);
    expect(result).toMatchObject({ ok: true, value: 5 });
    expect(result.attempts).toBe(1);
  });

  it('runs a batch in parallel and keeps input order', async () => {
    const node = await newNode();
    let running = 0;
    let maxRunning = 0;
    node.tools.register({
      key: 'local:::test:::sleep',
      kind: 'function',
      handler: async ({ ms }) => {
        running++;
        maxRunning = Math.max(maxRunning, running);
        await new Promise((resolve) => setTimeout(resolve, ms as number));
        running--;
        return ms;
      },
    });

    const results = await node.executeMany(
      [30, 10, 20, 5].map((ms) => ({ key: 'local:::test:::sleep', params: { ms } })),
      { concurrency: 4 },
    );

    expect(results).toMatchObject([30, 10, 20, 5].map((value) => ({ ok: true, value })));
    expect(maxRunning).toBe(4);
  });

  it('reports a throwing tool as a failed result', async () => {
    const node = await newNode();
    const unhandled = captureUnhandledRejections();
    node.tools.register({
      key: 'local:::test:::broken',
      kind: 'function',
      handler: () => {
        throw new Error('disk on fire');
      },
    });

    const result = await node.execute('local:::test:::broken', {});
    await new Promise((resolve) => setTimeout(resolve, 20));
    unhandled.stop();

    expect(result.ok).toBe(false);
    expect(result).toMatchObject({
      ok: false,
      error: { code: 'EXECUTION_FAILED', cause: { message: 'disk on fire' } },
    });
    expect(unhandled.seen).toEqual([]);
  });

  it('reports a slow tool as a timeout', async () => {
    const node = await newNode();
    const unhandled = captureUnhandledRejections();
    let signalled = false;
    node.tools.register({
      key: 'local:::test:::slow',
      kind: 'function',
      handler: (_params, context) =>
        new Promise((_resolve, reject) => {
          context.signal.addEventListener('abort', () => {
            signalled = true;
            setTimeout(() => reject(new Error('late rejection after abort')), 5);
          });
        }),
    });

    const result = await node.execute('local:::test:::slow', {}, { timeoutMs: 30 });
    await new Promise((resolve) => setTimeout(resolve, 30));
    unhandled.stop();

    expect(result.ok).toBe(false);
    expect(result).toMatchObject({ ok: false, error: { code: 'TIMEOUT' } });
    expect(signalled).toBe(true);
    expect(unhandled.seen).toEqual([]);
  });

  it('records calls in the node metrics', async () => {
    const node = await newNode();
    node.tools.register({
      key: 'local:::test:::echo:::2',
      kind: 'function',
      handler: (params) => params,
    });

    await node.execute('local:::test:::echo:::2', { x: 1 });
    const text = await node.metrics.metrics();

    expect(text).toContain(
      'agentnode_tool_executions_total{kind="function",tool="local:::test:::echo",status="ok"} 1',
    );
    expect(text).toMatch(
      /agentnode_tool_execution_duration_seconds_count\{kind="function",tool="local:::test:::echo",status="ok"\} 1/,
    );
  });

  it('keeps two nodes in one process apart', async () => {
    const first = await newNode();
    const second = await newNode();
    for (const node of [first, second]) {
      node.tools.register({ key: 'local:::test:::ping', kind: 'function', handler: () => 'pong' });
    }

    await first.execute('local:::test:::ping');
    await first.execute('local:::test:::ping');
    await second.execute('local:::test:::ping');

    expect(await first.metrics.metrics()).toContain('tool="local:::test:::ping",status="ok"} 2');
    expect(await second.metrics.metrics()).toContain('tool="local:::test:::ping",status="ok"} 1');
  });

  it('serves metrics over HTTP and stops on close', async () => {
    const node = await createNode({
      metrics: { collectSystem: false },
      database: ':memory:',
      containers: false,
    });
    node.tools.register({ key: 'local:::test:::ping', kind: 'function', handler: () => 'pong' });
    await node.execute('local:::test:::ping');
    const server = await node.serveMetrics({ port: 0 });

    const response = await fetch(server.url);
    const body = await response.text();
    await node.close();

    expect(response.status).toBe(200);
    expect(body).toContain('agentnode_tool_executions_total');
    await expect(fetch(server.url)).rejects.toThrow();
  });

  it('rejects calls after close', async () => {
    const node = await createNode({
      metrics: { collectSystem: false },
      database: ':memory:',
      containers: false,
    });
    await Promise.all([node.close(), node.close()]);

    await expect(node.execute('local:::test:::ping')).rejects.toSatisfy((error) =>
      isNodeError(error, 'NODE_CLOSED'),
    );
    expect(node.closed).toBe(true);
  });

  it('rejects a function tool without a handler', async () => {
    const node = await newNode();

    expect(() => node.tools.register({ key: 'local:::test:::empty', kind: 'function' })).toThrow(
      /handler/,
    );
  });

  it.each([
    ['an unknown option', { databse: ':memory:' }, /Unknown createNode\(\) option "databse"/],
    ['a bad nodeId', { nodeId: 'has space' }, /nodeId/],
    ['a bad concurrency', { concurrency: 0 }, /concurrency/],
  ])('rejects %s', async (_case, config, message) => {
    await expect(createNode(config as Parameters<typeof createNode>[0])).rejects.toThrow(message);
  });

  it('applies node-wide tool config', async () => {
    const node = await newNode({ toolConfig: { 'local:::test:::greet': { greeting: 'hello' } } });
    node.tools.register({
      key: 'local:::test:::greet:::1',
      kind: 'function',
      config: [{ name: 'greeting', required: true }],
      handler: (_params, context) => context.config.greeting,
    });

    const result = await node.execute('local:::test:::greet:::1');

    expect(result).toMatchObject({ ok: true, value: 'hello' });
  });

  it('reuses the node id stored in the data directory', async () => {
    const dataDirectory = mkdtempSync(join(tmpdir(), 'agentnode-id-'));
    const first = await newNode({ dataDirectory });
    const second = await newNode({ dataDirectory });

    expect(first.nodeId).toMatch(/^node-[0-9a-f]{8}$/);
    expect(second.nodeId).toBe(first.nodeId);
    expect(readFileSync(join(dataDirectory, 'node-id'), 'utf8').trim()).toBe(first.nodeId);
    rmSync(dataDirectory, { recursive: true, force: true });
  });

  it('rejects a logger without its methods', async () => {
    await expect(createNode({ logger: { info() {} } as never })).rejects.toThrow(
      /Option "logger" must have debug, info, warn, error methods/,
    );
  });

  it('rejects an unknown database option', async () => {
    await expect(
      createNode({ database: { pth: ':memory:' } as never, containers: false }),
    ).rejects.toThrow(/Unknown option "pth"/);
  });

  it('reports an unknown tool as TOOL_NOT_FOUND', async () => {
    const node = await newNode();

    const result = await node.execute('local:::test:::missing');

    expect(result.ok || isToolError(result.error)).toBe(true);
    expect(result).toMatchObject({ ok: false, error: { code: 'TOOL_NOT_FOUND' } });
  });
});

describe('close', () => {
  it('leaves nothing that keeps the process alive', () => {
    const script = `
      import { createNode } from 'agentnode';
      const node = await createNode();
      node.tools.register({ key: 'local:::t:::ping', kind: 'function', handler: () => 'pong' });
      await node.execute('local:::t:::ping');
      await node.serveMetrics({ port: 0 });
      await node.close();
      console.log('closed');
    `;

    const result = spawnSync(
      process.execPath,
      ['--conditions=source', '--import', 'tsx', '--input-type=module', '-e', script],
      { cwd: fileURLToPath(new URL('..', import.meta.url)), encoding: 'utf8', timeout: 20_000 },
    );

    expect(result.error).toBeUndefined();
    expect(result.stdout.trim()).toBe('closed');
    expect(result.status).toBe(0);
  });
});
