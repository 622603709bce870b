/**
 * Turns module bytes into something instantiable. Core modules are instrumented and
 * compiled through the in-memory cache. Components are transpiled through the disk
 * cache, and then each of their core modules is compiled the same way.
 */

import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { instrumentModule } from './binary/instrument';
import type { ResolvedRuntimeConfig } from './config';
import { WasmRuntimeError } from './errors';
import { importBindings } from './instance/component-instance';
import type {
  PreparedComponent,
  PreparedCoreModule,
  PreparedModule,
} from './instance/prepared-module';
import type { ModuleCache } from './module-cache';
import type { RuntimeMetrics } from './runtime-metrics';
import { sha256 as hash, loadTranspiled } from './transpile-cache';

/** Bumped whenever the instrumenter's output changes, so stale disk copies are ignored. */
const INSTRUMENTATION_VERSION = 4;
/** Component core modules this large keep their instrumented bytes on disk. */
const PERSIST_ABOVE_BYTES = 1024 * 1024;

/** Loads modules for one runtime; components are remembered so a reload reads no disk. */
export class ModuleLoader {
  readonly #config: ResolvedRuntimeConfig;
  readonly #cache: ModuleCache;
  readonly #metrics: RuntimeMetrics;
  readonly #components = new Map<string, Promise<PreparedComponent>>();
  /** The instrumentation settings, part of every cache key. */
  readonly #settingsKey: string;

  constructor(config: ResolvedRuntimeConfig, cache: ModuleCache, metrics: RuntimeMetrics) {
    this.#config = config;
    this.#cache = cache;
    this.#metrics = metrics;
    const fuel = config.fuelMetering ? 'fuel' : 'nofuel';
    const settings = [
      fuel,
      config.memoryLimitBytes,
      config.fuelLimit,
      `v${INSTRUMENTATION_VERSION}`,
    ];
    this.#settingsKey = settings.join('-');
  }

  /** Prepares a module of either kind; concurrent requests for the same bytes share the work. */
  prepare(
    kind: 'module' | 'component',
    bytes: Uint8Array,
    sha256: string,
  ): Promise<PreparedModule> {
    return kind === 'module'
      ? this.#prepareCore(bytes, sha256)
      : this.#prepareComponent(bytes, sha256);
  }

  /** Forgets remembered components (their compiled modules stay in the cache until evicted). */
  clear(): void {
    this.#components.clear();
  }

  async #prepareCore(bytes: Uint8Array, sha256: string): Promise<PreparedCoreModule> {
    const started = performance.now();
    const module = await this.#compile(bytes, sha256);
    this.#metrics.moduleLoaded('module', (performance.now() - started) / 1000);
    return { kind: 'module', module };
  }

  #prepareComponent(bytes: Uint8Array, sha256: string): Promise<PreparedComponent> {
    let prepared = this.#components.get(sha256);
    if (prepared === undefined) {
      prepared = this.#loadComponent(bytes, sha256);
      this.#components.set(sha256, prepared);
      prepared.catch(() => this.#components.delete(sha256));
    }
    return prepared;
  }

  async #loadComponent(bytes: Uint8Array, sha256: string): Promise<PreparedComponent> {
    const started = performance.now();
    const transpiled = await loadTranspiled(this.#config.cacheDirectory, bytes, sha256);
    this.#metrics.cacheLookup('disk', !transpiled.transpiled);
    if (transpiled.transpiled) {
      this.#metrics.transpiled((performance.now() - started) / 1000);
      this.#config.logger?.debug(
        `wasm-runtime: transpiled component ${sha256} into ${transpiled.directory}`,
      );
    }
    if (transpiled.rebuiltCorrupt) {
      this.#config.logger?.warn(
        `wasm-runtime: the transpile cache entry ${transpiled.directory} failed verification and was rebuilt`,
      );
    }

    const coreModules = new Map<string, WebAssembly.Module>();
    for (const [name, file] of transpiled.coreModules) {
      coreModules.set(name, await this.#compile(file.bytes, file.sha256, PERSIST_ABOVE_BYTES));
    }
    const instantiate = await importBindings(transpiled.entryPath);

    this.#metrics.moduleLoaded('component', (performance.now() - started) / 1000);
    return {
      kind: 'component',
      entryPath: transpiled.entryPath,
      instantiate,
      coreModules,
      imports: transpiled.imports,
      exports: transpiled.exports,
    };
  }

  /**
   * Compiles through the memory cache. Modules of at least `persistAboveBytes` also keep
   * their instrumented bytes on disk, because instrumenting a large component's engine
   * takes longer than reading and verifying the result.
   */
  #compile(
    bytes: Uint8Array,
    sha256: string,
    persistAboveBytes = Number.POSITIVE_INFINITY,
  ): Promise<WebAssembly.Module> {
    const key = `${sha256}:${this.#settingsKey}`;
    const hit = this.#cache.has(key);
    this.#metrics.cacheLookup('memory', hit);

    return this.#cache.get(key, bytes.length, async () => {
      const instrumented =
        bytes.length >= persistAboveBytes
          ? await this.#instrumentPersisted(bytes, sha256)
          : this.#instrument(bytes);
      try {
        return await WebAssembly.compile(instrumented);
      } catch (error) {
        throw new WasmRuntimeError(
          'INVALID_MODULE',
          `The module failed to compile: ${error instanceof Error ? error.message : String(error)}`,
          { cause: error },
        );
      }
    });
  }

  #instrument(bytes: Uint8Array): Uint8Array {
    const { fuelMetering, memoryLimitBytes, fuelLimit } = this.#config;
    return instrumentModule(bytes, { fuel: fuelMetering, memoryLimitBytes, initialFuel: fuelLimit })
      .bytes;
  }

  /** Reads verified instrumented bytes from disk, or instruments and stores them. */
  async #instrumentPersisted(bytes: Uint8Array, sha256: string): Promise<Uint8Array> {
    const path = join(
      this.#config.cacheDirectory,
      'instrumented',
      `${sha256}-${this.#settingsKey}.wasm`,
    );
    const stored = await readVerified(path);
    if (stored !== undefined) {
      return stored;
    }

    const instrumented = this.#instrument(bytes);
    try {
      await writeVerified(path, instrumented);
      await removeOutdated(dirname(path), sha256);
    } catch (error) {
      // The disk copy only saves time on the next start; running without it is correct.
      this.#config.logger?.warn(`wasm-runtime: could not store instrumented module ${path}`, error);
    }
    return instrumented;
  }
}

/**
 * Deletes the copies of one module that an older instrumenter version stored, which
 * no runtime reads again (a JavaScript engine's copy is over 10 MB).
 */
async function removeOutdated(directory: string, sha256: string): Promise<void> {
  const version = /-v(\d+)\.wasm(?:\.sha256)?$/;
  for (const name of await readdir(directory)) {
    const match = version.exec(name);
    if (
      name.startsWith(`${sha256}-`) &&
      match !== null &&
      Number(match[1]) < INSTRUMENTATION_VERSION
    ) {
      await rm(join(directory, name), { force: true });
    }
  }
}

/** Reads a file stored by {@link writeVerified}, or undefined when missing or altered. */
async function readVerified(path: string): Promise<Uint8Array | undefined> {
  try {
    const [bytes, expected] = await Promise.all([
      readFile(path),
      readFile(`${path}.sha256`, 'utf8'),
    ]);
    return hash(bytes) === expected.trim() ? new Uint8Array(bytes) : undefined;
  } catch {
    return undefined;
  }
}

/** Writes bytes and their SHA-256 so that a reader detects a torn or altered file. */
async function writeVerified(path: string, bytes: Uint8Array): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temporary = `${path}.tmp-${randomBytes(4).toString('hex')}`;
  await writeFile(temporary, bytes);
  await writeFile(`${path}.sha256`, hash(bytes));
  await rename(temporary, path);
}
