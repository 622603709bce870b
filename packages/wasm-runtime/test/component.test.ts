import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { buildWatComponent, createWasmRuntime, isWasmRuntimeError } from '../src/index';
import { cacheDirectory, echoComponent, randomComponent } from './fixtures';
import { failure } from './helpers';

setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

const quietHost = { 'test:echo/host': { log: () => undefined } };

const strings = ['', 'plain ASCII', 'héllo', '🦀 emoji 👩‍👩‍👧', 'mixé 🎉 text '.repeat(800)];

describe('component calls', () => {
  it.each(strings.map((text) => [text.length, text]))(
    'echoes a %i-character string',
    async (_, text) => {
      const runtime = createWasmRuntime({ cacheDirectory });
      const tool = runtime.load(await echoComponent(), { imports: quietHost });

      const result = await tool.call('echo', [text]);

      expect(result.value).toBe(text);
      expect(Buffer.from(result.value as string, 'utf8').equals(Buffer.from(text, 'utf8'))).toBe(
        true,
      );
      await runtime.close();
    },
  );

  it('keeps memory steady over 100,000 echo calls', async () => {
    const runtime = createWasmRuntime({ cacheDirectory });
    const tool = runtime.load(await echoComponent(), { imports: quietHost });
    const text = 'héllo 🦀 '.repeat(20);

    const guestBefore = await tool.withInstance((instance) => instance.memoryBytes());
    for (let call = 0; call < 1_000; call++) {
      await tool.call('echo', [text]);
    }
    collectGarbage();
    const heapBefore = process.memoryUsage().heapUsed;

    for (let call = 0; call < 100_000; call++) {
      const { value } = await tool.call('echo', [text]);
      if (value !== text) {
        throw new Error(`call ${call} returned ${String(value)}`);
      }
    }
    collectGarbage();
    const heapAfter = process.memoryUsage().heapUsed;
    const guestAfter = await tool.withInstance((instance) => instance.memoryBytes());

    expect(guestAfter.value).toBe(guestBefore.value);
    expect(tool.idleInstances).toBe(1);
    // 100,000 leaked results of about 200 bytes each would add over 20 MB.
    expect(heapAfter - heapBefore).toBeLessThan(2 * 1024 * 1024);
    await runtime.close();
  }, 60_000);

  it('passes numbers with their WIT types', async () => {
    const runtime = createWasmRuntime({ cacheDirectory });
    const tool = runtime.load(await echoComponent(), { imports: quietHost });

    const result = await tool.call('add', [40, 2]);

    expect(result.value).toBe(42);
    expect(result.fuelUsed).toBeGreaterThan(0);
    await runtime.close();
  });

  it('calls the host import the caller supplies', async () => {
    const runtime = createWasmRuntime({ cacheDirectory });
    const messages: string[] = [];
    const tool = runtime.load(await echoComponent(), {
      imports: { 'test:echo/host': { log: (message: string) => messages.push(message) } },
    });

    await tool.call('shout', ['hi there']);

    expect(messages).toEqual(['hi there']);
    await runtime.close();
  });

  it('links WASI interfaces from the preview 2 shim', async () => {
    const runtime = createWasmRuntime({ cacheDirectory });
    const tool = runtime.load(await randomComponent());

    const first = await tool.call<bigint>('roll');
    const second = await tool.call<bigint>('roll');

    expect(typeof first.value).toBe('bigint');
    expect(second.value).not.toBe(first.value);
    await runtime.close();
  });

  it('lets host imports replace a WASI interface', async () => {
    const runtime = createWasmRuntime({ cacheDirectory });
    const tool = runtime.load(await randomComponent(), {
      imports: { 'wasi:random/random@0.2.0': { getRandomU64: () => 42n } },
    });

    const result = await tool.call('roll');

    expect(result.value).toBe(42n);
    await runtime.close();
  });

  it('rejects a component declaring memory above the cap when it loads', async () => {
    const bytes = await buildWatComponent({
      wat: '(module (memory (export "memory") 4) (func (export "answer") (result i32) i32.const 42))',
      wit: 'package test:big; world big { export answer: func() -> u32; }',
    });
    const runtime = createWasmRuntime({ cacheDirectory, memoryLimitBytes: 2 * 65536 });
    const tool = runtime.load(bytes);

    const error = await failure(tool.ready());

    expect(error.code).toBe('MEMORY_LIMIT');
    await runtime.close();
  });

  it('rejects bytes jco cannot transpile with INVALID_MODULE', async () => {
    const runtime = createWasmRuntime({ cacheDirectory });
    const header = [0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00];
    const tool = runtime.load(
      Uint8Array.from([...header, 0x07, 0x05, 0xff, 0xff, 0xff, 0xff, 0xff]),
    );

    const error = await failure(tool.call('anything'));

    expect(tool.kind).toBe('component');
    expect(error.code).toBe('INVALID_MODULE');
    await runtime.close();
  });

  it('fails with LINK_ERROR naming a missing interface', async () => {
    const runtime = createWasmRuntime({ cacheDirectory });
    const tool = runtime.load(await echoComponent());

    const error = await failure(tool.call('echo', ['x']));

    expect(error.code).toBe('LINK_ERROR');
    expect(error.details.importName).toBe('test:echo/host');
    await runtime.close();
  });

  it('accepts WIT names and jco names for exports', async () => {
    const runtime = createWasmRuntime({ cacheDirectory, memoryLimitBytes: 2 * 65536 });
    const tool = runtime.load(await echoComponent(), { imports: quietHost });

    const kebab = await tool.call('grow-until-full', [], { instance: 'fresh' });
    const camel = await tool.call('growUntilFull', [], { instance: 'fresh' });

    expect(kebab.value).toBe(2);
    expect(camel.value).toBe(2);
    await runtime.close();
  });

  it('stops a spinning component with OUT_OF_FUEL and replaces the instance', async () => {
    const runtime = createWasmRuntime({ cacheDirectory });
    const tool = runtime.load(await echoComponent(), { imports: quietHost });

    const error = await failure(tool.call('spin', [], { fuelLimit: 1_000_000 }));
    const after = await tool.call('echo', ['after']);

    expect(error.code).toBe('OUT_OF_FUEL');
    expect(after.value).toBe('after');
    await runtime.close();
  });

  it('rejects returns other than value', async () => {
    const runtime = createWasmRuntime({ cacheDirectory });
    const tool = runtime.load(await echoComponent(), { imports: quietHost });

    const error = await failure(tool.call('echo', ['x'], { returns: 'string' }));

    expect(error.code).toBe('INVALID_ARGUMENT');
    await runtime.close();
  });

  it('rejects a string argument of the wrong type', async () => {
    const runtime = createWasmRuntime({ cacheDirectory });
    const tool = runtime.load(await echoComponent(), { imports: quietHost });

    const error = await tool.call('echo', [42]).catch((caught: unknown) => caught);

    expect(isWasmRuntimeError(error)).toBe(true);
    expect((error as { code?: string }).code).toBe('INVALID_ARGUMENT');
    await runtime.close();
  });
});
