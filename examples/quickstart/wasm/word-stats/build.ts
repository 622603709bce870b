/**
 * Builds the word-stats component from word-stats.js and word-stats.wit beside this
 * file. The first build takes about ten seconds; later builds read the cached binary.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { buildJsComponent } from '@agentnode/wasm-runtime';

/** Statistics `analyze` returns, as jco maps the WIT record to JavaScript. */
export interface TextStats {
  words: number;
  uniqueWords: number;
  topWords: { word: string; count: number }[];
}

/**
 * Returns the word-stats component's bytes, building it on first use.
 *
 * @param cacheDirectory where built components are kept (default: `.agentnode/wasm-cache`
 * under the working directory)
 */
export async function buildWordStats(cacheDirectory?: string): Promise<Uint8Array> {
  const [source, wit] = await Promise.all([
    readFile(join(import.meta.dirname, 'word-stats.js'), 'utf8'),
    readFile(join(import.meta.dirname, 'word-stats.wit'), 'utf8'),
  ]);
  return buildJsComponent({ source, wit, ...(cacheDirectory !== undefined && { cacheDirectory }) });
}
