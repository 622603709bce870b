/**
 * An in-memory LRU of compiled `WebAssembly.Module`s bounded in bytes, with
 * single-flight compilation: concurrent requests for one key share one compile.
 */

/** Counters a cache keeps for metrics and tests. */
export interface ModuleCacheStats {
  readonly entries: number;
  /** Sum of the sizes of the cached modules' (instrumented) bytes. */
  readonly bytes: number;
  readonly hits: number;
  readonly misses: number;
  readonly evictions: number;
}

interface Entry {
  readonly module: Promise<WebAssembly.Module>;
  size: number;
  settled: boolean;
}

/**
 * Caches compiled modules by key (the SHA-256 of the source bytes plus the
 * instrumentation settings).
 *
 * Note: an entry's size is the byte length of the wasm it was compiled from. V8 does
 * not report the size of compiled code, which is usually a small multiple of it.
 */
export class ModuleCache {
  readonly #maxBytes: number;
  readonly #entries = new Map<string, Entry>();
  #bytes = 0;
  #hits = 0;
  #misses = 0;
  #evictions = 0;

  constructor(maxBytes: number) {
    this.#maxBytes = maxBytes;
  }

  /**
   * Returns the module cached under `key`, or compiles it with `compile` once, however
   * many callers ask at the same time. A failed compile is not cached.
   */
  get(
    key: string,
    size: number,
    compile: () => Promise<WebAssembly.Module>,
  ): Promise<WebAssembly.Module> {
    const cached = this.#entries.get(key);
    if (cached !== undefined) {
      this.#hits++;
      // Re-insert to mark it most recently used.
      this.#entries.delete(key);
      this.#entries.set(key, cached);
      return cached.module;
    }

    this.#misses++;
    const module = compile();
    const entry: Entry = { module, size, settled: false };
    this.#entries.set(key, entry);
    this.#bytes += size;
    module.then(
      () => {
        entry.settled = true;
        this.#evict();
      },
      () => {
        if (this.#entries.get(key) === entry) {
          this.#entries.delete(key);
          this.#bytes -= size;
        }
      },
    );
    return module;
  }

  /** Tells whether `key` is cached (compiled or compiling). */
  has(key: string): boolean {
    return this.#entries.has(key);
  }

  /** Drops every entry. */
  clear(): void {
    this.#entries.clear();
    this.#bytes = 0;
  }

  stats(): ModuleCacheStats {
    return {
      entries: this.#entries.size,
      bytes: this.#bytes,
      hits: this.#hits,
      misses: this.#misses,
      evictions: this.#evictions,
    };
  }

  #evict(): void {
    // Oldest first; compiles still in flight are kept so their waiters share them.
    for (const [key, entry] of this.#entries) {
      if (this.#bytes <= this.#maxBytes) {
        return;
      }
      if (!entry.settled || this.#entries.size === 1) {
        continue;
      }
      this.#entries.delete(key);
      this.#bytes -= entry.size;
      this.#evictions++;
    }
  }
}
