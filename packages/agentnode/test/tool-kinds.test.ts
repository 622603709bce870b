import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildLocalImage, busyboxRootfs } from '@agentnode/container-pool';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import wabtInit from 'wabt';
import { type AgentNode, createNode, isNodeError, openNodeStore } from '../src/index';

const ADD_WAT = `
(module
  (func (export "add") (param i32 i32) (result i32)
    local.get 0
    local.get 1
    i32.add)
  (func (export "spin") (loop $forever (br $forever))))
`;

let addModule: Uint8Array;
const directory = mkdtempSync(join(tmpdir(), 'agentnode-kinds-'));

beforeAll(async () => {
  const wabt = await wabtInit();
  const parsed = wabt.parseWat('add.wat', ADD_WAT);
  addModule = parsed.toBinary({}).buffer;
  parsed.destroy();
});

afterAll(() => rmSync(directory, { recursive: true, force: true }));

function quietNode(config: Parameters<typeof createNode>[0] = {}): Promise<AgentNode> {
  return createNode({
    metrics: { collectSystem: false },
    database: ':memory:',
    containers: false,
    dataDirectory: directory,
    ...config,
  });
}

describe('wasm tools', () => {
  it('run an export with mapped arguments', async () => {
    const node = await quietNode();
    node.tools.register({
      key: 'local:::test:::add',
      kind: 'wasm',
      parameters: {
        type: 'object',
        properties: { a: { type: 'integer' }, b: { type: 'integer' } },
      },
      spec: {
        module: addModule,
        export: 'add',
        args: (params: Record<string, unknown>) => [params.a, params.b],
      },
    });

    const result = await node.execute('local:::test:::add', { a: 2, b: 40 });
    await node.close();

    expect(result).toMatchObject({ ok: true, value: 42 });
  });

  it('fail an endless loop with OUT_OF_FUEL', async () => {
    const node = await quietNode();
    node.tools.register({
      key: 'local:::test:::spin',
      kind: 'wasm',
      spec: { module: addModule, export: 'spin', args: () => [], call: { fuelLimit: 100_000 } },
    });

    const result = await node.execute('local:::test:::spin');
    await node.close();

    expect(result.ok).toBe(false);
    expect(result).toMatchObject({
      ok: false,
      error: { code: 'EXECUTION_FAILED', cause: { code: 'OUT_OF_FUEL' } },
    });
  });

  it('reject a misspelt call option at registration', async () => {
    const node = await quietNode();

    expect(() =>
      node.tools.register({
        key: 'local:::test:::typo',
        kind: 'wasm',
        spec: { module: addModule, export: 'add', call: { fuelLimt: 5 } as never },
      }),
    ).toThrow(/fuelLimt/);
    await node.close();
  });

  it('reject invalid bytes at registration', async () => {
    const node = await quietNode();

    expect(() =>
      node.tools.register({
        key: 'local:::test:::broken',
        kind: 'wasm',
        spec: { module: new Uint8Array([1, 2, 3, 4]), export: 'add' },
      }),
    ).toThrow(/spec|module|WebAssembly/i);
    await node.close();
  });
});

describe('container tools', () => {
  it('fail clearly when containers are off', async () => {
    const node = await quietNode();
    node.tools.register({
      key: 'local:::test:::count',
      kind: 'container',
      spec: { container: { image: 'busybox' }, code: 'wc -c' },
    });

    const result = await node.execute('local:::test:::count', {});
    await node.close();

    expect(result.ok).toBe(false);
    expect(result).toMatchObject({
      ok: false,
      error: { message: expect.stringContaining('containers: false') },
    });
  });

  it('run in a warm container when Docker answers', async (context) => {
    const node = await createNode({
      metrics: { collectSystem: false },
      database: ':memory:',
      dataDirectory: directory,
      logger: { debug() {}, info() {}, warn() {}, error() {} },
    });
    if (node.containers === undefined) {
      await node.close();
      if (process.env.AGENTNODE_REQUIRE_SERVICES === '1') {
        throw new Error('AGENTNODE_REQUIRE_SERVICES=1 but the node found no Docker engine.');
      }
      context.skip('no Docker engine answered; container tool test skipped');
    }
    const image = await buildLocalImage({
      repository: 'agentnode-test/busybox',
      ...(await busyboxRootfs()),
    });
    node.tools.register({
      key: 'local:::test:::count',
      kind: 'container',
      spec: {
        container: { image: image.image, runner: 'sh', min: 0, max: 2 },
        code: 'wc -c',
        input: (params: Record<string, unknown>) => String(params.text),
      },
    });
    node.tools.register({
      key: 'local:::test:::fail',
      kind: 'container',
      spec: {
        container: { image: image.image, runner: 'sh', min: 0, max: 2 },
        code: 'echo nope >&2; exit 3',
      },
    });

    const counted = await node.execute('local:::test:::count', { text: 'hello' });
    const failed = await node.execute('local:::test:::fail', {});
    await node.close();

    expect(counted).toMatchObject({ ok: true, value: expect.stringMatching(/^\s*5$/) });
    expect(failed.ok).toBe(false);
    expect(failed).toMatchObject({
      ok: false,
      error: { message: expect.stringMatching(/exited with code 3: nope/) },
    });
  }, 120_000);
});

describe('execution log', () => {
  it('keeps every call after close', async () => {
    const path = join(directory, 'log.db');
    const node = await quietNode({ database: path });
    node.tools.register({ key: 'local:::test:::ok', kind: 'function', handler: () => 1 });
    node.tools.register({
      key: 'local:::test:::bad',
      kind: 'function',
      handler: () => {
        throw new Error('bad');
      },
    });

    await node.executeMany([
      { key: 'local:::test:::ok' },
      { key: 'local:::test:::ok' },
      { key: 'local:::test:::bad' },
    ]);
    await node.close();

    const store = await openNodeStore(path);
    const rows = await store.listExecutions();
    await store.close();
    expect(rows).toHaveLength(3);
    expect(rows.filter((row) => row.status === 'ok')).toHaveLength(2);
    expect(rows.find((row) => row.status === 'error')?.errorCode).toBe('EXECUTION_FAILED');
  });
});

describe('close', () => {
  it('lets a running call finish', async () => {
    const node = await quietNode();
    node.tools.register({
      key: 'local:::test:::slow',
      kind: 'function',
      handler: () => new Promise((resolve) => setTimeout(() => resolve('done'), 50)),
    });

    const running = node.execute('local:::test:::slow');
    await new Promise((resolve) => setTimeout(resolve, 5));
    await node.close();
    const result = await running;

    expect(result).toMatchObject({ ok: true, value: 'done' });
    await expect(node.execute('local:::test:::slow')).rejects.toSatisfy((error) =>
      isNodeError(error, 'NODE_CLOSED'),
    );
  });

  it('aborts calls past the drain deadline', async () => {
    const node = await quietNode({
      drainTimeoutMs: 20,
      logger: { debug() {}, info() {}, warn() {}, error() {} },
    });
    node.tools.register({
      key: 'local:::test:::stuck',
      kind: 'function',
      handler: (_params, context) =>
        new Promise((_resolve, reject) =>
          context.signal.addEventListener('abort', () => reject(context.signal.reason)),
        ),
    });

    const running = node.execute('local:::test:::stuck', {}, { timeoutMs: 60_000 });
    await new Promise((resolve) => setTimeout(resolve, 5));
    await node.close();
    const result = await running;

    expect(result.ok).toBe(false);
    expect(result).toMatchObject({ ok: false, error: { code: 'ABORTED' } });
  });
});

describe('metrics scrape', () => {
  it('exposes every subsystem in one scrape', async () => {
    const node = await quietNode();
    node.tools.register({ key: 'local:::test:::ok', kind: 'function', handler: () => 1 });
    await node.execute('local:::test:::ok');
    const server = await node.serveMetrics({ port: 0 });

    const body = await (await fetch(server.url)).text();
    await node.close();

    for (const prefix of [
      'agentnode_tool_',
      'agentnode_db_',
      'agentnode_wasm_',
      'agentnode_attestation_',
    ]) {
      expect(body, prefix).toContain(prefix);
    }
  });
});
