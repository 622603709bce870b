import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { createWasmRuntime, type WasmModule, type WasmRuntime } from '../src/index';
import { cacheDirectory, toolkitComponent } from './fixtures';
import { failure } from './helpers';

interface Counter {
  increment(): number;
  value(): number;
}

describe('JavaScript component (componentize-js)', () => {
  let runtime: WasmRuntime;
  let tool: WasmModule;
  const logged: string[] = [];

  beforeAll(async () => {
    const bytes = await toolkitComponent();
    runtime = createWasmRuntime({ cacheDirectory });
    tool = runtime.load(bytes, {
      name: 'toolkit',
      imports: { 'test:toolkit/host': { log: (message: string) => logged.push(message) } },
    });
    await tool.ready();
    return () => runtime.close();
  }, 120_000);

  it.each(['', 'ASCII', 'héllo', '🦀 emoji 👩‍👩‍👧', 'mixé 🎉 text '.repeat(800)])(
    'echoes %j',
    async (text) => {
      const result = await tool.call('echo', [text]);

      expect(result.value).toBe(text);
    },
  );

  it('returns a record with an option', async () => {
    const some = await tool.call('stats', ['the quick brown fox']);
    const none = await tool.call('stats', ['']);

    expect(some.value).toEqual({ words: 4, longest: 'quick' });
    expect(none.value).toEqual({ words: 0, longest: undefined });
  });

  it('takes a list and returns a u64', async () => {
    const result = await tool.call('sum', [[1, 2, 4_000_000_000]]);

    expect(result.value).toBe(4_000_000_003n);
  });

  it('returns ok values and throws err payloads of a result', async () => {
    const ok = await tool.call('parse-number', ['42']);
    const err = await tool.call('parseNumber', ['forty-two']).catch((error: unknown) => error);

    expect(ok.value).toBe(42);
    expect((err as { payload?: unknown }).payload).toBe('not a u32: forty-two');
    expect((await tool.call('echo', ['still usable'])).value).toBe('still usable');
  });

  it('calls the host import', async () => {
    const result = await tool.call('greet', ['Ada']);

    expect(result.value).toBe('Hello, Ada!');
    expect(logged).toContain('greeting Ada');
  });

  it('uses a resource within one instance session', async () => {
    const result = await tool.withInstance((instance) => {
      const tally = instance.exports.tally as { Counter: new (start: number) => Counter };
      const counter = new tally.Counter(10);
      counter.increment();
      counter.increment();
      return counter.value();
    });

    expect(result.value).toBe(12);
    expect(result.fuelUsed).toBeGreaterThan(0);
  });

  it.each(['tally.describe', 'test:toolkit/tally#describe'])(
    'calls the interface function %s',
    async (name) => {
      const result = await tool.call(name, [3]);

      expect(result.value).toBe('a counter starting at 3');
    },
  );

  it('lists functions and interfaces', async () => {
    const items = await tool.exports();

    expect(items).toContainEqual({ name: 'parseNumber', kind: 'function' });
    expect(items).toContainEqual({ name: 'tally', kind: 'interface' });
    expect(items).toContainEqual({ name: 'test:toolkit/tally', kind: 'interface' });
  });

  it('stops a JavaScript infinite loop with OUT_OF_FUEL', async () => {
    const error = await failure(tool.call('spin', [], { fuelLimit: 50_000_000 }));

    expect(error.code).toBe('OUT_OF_FUEL');
    expect((await tool.call('echo', ['recovered'])).value).toBe('recovered');
  });

  it('uses the same fuel for the same input', async () => {
    const first = await tool.call('stats', ['one two three'], { instance: 'fresh' });
    const second = await tool.call('stats', ['one two three'], { instance: 'fresh' });

    expect(second.fuelUsed).toBe(first.fuelUsed);
  });

  it('keeps the instrumented engine on disk and rebuilds an altered copy', async () => {
    // A private copy of the disk cache, so that other test files loading the same engine
    // module meanwhile cannot rewrite or clean up the files this test alters.
    const privateCache = await mkdtemp(join(tmpdir(), 'wasm-js-component-'));
    try {
      for (const part of ['components', 'instrumented']) {
        await cp(join(cacheDirectory, part), join(privateCache, part), { recursive: true });
      }
      const directory = join(privateCache, 'instrumented');
      const paths = (await readdir(directory))
        .filter((name) => /-v\d+\.wasm$/.test(name))
        .map((name) => join(directory, name));
      expect(paths.length).toBeGreaterThan(0);

      // Alter every stored copy, and put beside each a copy from instrumenter version 1,
      // which storing a rebuilt copy of that module deletes.
      const originals = new Map<string, Buffer>();
      const outdatedOf = (path: string) => path.replace(/-v\d+\.wasm$/, '-v1.wasm');
      for (const path of paths) {
        const original = await readFile(path);
        const altered = Buffer.from(original);
        altered[altered.length >> 1] = 0xff - altered[altered.length >> 1]!;
        await writeFile(path, altered);
        await writeFile(outdatedOf(path), 'outdated');
        originals.set(path, original);
      }

      const restarted = createWasmRuntime({ cacheDirectory: privateCache });
      const result = await restarted
        .load(await toolkitComponent(), {
          imports: { 'test:toolkit/host': { log: () => undefined } },
        })
        .call('echo', ['after restart']);
      await restarted.close();
      const restored: string[] = [];
      for (const [path, original] of originals) {
        // Buffer.equals: a deep toEqual over 12 MB takes minutes.
        const stored = await readFile(path).catch(() => undefined);
        if (stored !== undefined && original.equals(stored)) {
          restored.push(path);
        }
      }

      expect(result.value).toBe('after restart');
      expect(restored).toHaveLength(1);
      await expect(readFile(outdatedOf(restored[0]!))).rejects.toMatchObject({ code: 'ENOENT' });
    } finally {
      await rm(privateCache, { recursive: true, force: true });
    }
  }, 60_000);
});
