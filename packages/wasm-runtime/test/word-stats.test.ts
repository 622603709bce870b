import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildWordStats, type TextStats } from '../../../examples/quickstart/wasm/word-stats/build';
import { createWasmRuntime, type WasmModule, type WasmRuntime } from '../src/index';
import { cacheDirectory } from './fixtures';

describe('quick-start word-stats component', () => {
  let runtime: WasmRuntime;
  let tool: WasmModule;

  beforeAll(async () => {
    runtime = createWasmRuntime({ cacheDirectory });
    tool = runtime.load(await buildWordStats(join(cacheDirectory, 'fixtures')), {
      name: 'word-stats',
    });
    await tool.ready();
  }, 120_000);

  afterAll(() => runtime.close());

  it('counts words, unique words and the most frequent ones', async () => {
    const { value, fuelUsed } = await tool.call<TextStats>('analyze', [
      'The cat saw the other cat. THE END',
      2,
    ]);

    expect(value).toEqual({
      words: 8,
      uniqueWords: 5,
      topWords: [
        { word: 'the', count: 3 },
        { word: 'cat', count: 2 },
      ],
    });
    expect(fuelUsed).toBeGreaterThan(0);
  });

  it('handles an empty text', async () => {
    const { value } = await tool.call<TextStats>('analyze', ['', 5]);

    expect(value).toEqual({ words: 0, uniqueWords: 0, topWords: [] });
  });

  it('treats accented and non-Latin words as words', async () => {
    const { value } = await tool.call<TextStats>('analyze', [
      "Héllo wörld, héllo! Привет мир, it's 2024",
      1,
    ]);

    expect(value.words).toBe(7);
    expect(value.topWords).toEqual([{ word: 'héllo', count: 2 }]);
  });

  it('breaks ties alphabetically', async () => {
    const { value } = await tool.call<TextStats>('analyze', ['b a c b a c', 3]);

    expect(value.topWords.map((entry) => entry.word)).toEqual(['a', 'b', 'c']);
  });
});
