import { describe, expect, it } from 'vitest';
import { createWasmRuntime } from '../src/index';
import { cacheDirectory, coreModule } from './fixtures';
import { failure } from './helpers';

describe('core module calls', () => {
  it('passes numbers and returns the result with fuel', async () => {
    const runtime = createWasmRuntime({ cacheDirectory });
    const tool = runtime.load(await coreModule('limits'));

    const result = await tool.call('add', [2, 40]);

    expect(result.value).toBe(42);
    expect(result.fuelUsed).toBeGreaterThan(0);
    expect(result.durationMs).toBeGreaterThanOrEqual(0);
    await runtime.close();
  });

  const strings = ['', 'plain ASCII', 'héllo', '🦀 emoji 👩‍👩‍👧', 'mixé 🎉 text '.repeat(800)];

  describe.each([
    ['return area', 'echo'],
    ['packed i64', 'echo_packed'],
  ])('strings through memory (%s)', (_, exportName) => {
    it.each(strings.map((text) => [text.length, text]))(
      'round-trips a %i-character string',
      async (_, text) => {
        const runtime = createWasmRuntime({ cacheDirectory });
        const tool = runtime.load(await coreModule('limits'));

        const result = await tool.call(exportName, [text], { returns: 'string' });

        expect(result.value).toBe(text);
        await runtime.close();
      },
    );
  });

  it('round-trips bytes', async () => {
    const runtime = createWasmRuntime({ cacheDirectory });
    const tool = runtime.load(await coreModule('limits'));
    const bytes = Uint8Array.from({ length: 300 }, (_, index) => index % 256);

    const result = await tool.call<Uint8Array>('echo', [bytes], { returns: 'bytes' });

    expect([...result.value]).toEqual([...bytes]);
    await runtime.close();
  });

  it('the 10 KB mixed string is really 10 KB of UTF-8', () => {
    const text = strings[4]!;
    expect(new TextEncoder().encode(text).length).toBeGreaterThan(10_000);
  });

  it('moves buffers by hand inside a session', async () => {
    const runtime = createWasmRuntime({ cacheDirectory });
    const tool = runtime.load(await coreModule('limits'));

    const { value } = await tool.withInstance((instance) => {
      const [pointer, length] = instance.writeString('héllo');
      const area = instance.call('echo', [pointer, length]) as number;
      const located = new DataView(instance.readBytes(area, 8).buffer);
      return instance.readString(located.getUint32(0, true), located.getUint32(4, true));
    });

    expect(value).toBe('héllo');
    await runtime.close();
  });

  it('keeps instance state with reuse and drops it with fresh', async () => {
    const runtime = createWasmRuntime({ cacheDirectory });
    const tool = runtime.load(await coreModule('limits'));

    const first = await tool.call('next');
    const second = await tool.call('next');
    const fresh = await tool.call('next', [], { instance: 'fresh' });

    expect(first.value).toBe(1);
    expect(second.value).toBe(2);
    expect(fresh.value).toBe(1);
    await runtime.close();
  });

  it('lists callable exports without internals', async () => {
    const runtime = createWasmRuntime({ cacheDirectory });
    const tool = runtime.load(await coreModule('limits'));

    const names = (await tool.exports()).map((item) => item.name);

    expect(names).toContain('add');
    expect(names).toContain('echo');
    expect(names).not.toContain('cabi_post_echo');
    expect(names).not.toContain('memory');
    expect(names).not.toContain('agentnode:fuel');
    await runtime.close();
  });

  it('rejects an unknown export with LINK_ERROR naming it', async () => {
    const runtime = createWasmRuntime({ cacheDirectory });
    const tool = runtime.load(await coreModule('limits'));

    const error = await failure(tool.call('missing'));

    expect(error.code).toBe('LINK_ERROR');
    expect(error.message).toContain('"missing"');
    await runtime.close();
  });

  it('rejects arguments of the wrong type', async () => {
    const runtime = createWasmRuntime({ cacheDirectory });
    const tool = runtime.load(await coreModule('limits'));

    const error = await failure(tool.call('add', [{}, 1]));

    expect(error.code).toBe('INVALID_ARGUMENT');
    await runtime.close();
  });
});

describe('core module imports', () => {
  it('calls host imports the caller supplies', async () => {
    const runtime = createWasmRuntime({ cacheDirectory });
    const tool = runtime.load(await coreModule('host-import'), {
      imports: { env: { double: (value: number) => value * 2, sleep: () => undefined } },
    });

    const result = await tool.call('quadruple', [5]);

    expect(result.value).toBe(20);
    await runtime.close();
  });

  it('fails with LINK_ERROR naming the missing import', async () => {
    const runtime = createWasmRuntime({ cacheDirectory });
    const tool = runtime.load(await coreModule('host-import'), {
      imports: { env: { double: (v: number) => v } },
    });

    const error = await failure(tool.call('quadruple', [5]));

    expect(error.code).toBe('LINK_ERROR');
    expect(error.details.importName).toBe('env.sleep');
    await runtime.close();
  });

  it('turns a throwing host import into a TRAP', async () => {
    const runtime = createWasmRuntime({ cacheDirectory });
    const tool = runtime.load(await coreModule('host-import'), {
      imports: {
        env: {
          double: () => {
            throw new Error('host refused');
          },
          sleep: () => undefined,
        },
      },
    });

    const error = await failure(tool.call('quadruple', [5]));

    expect(error.code).toBe('TRAP');
    expect(error.message).toContain('host refused');
    await runtime.close();
  });

  it('runs a WASI command once per instance and returns its exit code', async () => {
    const runtime = createWasmRuntime({ cacheDirectory });
    const tool = runtime.load(await coreModule('wasi-command'));

    const first = await tool.call('_start');
    const second = await tool.call('_start');

    expect(first.value).toBe(7);
    expect(second.value).toBe(7);
    expect(tool.idleInstances).toBe(0);
    await runtime.close();
  });

  it('links WASI preview 1 with the configured arguments', async () => {
    const runtime = createWasmRuntime({ cacheDirectory });
    const tool = runtime.load(await coreModule('wasi'), {
      wasi: { args: ['tool', '--flag', 'value'] },
    });

    const result = await tool.call('argc');

    expect(result.value).toBe(3);
    await runtime.close();
  });
});
