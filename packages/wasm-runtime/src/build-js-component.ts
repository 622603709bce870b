/**
 * Builds a WebAssembly component from JavaScript source and WIT with
 * componentize-js (bundled with jco), offline, and caches the result on disk.
 */

import { randomBytes } from 'node:crypto';
import { mkdir, readFile, realpath, rename, rm, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { WasmRuntimeError } from './errors';
import { sha256 } from './transpile-cache';

/** Input of {@link buildJsComponent}. */
export interface JsComponentSource {
  /** The ES module implementing the world's exports. */
  readonly source: string;
  /** WIT text declaring one package and the world to target. */
  readonly wit: string;
  /**
   * Directory for built components; a build with the same source, WIT and features
   * is read from here instead of rebuilt.
   * @default `.agentnode/wasm-cache` under the working directory
   */
  readonly cacheDirectory?: string;
  /**
   * WASI features the embedded engine may use (`stdio`, `random`, `clocks`, `http`);
   * the rest are disabled so the component imports less.
   * @default [] (a pure component without WASI imports)
   */
  readonly features?: readonly ('stdio' | 'random' | 'clocks' | 'http')[];
}

const ALL_FEATURES = ['stdio', 'random', 'clocks', 'http', 'fetch-event'] as const;
/** How long a build may hold its lock before other processes consider it abandoned. */
const STALE_LOCK_MS = 300_000;

type Componentize = (
  source: string,
  witWorld: string,
  options: { disableFeatures: string[] },
) => Promise<{ component: Uint8Array }>;

/**
 * Builds (or reads from the cache) a component from JavaScript. Concurrent builds of
 * the same input, in this process or others sharing the cache directory, run once.
 *
 * Note: componentize-js embeds a JavaScript engine, so a build takes about ten
 * seconds and the component is about 12 MB.
 *
 * @example
 * import { buildJsComponent, createWasmRuntime } from '@agentnode/wasm-runtime';
 *
 * const bytes = await buildJsComponent({
 *   source: 'export function shout(text) { return text.toUpperCase(); }',
 *   wit: 'package demo:shout; world shout { export shout: func(text: string) -> string; }',
 * });
 * const tool = createWasmRuntime().load(bytes);
 */
export async function buildJsComponent(input: JsComponentSource): Promise<Uint8Array> {
  checkInput(input);
  const features = [...(input.features ?? [])].sort();
  const disableFeatures = ALL_FEATURES.filter((feature) => !features.includes(feature as never));
  const directory = join(
    input.cacheDirectory ?? join(process.cwd(), '.agentnode', 'wasm-cache'),
    'js-components',
  );
  const key = sha256(
    new TextEncoder().encode(JSON.stringify([input.source, input.wit, features, 1])),
  );
  const path = join(directory, `${key}.wasm`);

  await mkdir(directory, { recursive: true });
  for (;;) {
    const cached = await readVerified(path);
    if (cached !== undefined) {
      return cached;
    }
    if (await tryLock(`${path}.lock`)) {
      break;
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }

  try {
    const cached = await readVerified(path);
    if (cached !== undefined) {
      return cached;
    }
    const componentize = await loadComponentize();
    let component: Uint8Array;
    try {
      ({ component } = await componentize(input.source, input.wit, { disableFeatures }));
    } catch (error) {
      throw new WasmRuntimeError(
        'INVALID_MODULE',
        `componentize-js could not build the component: ${error instanceof Error ? error.message : String(error)}`,
        { cause: error },
      );
    }

    const temporary = `${path}.tmp-${randomBytes(4).toString('hex')}`;
    await writeFile(temporary, component);
    await writeFile(`${path}.sha256`, sha256(component));
    await rename(temporary, path);
    return component;
  } finally {
    await rm(`${path}.lock`, { recursive: true, force: true });
  }
}

function checkInput(input: JsComponentSource): void {
  if (typeof input?.source !== 'string' || input.source === '') {
    throw new WasmRuntimeError(
      'INVALID_ARGUMENT',
      'Invalid source: expected the JavaScript module as a non-empty string.',
    );
  }
  if (typeof input.wit !== 'string' || !/\bworld\s/.test(input.wit)) {
    throw new WasmRuntimeError(
      'INVALID_ARGUMENT',
      'Invalid wit: expected WIT text that declares a world.',
    );
  }
}

async function readVerified(path: string): Promise<Uint8Array | undefined> {
  try {
    const [bytes, expected] = await Promise.all([
      readFile(path),
      readFile(`${path}.sha256`, 'utf8'),
    ]);
    return sha256(bytes) === expected.trim() ? new Uint8Array(bytes) : undefined;
  } catch {
    return undefined;
  }
}

async function tryLock(lock: string): Promise<boolean> {
  try {
    await mkdir(lock);
    return true;
  } catch {
    const created = await stat(lock).then(
      (info) => info.mtimeMs,
      () => undefined,
    );
    if (created !== undefined && Date.now() - created > STALE_LOCK_MS) {
      await rm(lock, { recursive: true, force: true });
    }
    return false;
  }
}

/**
 * Loads componentize-js from beside jco. jco 1.35 bundles 0.19.3 and 0.22; 0.19.3 is
 * tried first because 0.22 imports weval, whose native lzma binding is an optional
 * dependency that may be missing (and whose failed load surfaces as a stray error).
 */
async function loadComponentize(): Promise<Componentize> {
  const jcoApi = await realpath(createRequire(import.meta.url).resolve('@bytecodealliance/jco'));
  const scope = dirname(dirname(dirname(jcoApi)));
  const failures: string[] = [];
  for (const name of ['componentize-js-0-19-3', 'componentize-js']) {
    try {
      const module = (await import(
        pathToFileURL(join(scope, name, 'src', 'componentize.js')).href
      )) as {
        componentize: Componentize;
      };
      return module.componentize;
    } catch (error) {
      failures.push(
        `${name}: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`,
      );
    }
  }
  throw new WasmRuntimeError(
    'INVALID_ARGUMENT',
    `componentize-js could not be loaded from ${scope} (${failures.join('; ')}).`,
  );
}
