import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildWordStats, type TextStats } from '../../../examples/quickstart/wasm/word-stats/build';
import { createWasmRuntime, DEFAULTS, type WasmModule, type WasmRuntime } from '../src/index';
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

  // About 5.6 KB: 80 numbered lines of the same sentence.
  const longText = Array.from(
    { length: 80 },
    (_, line) => `Line ${line}: The quick brown fox jumps over the lazy dog, and the dog sleeps.\n`,
  ).join('');

  it('analyzes a multi-kilobyte text well within the default budget', async () => {
    const { value, fuelUsed } = await tool.call<TextStats>('analyze', [longText, 4], {
      instance: 'fresh',
    });
    const again = await tool.call<TextStats>('analyze', [longText, 4], { instance: 'fresh' });

    expect(longText.length).toBeGreaterThan(5000);
    // Per line: "line", its number and 13 words; 10 distinct words, "line" and 80 numbers.
    expect(value).toEqual({
      words: 80 * 15,
      uniqueWords: 10 + 1 + 80,
      topWords: [
        { word: 'the', count: 240 },
        { word: 'dog', count: 160 },
        { word: 'and', count: 80 },
        { word: 'brown', count: 80 },
      ],
    });
    // Charging each loop iteration for its whole body, branches not taken included,
    // spent the entire default budget on texts of this size.
    expect(fuelUsed).toBeGreaterThan(1_000_000);
    expect(fuelUsed).toBeLessThan(DEFAULTS.fuelLimit / 10);
    expect(again.fuelUsed).toBe(fuelUsed);
  }, 30_000);

  it('uses the same fuel on fresh and reused instances in the same state', async () => {
    const fresh = await tool.call('analyze', [longText, 4], { instance: 'fresh' });
    const sequences: number[][] = [];
    for (let round = 0; round < 2; round++) {
      // A new pooled instance, then the same one again: the engine's heap differs on the second call.
      tool.drain();
      const first = await tool.call('analyze', [longText, 4]);
      const second = await tool.call('analyze', [longText, 4]);
      sequences.push([first.fuelUsed, second.fuelUsed]);
    }

    expect(sequences[0]![0]).toBe(fresh.fuelUsed);
    expect(sequences[1]).toEqual(sequences[0]);
    expect(sequences[0]![1]).toBeLessThan(DEFAULTS.fuelLimit / 10);
  }, 30_000);

  it('breaks ties alphabetically', async () => {
    const { value } = await tool.call<TextStats>('analyze', ['b a c b a c', 3]);

    expect(value.topWords.map((entry) => entry.word)).toEqual(['a', 'b', 'c']);
  });
});
