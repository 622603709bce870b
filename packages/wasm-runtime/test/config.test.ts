import { describe, expect, it } from 'vitest';
import { createWasmRuntime, DEFAULTS, type WasmRuntimeConfig } from '../src/index';
import { cacheDirectory, coreModule } from './fixtures';
import { failure } from './helpers';

describe('createWasmRuntime', () => {
  it('applies the documented defaults', () => {
    const runtime = createWasmRuntime();

    expect(runtime.config.memoryLimitBytes).toBe(512 * 1024 * 1024);
    expect(runtime.config.fuelLimit).toBe(10_000_000_000);
    expect(runtime.config.timeoutMs).toBe(60_000);
    expect(runtime.config).toMatchObject(DEFAULTS);
    expect(Object.isFrozen(runtime.config)).toBe(true);
  });

  it.each<[string, WasmRuntimeConfig, string]>([
    ['a fractional fuel limit', { fuelLimit: 1.5 }, 'fuelLimit'],
    ['a zero timeout', { timeoutMs: 0 }, 'timeoutMs'],
    ['a memory cap below one page', { memoryLimitBytes: 1000 }, 'memoryLimitBytes'],
    ['a memory cap above 4 GiB', { memoryLimitBytes: 8 * 1024 ** 3 }, 'memoryLimitBytes'],
    ['no workers', { maxWorkers: 0 }, 'maxWorkers'],
    ['an empty cache directory', { cacheDirectory: '' }, 'cacheDirectory'],
    ['an unknown option', { fuel: 1 } as WasmRuntimeConfig, '"fuel"'],
  ])('rejects %s', (_, config, named) => {
    expect(() => createWasmRuntime(config)).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
    expect(() => createWasmRuntime(config)).toThrow(named);
  });
});

describe('runtime.load', () => {
  it.each([
    ['an empty buffer', new Uint8Array()],
    ['a string', 'not bytes' as unknown as Uint8Array],
  ])('rejects %s', (_, bytes) => {
    const runtime = createWasmRuntime({ cacheDirectory });

    expect(() => runtime.load(bytes)).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
  });

  it.each([
    ['non-string arguments', { args: ['tool', 1] }],
    ['a non-string environment value', { env: { DEBUG: true } }],
    ['an unknown WASI option', { stdout: 1 }],
  ])('rejects WASI settings with %s', async (_, wasi) => {
    const runtime = createWasmRuntime({ cacheDirectory });
    const bytes = await coreModule('wasi');

    expect(() => runtime.load(bytes, { wasi: wasi as never })).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
  });

  it('rejects bytes that are not WebAssembly', () => {
    const runtime = createWasmRuntime({ cacheDirectory });

    expect(() => runtime.load(new TextEncoder().encode('#!/bin/sh\necho hi\n'))).toThrow(
      expect.objectContaining({ code: 'INVALID_MODULE' }),
    );
  });

  it('rejects a truncated module at its first call', async () => {
    const runtime = createWasmRuntime({ cacheDirectory });
    const bytes = await coreModule('limits');
    const truncated = bytes.slice(0, bytes.length - 20);

    const error = await failure(
      Promise.resolve().then(() => runtime.load(truncated).call('add', [1, 2])),
    );

    expect(error.code).toBe('INVALID_MODULE');
    await runtime.close();
  });

  it('rejects loads and calls after close', async () => {
    const runtime = createWasmRuntime({ cacheDirectory });
    const tool = runtime.load(await coreModule('limits'));
    await runtime.close();

    const error = await failure(tool.call('add', [1, 2]));

    expect(error.code).toBe('RUNTIME_CLOSED');
    expect(() => runtime.load(new Uint8Array(8))).toThrow(
      expect.objectContaining({ code: 'RUNTIME_CLOSED' }),
    );
  });
});

describe('call options', () => {
  it.each([
    ['an unknown isolation', { isolation: 'process' }],
    ['an unknown instance policy', { instance: 'shared' }],
    ['a negative fuel limit', { fuelLimit: -1 }],
    ['an unknown option', { retries: 2 }],
  ])('rejects %s', async (_, options) => {
    const runtime = createWasmRuntime({ cacheDirectory });
    const tool = runtime.load(await coreModule('limits'));

    const error = await failure(tool.call('add', [1, 2], options as never));

    expect(error.code).toBe('INVALID_ARGUMENT');
    await runtime.close();
  });

  it('rejects an empty export name', async () => {
    const runtime = createWasmRuntime({ cacheDirectory });
    const tool = runtime.load(await coreModule('limits'));

    const error = await failure(tool.call(''));

    expect(error.code).toBe('INVALID_ARGUMENT');
    await runtime.close();
  });
});
