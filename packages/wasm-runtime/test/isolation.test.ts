import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWasmRuntime, type WasmRuntime } from '../src/index';
import { cacheDirectory, coreModule, echoComponent, fixturesDirectory } from './fixtures';
import { failure } from './helpers';

describe('worker isolation', () => {
  let runtime: WasmRuntime;

  beforeAll(() => {
    runtime = createWasmRuntime({ cacheDirectory, maxWorkers: 2 });
  });

  afterAll(() => runtime.close());

  it('runs a core module call in a worker', async () => {
    const tool = runtime.load(await coreModule('limits'));

    const result = await tool.call('echo', ['héllo 🦀'], {
      isolation: 'worker',
      returns: 'string',
    });

    expect(result.value).toBe('héllo 🦀');
    expect(result.fuelUsed).toBe(
      (await tool.call('echo', ['héllo 🦀'], { returns: 'string' })).fuelUsed,
    );
  });

  it('runs a component call in a worker with host imports from a module', async () => {
    const tool = runtime.load(await echoComponent(), {
      hostModule: join(fixturesDirectory, 'echo-host.mjs'),
    });

    const result = await tool.call('echo', ['through a worker'], { isolation: 'worker' });

    expect(result.value).toBe('through a worker');
  });

  it('terminates a blocking host import at the deadline with TIMEOUT', async () => {
    const tool = runtime.load(await coreModule('host-import'), {
      hostModule: join(fixturesDirectory, 'blocking-host.mjs'),
    });

    const error = await failure(
      tool.call('nap', [60_000], { isolation: 'worker', timeoutMs: 300 }),
    );
    const after = await tool.call('quadruple', [3], { isolation: 'worker' });

    expect(error.code).toBe('TIMEOUT');
    expect(after.value).toBe(12);
  });

  it('stops a worker when the caller aborts', async () => {
    const tool = runtime.load(await coreModule('host-import'), {
      hostModule: join(fixturesDirectory, 'blocking-host.mjs'),
    });
    const controller = new AbortController();

    const pending = failure(
      tool.call('nap', [60_000], { isolation: 'worker', signal: controller.signal }),
    );
    setTimeout(() => controller.abort(), 100);
    const error = await pending;

    expect(error.code).toBe('ABORTED');
  });

  it('times out a call still waiting for a busy worker', async () => {
    const single = createWasmRuntime({ cacheDirectory, maxWorkers: 1 });
    const tool = single.load(await coreModule('host-import'), {
      hostModule: join(fixturesDirectory, 'blocking-host.mjs'),
    });

    // The busy call would hold the only worker for a minute, past the test's own timeout.
    const busy = failure(tool.call('nap', [60_000], { isolation: 'worker', timeoutMs: 60_000 }));
    const queued = await failure(
      tool.call('quadruple', [1], { isolation: 'worker', timeoutMs: 200 }),
    );
    await single.close();

    expect(queued.code).toBe('TIMEOUT');
    expect((await busy).code).toBe('RUNTIME_CLOSED');
  });

  it('reports OUT_OF_FUEL and traps from the worker as typed errors', async () => {
    const tool = runtime.load(await coreModule('limits'));

    const fuel = await failure(tool.call('spin', [], { isolation: 'worker', fuelLimit: 100_000 }));
    const trap = await failure(tool.call('crash', [], { isolation: 'worker' }));

    expect(fuel.code).toBe('OUT_OF_FUEL');
    expect(fuel.details.fuelUsed).toBe(100_000);
    expect(trap.code).toBe('TRAP');
  });

  it('runs more calls than workers by queueing them', async () => {
    const tool = runtime.load(await coreModule('limits'));

    const results = await Promise.all(
      Array.from({ length: 6 }, (_, index) =>
        tool.call('add', [index, index], { isolation: 'worker' }),
      ),
    );

    expect(results.map((result) => result.value)).toEqual([0, 2, 4, 6, 8, 10]);
    expect(runtime.stats().workers).toBeLessThanOrEqual(2);
  });

  it('reuses worker instances unless fresh ones are asked for', async () => {
    const single = createWasmRuntime({ cacheDirectory, maxWorkers: 1 });
    const tool = single.load(await coreModule('limits'));

    const first = await tool.call('next', [], { isolation: 'worker' });
    const second = await tool.call('next', [], { isolation: 'worker' });
    const fresh = await tool.call('next', [], { isolation: 'worker', instance: 'fresh' });

    expect(first.value).toBe(1);
    expect(second.value).toBe(2);
    expect(fresh.value).toBe(1);
    await single.close();
  });

  it('loads the host module in-process too', async () => {
    const tool = runtime.load(await coreModule('host-import'), {
      hostModule: join(fixturesDirectory, 'blocking-host.mjs'),
    });

    const result = await tool.call('quadruple', [4]);

    expect(result.value).toBe(16);
  });

  it('refuses in-process host functions for a worker call', async () => {
    const tool = runtime.load(await coreModule('host-import'), {
      imports: { env: { double: (value: number) => value, sleep: () => undefined } },
    });

    const error = await failure(tool.call('quadruple', [1], { isolation: 'worker' }));

    expect(error.code).toBe('INVALID_ARGUMENT');
    expect(error.message).toContain('hostModule');
  });
});
