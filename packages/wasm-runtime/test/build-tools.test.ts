import { describe, expect, it } from 'vitest';
import { buildJsComponent, buildWatComponent, createWasmRuntime, watToWasm } from '../src/index';
import { cacheDirectory } from './fixtures';
import { failure } from './helpers';

describe('watToWasm', () => {
  it('assembles a core module', async () => {
    const bytes = await watToWasm('(module (func (export "one") (result i32) i32.const 1))');
    const runtime = createWasmRuntime({ cacheDirectory });

    const result = await runtime.load(bytes).call('one');

    expect(result.value).toBe(1);
    await runtime.close();
  });

  it('rejects text that does not assemble with INVALID_MODULE', async () => {
    const error = await failure(watToWasm('(module (func (export "x") i32.bogus))'));

    expect(error.code).toBe('INVALID_MODULE');
  });
});

describe('buildWatComponent', () => {
  it('builds a callable component from WAT and WIT', async () => {
    const bytes = await buildWatComponent({
      wat: '(module (func (export "answer") (result i32) i32.const 42))',
      wit: 'package demo:answer; world answer { export answer: func() -> u32; }',
    });
    const runtime = createWasmRuntime({ cacheDirectory });

    const tool = runtime.load(bytes);
    const result = await tool.call('answer');

    expect(tool.kind).toBe('component');
    expect(result.value).toBe(42);
    await runtime.close();
  });

  it('rejects WIT without a world', async () => {
    const error = await failure(buildWatComponent({ wat: '(module)', wit: 'package demo:empty;' }));

    expect(error.code).toBe('INVALID_ARGUMENT');
  });
});

describe('buildJsComponent', () => {
  it('rejects empty source before building', async () => {
    const error = await failure(buildJsComponent({ source: '', wit: 'package a:b; world w {}' }));

    expect(error.code).toBe('INVALID_ARGUMENT');
  });
});
