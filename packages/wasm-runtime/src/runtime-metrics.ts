import type { Counter, Histogram, MetricsRegistry } from '@agentnode/metrics';
import type { WasmRuntimeErrorCode } from './errors';

type CallLabels = 'module' | 'export' | 'status';

/**
 * The runtime's Prometheus metrics. Without a registry every method is a no-op, so
 * an unmetered runtime pays only for the calls.
 */
export class RuntimeMetrics {
  readonly #loadSeconds: Histogram<'kind'> | undefined;
  readonly #transpileSeconds: Histogram<string> | undefined;
  readonly #cacheRequests: Counter<'cache' | 'result'> | undefined;
  readonly #callSeconds: Histogram<CallLabels> | undefined;
  readonly #fuelUsed: Counter<'module' | 'export'> | undefined;
  readonly #traps: Counter<'module' | 'code'> | undefined;
  // prom-client hashes label values on every observation; children skip that.
  readonly #callChildren = new Map<string, { observe(value: number): void }>();
  readonly #fuelChildren = new Map<string, { inc(value: number): void }>();

  constructor(metrics: MetricsRegistry | undefined, cacheBytes: () => number) {
    if (metrics === undefined) {
      return;
    }

    this.#loadSeconds = metrics.histogram({
      name: 'agentnode_wasm_module_load_duration_seconds',
      help: 'Time to make a module callable on first use: transpile or disk-cache read, instrumentation and compilation.',
      labelNames: ['kind'],
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    });
    this.#transpileSeconds = metrics.histogram({
      name: 'agentnode_wasm_transpile_duration_seconds',
      help: 'Time jco took to transpile a component (disk-cache misses only).',
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    });
    this.#cacheRequests = metrics.counter({
      name: 'agentnode_wasm_cache_requests_total',
      help: 'Compiled-module (memory) and transpiled-component (disk) cache lookups, by result.',
      labelNames: ['cache', 'result'],
    });
    metrics.gauge({
      name: 'agentnode_wasm_cache_size_bytes',
      help: 'Bytes of wasm whose compiled modules are in the in-memory cache.',
      collect() {
        this.set(cacheBytes());
      },
    });
    this.#callSeconds = metrics.histogram({
      name: 'agentnode_wasm_call_duration_seconds',
      help: 'Duration of export calls, by module, export and status.',
      labelNames: ['module', 'export', 'status'],
      buckets: [0.00001, 0.00005, 0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 60],
    });
    this.#fuelUsed = metrics.counter({
      name: 'agentnode_wasm_fuel_used_total',
      help: 'Fuel units used by export calls, by module and export.',
      labelNames: ['module', 'export'],
    });
    this.#traps = metrics.counter({
      name: 'agentnode_wasm_traps_total',
      help: 'Failed calls, by module and error code.',
      labelNames: ['module', 'code'],
    });
  }

  moduleLoaded(kind: 'module' | 'component', seconds: number): void {
    this.#loadSeconds?.observe({ kind }, seconds);
  }

  transpiled(seconds: number): void {
    this.#transpileSeconds?.observe(seconds);
  }

  cacheLookup(cache: 'memory' | 'disk', hit: boolean): void {
    this.#cacheRequests?.inc({ cache, result: hit ? 'hit' : 'miss' });
  }

  callFinished(
    module: string,
    exportName: string,
    status: 'ok' | 'error',
    seconds: number,
    fuel: number,
  ): void {
    if (this.#callSeconds === undefined) {
      return;
    }

    const key = `${module}\u0000${exportName}`;
    let duration = this.#callChildren.get(`${key}\u0000${status}`);
    if (duration === undefined) {
      duration = this.#callSeconds.labels({ module, export: exportName, status });
      this.#callChildren.set(`${key}\u0000${status}`, duration);
    }
    duration.observe(seconds);

    let fuelUsed = this.#fuelChildren.get(key);
    if (fuelUsed === undefined) {
      fuelUsed = this.#fuelUsed!.labels({ module, export: exportName });
      this.#fuelChildren.set(key, fuelUsed);
    }
    fuelUsed.inc(fuel);
  }

  callFailed(module: string, code: WasmRuntimeErrorCode): void {
    this.#traps?.inc({ module, code });
  }
}
