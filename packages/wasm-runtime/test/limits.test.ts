import { describe, expect, it } from 'vitest';
import { createWasmRuntime, DEFAULTS, watToWasm } from '../src/index';
import { cacheDirectory, coreModule, echoComponent } from './fixtures';
import { failure } from './helpers';

const PAGE = 65536;

describe('fuel', () => {
  it('stops an infinite loop with OUT_OF_FUEL within its budget', async () => {
    const runtime = createWasmRuntime({ cacheDirectory });
    const tool = runtime.load(await coreModule('limits'));

    const error = await failure(tool.call('spin', [], { fuelLimit: 5_000_000 }));

    expect(error.code).toBe('OUT_OF_FUEL');
    expect(error.details.fuelUsed).toBe(5_000_000);
    expect(error.details.exportName).toBe('spin');
    await runtime.close();
  });

  it('stops an infinite loop under the default budget', async () => {
    const runtime = createWasmRuntime({ cacheDirectory, fuelLimit: 200_000_000 });
    const tool = runtime.load(await coreModule('limits'));

    const error = await failure(tool.call('spin'));

    expect(error.code).toBe('OUT_OF_FUEL');
    expect(error.details.fuelUsed).toBe(200_000_000);
    await runtime.close();
  });

  it('uses the same fuel for the same input', async () => {
    const runtime = createWasmRuntime({ cacheDirectory });
    const tool = runtime.load(await coreModule('limits'));

    const runs = [];
    for (let run = 0; run < 3; run++) {
      runs.push(
        (await tool.call('count_to', [1000], { instance: run === 1 ? 'fresh' : 'reuse' })).fuelUsed,
      );
    }

    expect(new Set(runs).size).toBe(1);
    await runtime.close();
  });

  it('grows fuel linearly with loop iterations', async () => {
    const runtime = createWasmRuntime({ cacheDirectory });
    const tool = runtime.load(await coreModule('limits'));

    const ten = (await tool.call('count_to', [10])).fuelUsed;
    const twenty = (await tool.call('count_to', [20])).fuelUsed;
    const thirty = (await tool.call('count_to', [30])).fuelUsed;

    expect(twenty - ten).toBeGreaterThan(0);
    expect(thirty - twenty).toBe(twenty - ten);
    await runtime.close();
  });

  it('leaves the module usable after running out', async () => {
    const runtime = createWasmRuntime({ cacheDirectory });
    const tool = runtime.load(await coreModule('limits'));

    await failure(tool.call('spin', [], { fuelLimit: 1000 }));
    const result = await tool.call('add', [1, 2]);

    expect(result.value).toBe(3);
    await runtime.close();
  });

  it('fails a call overdrawn without a loop', async () => {
    // Only function entries and loop headers check the counter; this `then` arm runs
    // 400 instructions past a budget of 50 before the function returns.
    const adds = '(local.set $x (i32.add (local.get $x) (i32.const 1)))\n'.repeat(100);
    const runtime = createWasmRuntime({ cacheDirectory });
    const tool = runtime.load(
      await watToWasm(`(module
        (func (export "burst") (param $go i32) (result i32)
          (local $x i32)
          (if (local.get $go) (then ${adds}))
          (local.get $x)))`),
    );

    const error = await failure(tool.call('burst', [1], { fuelLimit: 50 }));
    const within = await tool.call('burst', [1], { fuelLimit: 1000 });

    expect(error.code).toBe('OUT_OF_FUEL');
    expect(error.details.fuelUsed).toBe(50);
    expect(within.value).toBe(100);
    expect(within.fuelUsed).toBeGreaterThan(400);
    expect(tool.idleInstances).toBe(1);
    await runtime.close();
  });

  it('reports zero fuel with metering off', async () => {
    const runtime = createWasmRuntime({ cacheDirectory, fuelMetering: false });
    const tool = runtime.load(await coreModule('limits'));

    const result = await tool.call('count_to', [100]);

    expect(result.value).toBe(100);
    expect(result.fuelUsed).toBe(0);
    await runtime.close();
  });
});

describe('memory cap', () => {
  it('refuses a module declaring 1 GiB under the default cap at load', async () => {
    const runtime = createWasmRuntime({ cacheDirectory });
    const bytes = await coreModule('huge-memory');

    expect(DEFAULTS.memoryLimitBytes).toBe(512 * 1024 * 1024);
    expect(() => runtime.load(bytes)).toThrow(expect.objectContaining({ code: 'MEMORY_LIMIT' }));
    await runtime.close();
  });

  it('accepts the same module under a 2 GiB cap', async () => {
    const runtime = createWasmRuntime({ cacheDirectory, memoryLimitBytes: 2 * 1024 * 1024 * 1024 });

    const tool = runtime.load(await coreModule('huge-memory'));

    expect(tool.kind).toBe('module');
    await runtime.close();
  });

  it('makes memory.grow return -1 at the default cap', async () => {
    const runtime = createWasmRuntime({ cacheDirectory });
    const tool = runtime.load(await coreModule('limits'));

    const pages = await tool.call('grow_until_full', [], { instance: 'fresh' });

    expect(pages.value).toBe(DEFAULTS.memoryLimitBytes / PAGE);
    await runtime.close();
  });

  it('returns -1 from memory.grow past a small cap and keeps working', async () => {
    const runtime = createWasmRuntime({ cacheDirectory, memoryLimitBytes: 4 * PAGE });
    const tool = runtime.load(await coreModule('limits'));

    const grown = await tool.call('grow', [3]);
    const refused = await tool.call('grow', [1]);
    const echoed = await tool.call('echo', ['still fine'], { returns: 'string' });

    expect(grown.value).toBe(1);
    expect(refused.value).toBe(-1);
    expect(echoed.value).toBe('still fine');
    await runtime.close();
  });

  it('caps the memory of a component', async () => {
    const runtime = createWasmRuntime({ cacheDirectory, memoryLimitBytes: 8 * PAGE });
    const tool = runtime.load(await echoComponent(), {
      imports: { 'test:echo/host': { log: () => undefined } },
    });

    const pages = await tool.call('grow-until-full');

    expect(pages.value).toBe(8);
    await runtime.close();
  });
});

describe('traps', () => {
  it.each([
    ['crash', [], 'unreachable'],
    ['divide', [1, 0], 'divide by zero'],
    ['recurse', [0], 'call stack exhausted'],
  ])('maps %s to TRAP with the trap message', async (exportName, args, message) => {
    const runtime = createWasmRuntime({ cacheDirectory });
    const tool = runtime.load(await coreModule('limits'));

    const error = await failure(tool.call(exportName, args));

    expect(error.code).toBe('TRAP');
    expect(error.message).toContain(message);
    expect((await tool.call('add', [2, 2])).value).toBe(4);
    await runtime.close();
  });
});

describe('deadlines', () => {
  it('fails an in-process call that returns after its deadline with TIMEOUT', async () => {
    const runtime = createWasmRuntime({ cacheDirectory });
    const tool = runtime.load(await coreModule('host-import'), {
      imports: {
        env: {
          double: (value: number) => value,
          sleep: (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms),
        },
      },
    });

    const error = await failure(tool.call('nap', [50], { timeoutMs: 10 }));

    expect(error.code).toBe('TIMEOUT');
    await runtime.close();
  });

  it('fails an in-process call whose signal fired while it ran with ABORTED', async () => {
    const controller = new AbortController();
    const runtime = createWasmRuntime({ cacheDirectory });
    const tool = runtime.load(await coreModule('host-import'), {
      imports: { env: { double: (value: number) => value, sleep: () => controller.abort() } },
    });

    const error = await failure(tool.call('nap', [0], { signal: controller.signal }));

    expect(error.code).toBe('ABORTED');
    await runtime.close();
  });

  it('rejects a call whose signal already fired with ABORTED', async () => {
    const runtime = createWasmRuntime({ cacheDirectory });
    const tool = runtime.load(await coreModule('limits'));

    const error = await failure(tool.call('add', [1, 2], { signal: AbortSignal.abort() }));

    expect(error.code).toBe('ABORTED');
    await runtime.close();
  });
});
