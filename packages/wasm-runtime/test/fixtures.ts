/**
 * Builds the test binaries from their sources in `fixtures/` and caches them under
 * the package's `.cache/fixtures`, keyed by the SHA-256 of their inputs.
 */

import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { componentEmbed, componentNew } from '@bytecodealliance/jco';
import wabtInit from 'wabt';
import { buildJsComponent } from '../src/index';

const here = dirname(fileURLToPath(import.meta.url));
export const fixturesDirectory = join(here, 'fixtures');
export const cacheDirectory = join(here, '..', '.cache');

let wabt: ReturnType<typeof wabtInit> | undefined;

/** Compiles `fixtures/<name>.wat` to a core module. */
export async function coreModule(name: string): Promise<Uint8Array> {
  const wat = await readFile(join(fixturesDirectory, `${name}.wat`), 'utf8');
  return cached(`${name}-core`, [wat], () => watToWasm(name, wat));
}

/** Builds the echo component: `echo-component.wat` embedded with `echo.wit`. */
export async function echoComponent(): Promise<Uint8Array> {
  const wat = await readFile(join(fixturesDirectory, 'echo-component.wat'), 'utf8');
  const wit = await readFile(join(fixturesDirectory, 'echo.wit'), 'utf8');
  return cached('echo-component', [wat, wit], async () => {
    const core = await watToWasm('echo-component', wat);
    const embedded = await componentEmbed({ binary: core, witSource: wit, stringEncoding: 'utf8' });
    return componentNew(embedded);
  });
}

/** Builds the random component: `random-component.wat` embedded with `random.wit` (imports WASI). */
export async function randomComponent(): Promise<Uint8Array> {
  const wat = await readFile(join(fixturesDirectory, 'random-component.wat'), 'utf8');
  const wit = await readFile(join(fixturesDirectory, 'random.wit'), 'utf8');
  return cached('random-component', [wat, wit], async () => {
    const core = await watToWasm('random-component', wat);
    const embedded = await componentEmbed({ binary: core, witSource: wit, stringEncoding: 'utf8' });
    return componentNew(embedded);
  });
}

/** Builds the stdio component: `stdio-component.wat` embedded with `stdio.wit` (imports WASI streams). */
export async function stdioComponent(): Promise<Uint8Array> {
  const wat = await readFile(join(fixturesDirectory, 'stdio-component.wat'), 'utf8');
  const wit = await readFile(join(fixturesDirectory, 'stdio.wit'), 'utf8');
  return cached('stdio-component', [wat, wit], async () => {
    const core = await watToWasm('stdio-component', wat);
    const embedded = await componentEmbed({ binary: core, witSource: wit, stringEncoding: 'utf8' });
    return componentNew(embedded);
  });
}

/** Builds the JavaScript toolkit component (about ten seconds on a cold cache). */
export async function toolkitComponent(): Promise<Uint8Array> {
  const [source, wit] = await Promise.all([
    readFile(join(fixturesDirectory, 'toolkit.js'), 'utf8'),
    readFile(join(fixturesDirectory, 'toolkit.wit'), 'utf8'),
  ]);
  return buildJsComponent({ source, wit, cacheDirectory: join(cacheDirectory, 'fixtures') });
}

async function watToWasm(name: string, wat: string): Promise<Uint8Array> {
  wabt ??= wabtInit();
  const parsed = (await wabt).parseWat(`${name}.wat`, wat, { multi_value: true });
  try {
    return new Uint8Array(parsed.toBinary({}).buffer);
  } finally {
    parsed.destroy();
  }
}

async function cached(
  name: string,
  inputs: string[],
  build: () => Promise<Uint8Array>,
): Promise<Uint8Array> {
  const key = createHash('sha256').update(JSON.stringify(inputs)).digest('hex').slice(0, 16);
  const path = join(cacheDirectory, 'fixtures', `${name}-${key}.wasm`);
  try {
    return new Uint8Array(await readFile(path));
  } catch {
    const bytes = await build();
    await mkdir(dirname(path), { recursive: true });
    const temporary = `${path}.${process.pid}.tmp`;
    await writeFile(temporary, bytes);
    await rename(temporary, path);
    return bytes;
  }
}
