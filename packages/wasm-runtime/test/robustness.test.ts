import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createWasmRuntime, isWasmRuntimeError } from '../src/index';
import { cacheDirectory, coreModule, echoComponent, fixturesDirectory } from './fixtures';
import { failure } from './helpers';

describe('mixed failures under concurrency', () => {
  it('keeps every call independent and the pool bounded', async () => {
    const runtime = createWasmRuntime({ cacheDirectory, maxIdleInstances: 4 });
    const tool = runtime.load(await coreModule('limits'));
    const kinds = ['ok', 'fuel', 'trap', 'ok', 'string'] as const;

    const outcomes = await Promise.allSettled(
      Array.from({ length: 300 }, (_, index) => {
        const kind = kinds[index % kinds.length]!;
        if (kind === 'fuel') return tool.call('spin', [], { fuelLimit: 10_000 });
        if (kind === 'trap') return tool.call('crash');
        if (kind === 'string') return tool.call('echo', [`call ${index} ✓`], { returns: 'string' });
        return tool.call('add', [index, 1]);
      }),
    );

    outcomes.forEach((outcome, index) => {
      const kind = kinds[index % kinds.length]!;
      if (kind === 'ok' || kind === 'string') {
        expect(outcome.status).toBe('fulfilled');
        const value = outcome.status === 'fulfilled' ? outcome.value.value : undefined;
        expect(value).toBe(kind === 'ok' ? index + 1 : `call ${index} ✓`);
      } else {
        const reason = outcome.status === 'rejected' ? outcome.reason : undefined;
        expect(isWasmRuntimeError(reason)).toBe(true);
        expect((reason as { code: string }).code).toBe(kind === 'fuel' ? 'OUT_OF_FUEL' : 'TRAP');
      }
    });
    expect(tool.idleInstances).toBeLessThanOrEqual(4);
    await runtime.close();
  });

  it('serves components again after each kind of failure', async () => {
    const runtime = createWasmRuntime({ cacheDirectory, memoryLimitBytes: 4 * 65536 });
    const tool = runtime.load(await echoComponent(), {
      imports: { 'test:echo/host': { log: () => undefined } },
    });

    const fuel = await failure(tool.call('spin', [], { fuelLimit: 1_000 }));
    const grown = await tool.call('grow-until-full');
    const echoed = await tool.call('echo', ['still here']);

    expect(fuel.code).toBe('OUT_OF_FUEL');
    expect(grown.value).toBe(4);
    expect(echoed.value).toBe('still here');
    await runtime.close();
  });
});

describe('runtime.close', () => {
  it('fails a worker call still running with RUNTIME_CLOSED', async () => {
    const runtime = createWasmRuntime({ cacheDirectory });
    const tool = runtime.load(await coreModule('host-import'), {
      hostModule: join(fixturesDirectory, 'blocking-host.mjs'),
    });

    const pending = failure(tool.call('nap', [60_000], { isolation: 'worker' }));
    await new Promise((resolve) => setTimeout(resolve, 200));
    await runtime.close();
    const error = await pending;

    expect(error.code).toBe('RUNTIME_CLOSED');
    expect(runtime.stats().workers).toBe(0);
  });
});
