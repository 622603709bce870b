/**
 * Turns module bytes into something instantiable. Core modules are instrumented and
 * compiled through the in-memory cache. Components are transpiled through the disk
 * cache, and then each of their core modules is compiled the same way.
 */

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
import { loadTranspiled } from './transpile-cache';

/** Loads modules for one runtime; components are remembered so a reload reads no disk. */
export class ModuleLoader {
  readonly #config: ResolvedRuntimeConfig;
  readonly #cache: ModuleCache;
  readonly #metrics: RuntimeMetrics;
  readonly #components = new Map<string, Promise<PreparedComponent>>();

  constructor(config: ResolvedRuntimeConfig, cache: ModuleCache, metrics: RuntimeMetrics) {
    this.#config = config;
    this.#cache = cache;
    this.#metrics = metrics;
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
      coreModules.set(name, await this.#compile(file.bytes, file.sha256));
    }
    const instantiate = await importBindings(transpiled.entryPath);

    this.#metrics.moduleLoaded('component', (performance.now() - started) / 1000);
    return {
      kind: 'component',
      entryPath: transpiled.entryPath,
      instantiate,
      coreModules,
      imports: transpiled.imports,
    };
  }

  #compile(bytes: Uint8Array, sha256: string): Promise<WebAssembly.Module> {
    const { fuelMetering, memoryLimitBytes } = this.#config;
    const key = `${sha256}:${fuelMetering ? 'fuel' : 'nofuel'}:${memoryLimitBytes}`;
    const hit = this.#cache.has(key);
    this.#metrics.cacheLookup('memory', hit);

    return this.#cache.get(key, bytes.length, async () => {
      const instrumented = instrumentModule(bytes, { fuel: fuelMetering, memoryLimitBytes });
      try {
        return await WebAssembly.compile(instrumented.bytes);
      } catch (error) {
        throw new WasmRuntimeError(
          'INVALID_MODULE',
          `The module failed to compile: ${error instanceof Error ? error.message : String(error)}`,
          { cause: error },
        );
      }
    });
  }
}
