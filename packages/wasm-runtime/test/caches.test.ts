import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMetricsRegistry } from '@agentnode/metrics';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createWasmRuntime } from '../src/index';
import { coreModule, echoComponent } from './fixtures';

const quietHost = { 'test:echo/host': { log: () => undefined } };

describe('compiled-module cache', () => {
  it('compiles the same bytes once across loads', async () => {
    const runtime = createWasmRuntime();
    const bytes = await coreModule('limits');

    await runtime.load(bytes).call('add', [1, 1]);
    await runtime.load(bytes).call('add', [1, 1]);
    const stats = runtime.stats().moduleCache;

    expect(stats.misses).toBe(1);
    expect(stats.hits).toBe(1);
    expect(stats.entries).toBe(1);
    expect(stats.bytes).toBe(bytes.length);
    await runtime.close();
  });

  it('shares one compilation among concurrent first calls', async () => {
    const runtime = createWasmRuntime();
    const tool = runtime.load(await coreModule('limits'));

    const results = await Promise.all(
      Array.from({ length: 10 }, (_, index) => tool.call('add', [index, 1])),
    );

    expect(results.map((result) => result.value)).toEqual(
      Array.from({ length: 10 }, (_, index) => index + 1),
    );
    expect(runtime.stats().moduleCache.misses).toBe(1);
    await runtime.close();
  });

  it('compiles nothing before the first use', async () => {
    const runtime = createWasmRuntime();

    runtime.load(await coreModule('limits'));

    expect(runtime.stats().moduleCache.entries).toBe(0);
    await runtime.close();
  });

  it('evicts least recently used modules past its byte bound', async () => {
    const limits = await coreModule('limits');
    const wasi = await coreModule('wasi');
    const runtime = createWasmRuntime({ moduleCacheMaxBytes: limits.length + 10 });

    await runtime.load(limits).ready();
    await runtime.load(wasi).ready();
    const stats = runtime.stats().moduleCache;

    expect(stats.entries).toBe(1);
    expect(stats.evictions).toBe(1);
    expect(stats.bytes).toBe(wasi.length);
    await runtime.close();
  });

  it('notices a reloaded buffer that changed', async () => {
    const runtime = createWasmRuntime();
    const bytes = (await coreModule('limits')).slice();

    const first = runtime.load(bytes);
    const again = runtime.load(bytes);
    bytes[bytes.length - 1] = 0xff - bytes[bytes.length - 1]!;
    const changed = runtime.load(bytes);

    expect(again.sha256).toBe(first.sha256);
    expect(changed.sha256).not.toBe(first.sha256);
    await runtime.close();
  });

  it('keys entries by content, not by buffer', async () => {
    const runtime = createWasmRuntime();
    const bytes = await coreModule('limits');
    const first = runtime.load(bytes);

    bytes[bytes.length - 1] = 0xff - bytes[bytes.length - 1]!; // the runtime copied the bytes at load
    const result = await first.call('add', [2, 3]);

    expect(result.value).toBe(5);
    await runtime.close();
  });
});

describe('transpile cache on disk', () => {
  let cacheDirectory: string;

  beforeEach(async () => {
    cacheDirectory = await mkdtemp(join(tmpdir(), 'wasm-runtime-cache-'));
  });

  afterEach(async () => {
    await rm(cacheDirectory, { recursive: true, force: true });
  });

  async function entryDirectory(): Promise<string> {
    const [entry] = await readdir(join(cacheDirectory, 'components'));
    return join(cacheDirectory, 'components', entry!);
  }

  it('stores the transpiled output keyed by content hash and jco version', async () => {
    const bytes = await echoComponent();
    const runtime = createWasmRuntime({ cacheDirectory });
    const tool = runtime.load(bytes, { imports: quietHost });

    await tool.ready();
    const entry = await entryDirectory();
    const manifest = JSON.parse(await readFile(join(entry, 'manifest.json'), 'utf8')) as {
      jcoVersion: string;
    };

    expect(entry).toContain(tool.sha256);
    expect(entry).toContain(`jco-${manifest.jcoVersion}`);
    await runtime.close();
  });

  it('serves a restarted runtime from disk without transpiling', async () => {
    const bytes = await echoComponent();
    const firstMetrics = createMetricsRegistry({ collectSystem: false });
    const first = createWasmRuntime({ cacheDirectory, metrics: firstMetrics });
    await first.load(bytes, { imports: quietHost }).call('echo', ['warm']);
    await first.close();

    const metrics = createMetricsRegistry({ collectSystem: false });
    const restarted = createWasmRuntime({ cacheDirectory, metrics });
    const result = await restarted.load(bytes, { imports: quietHost }).call('echo', ['from disk']);
    const text = await metrics.registry.metrics();

    expect(result.value).toBe('from disk');
    expect(text).toContain('agentnode_wasm_cache_requests_total{cache="disk",result="hit"} 1');
    expect(text).not.toContain('{cache="disk",result="miss"}');
    expect(text).toMatch(/agentnode_wasm_transpile_duration_seconds_count 0/);
    await restarted.close();
  });

  it.each([
    ['a core module is altered', 'component.core.wasm'],
    ['the bindings are altered', 'component.js'],
    ['the manifest is unreadable', 'manifest.json'],
  ])('rebuilds the entry when %s', async (_, file) => {
    const bytes = await echoComponent();
    const first = createWasmRuntime({ cacheDirectory });
    await first.load(bytes, { imports: quietHost }).ready();
    await first.close();

    const path = join(await entryDirectory(), file);
    const original = await readFile(path);
    const corrupted = Buffer.from(original);
    corrupted[corrupted.length >> 1] = 0xff - corrupted[corrupted.length >> 1]!;
    await writeFile(path, corrupted);

    const warnings: string[] = [];
    const logger = {
      debug() {},
      info() {},
      error() {},
      warn: (message: string) => warnings.push(message),
    };
    const restarted = createWasmRuntime({ cacheDirectory, logger });
    const result = await restarted.load(bytes, { imports: quietHost }).call('echo', ['rebuilt']);

    expect(result.value).toBe('rebuilt');
    expect(warnings.some((warning) => warning.includes('failed verification'))).toBe(true);
    expect(await readFile(path)).toEqual(original);
    await restarted.close();
  });
});
