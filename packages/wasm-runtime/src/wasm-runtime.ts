import { checkDeclaredMemory } from './binary/instrument';
import { readBinaryKind } from './binary/module-reader';
import {
  checkModuleConfig,
  type ResolvedRuntimeConfig,
  resolveCallOptions,
  resolveRuntimeConfig,
  type WasmModuleConfig,
  type WasmRuntimeConfig,
} from './config';
import { WasmRuntimeError } from './errors';
import { WorkerPool } from './isolation/worker-pool';
import { ModuleCache, type ModuleCacheStats } from './module-cache';
import { ModuleLoader } from './module-loader';
import { RuntimeMetrics } from './runtime-metrics';
import { sha256 } from './transpile-cache';
import { type ModuleContext, WasmModule } from './wasm-module';

/** Counters of a runtime, for dashboards and tests. */
export interface WasmRuntimeStats {
  /** The in-memory compiled-module cache. */
  readonly moduleCache: ModuleCacheStats;
  /** Live isolation workers. */
  readonly workers: number;
}

/**
 * Runs WebAssembly components and core modules under fuel, memory and time limits.
 * Create one per process (or per node) and load every module through it, so they
 * share the compiled-module cache and the worker pool.
 */
export class WasmRuntime {
  /** The settings in force, defaults applied. */
  readonly config: ResolvedRuntimeConfig;

  readonly #cache: ModuleCache;
  readonly #loader: ModuleLoader;
  readonly #context: ModuleContext;
  /**
   * Buffers loaded before, with the copy that was hashed. Comparing bytes is an order of
   * magnitude faster than SHA-256, so reloading the same buffer skips the hash while a
   * changed buffer is still noticed.
   */
  readonly #known = new WeakMap<
    Uint8Array,
    { copy: Uint8Array; sha256: string; kind: 'module' | 'component' }
  >();
  #workers: WorkerPool | undefined;
  #closed = false;

  constructor(config: WasmRuntimeConfig = {}) {
    this.config = resolveRuntimeConfig(config);

    const metrics = new RuntimeMetrics(this.config.metrics, () => this.#cache.stats().bytes);
    this.#cache = new ModuleCache(this.config.moduleCacheMaxBytes);
    this.#loader = new ModuleLoader(this.config, this.#cache, metrics);
    this.#context = {
      config: this.config,
      defaultCallOptions: Object.freeze(resolveCallOptions({}, this.config)),
      loader: this.#loader,
      metrics,
      workerPool: () => {
        this.#workers ??= new WorkerPool({ maxWorkers: this.config.maxWorkers });
        return this.#workers;
      },
      isClosed: () => this.#closed,
    };
  }

  /**
   * Loads a component or core module. The bytes are hashed and their header checked
   * now; a core module declaring more memory than `memoryLimitBytes` is rejected now.
   * Everything else (transpiling, instrumenting, compiling) waits for the first call.
   *
   * Note: the runtime keeps its own copy of the bytes, so the caller may reuse the buffer.
   *
   * @throws WasmRuntimeError `INVALID_MODULE`, `MEMORY_LIMIT`, `INVALID_ARGUMENT` or `RUNTIME_CLOSED`.
   *
   * @example
   * import { readFile } from 'node:fs/promises';
   * import { createWasmRuntime } from '@agentnode/wasm-runtime';
   *
   * const runtime = createWasmRuntime();
   * const tool = runtime.load(await readFile('tool.wasm'), { name: 'tool' });
   */
  load(bytes: Uint8Array, config: WasmModuleConfig = {}): WasmModule {
    if (this.#closed) {
      throw new WasmRuntimeError(
        'RUNTIME_CLOSED',
        'The runtime is closed; create a new one to load modules.',
      );
    }
    if (!(bytes instanceof Uint8Array) || bytes.length === 0) {
      throw new WasmRuntimeError(
        'INVALID_ARGUMENT',
        `Invalid module bytes: expected a non-empty Uint8Array, got ${describe(bytes)}.`,
      );
    }
    checkModuleConfig(config);

    const known = this.#known.get(bytes);
    if (known !== undefined && Buffer.compare(known.copy, bytes) === 0) {
      return new WasmModule(this.#context, known.kind, known.copy, known.sha256, config);
    }

    const copy = bytes.slice();
    const kind = readBinaryKind(copy);
    if (kind === 'module') {
      checkDeclaredMemory(copy, this.config.memoryLimitBytes);
    }
    const identity = { copy, sha256: sha256(copy), kind };
    this.#known.set(bytes, identity);
    return new WasmModule(this.#context, kind, copy, identity.sha256, config);
  }

  /** Cache and worker counters. */
  stats(): WasmRuntimeStats {
    return { moduleCache: this.#cache.stats(), workers: this.#workers?.size ?? 0 };
  }

  /**
   * Terminates the workers and drops the caches; later loads and calls fail with
   * `RUNTIME_CLOSED`. Calls running in-process finish on their own.
   */
  async close(): Promise<void> {
    this.#closed = true;
    this.#cache.clear();
    this.#loader.clear();
    await this.#workers?.close();
  }
}

/**
 * Creates a {@link WasmRuntime}.
 *
 * @example
 * import { createMetricsRegistry } from '@agentnode/metrics';
 * import { createWasmRuntime } from '@agentnode/wasm-runtime';
 *
 * const runtime = createWasmRuntime({ metrics: createMetricsRegistry(), memoryLimitBytes: 64 * 1024 * 1024 });
 */
export function createWasmRuntime(config?: WasmRuntimeConfig): WasmRuntime {
  return new WasmRuntime(config);
}

function describe(value: unknown): string {
  if (value instanceof Uint8Array) {
    return 'an empty Uint8Array';
  }
  return value === null ? 'null' : typeof value;
}
