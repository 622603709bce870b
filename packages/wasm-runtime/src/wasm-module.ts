import { aborted, timedOut, withDeadline } from './call-deadline';
import {
  type ResolvedCallOptions,
  type ResolvedRuntimeConfig,
  resolveCallOptions,
  type WasmCallOptions,
  type WasmModuleConfig,
} from './config';
import { isWasmRuntimeError, WasmRuntimeError } from './errors';
import type { GuestOutput } from './instance/guest-output';
import { loadHostModule, toFileUrl } from './instance/host-module';
import { callMetered, mapFailure, outOfFuel } from './instance/metered-call';
import { createInstance, type PreparedModule } from './instance/prepared-module';
import type { HostImports, MeteredInstance, ReturnKind } from './instance/types';
import { fromWorkerError, toWorkerModule } from './isolation/worker-messages';
import type { WorkerPool } from './isolation/worker-pool';
import type { ModuleLoader } from './module-loader';
import type { RuntimeMetrics } from './runtime-metrics';
import type { ExportedItem } from './transpile-cache';

/** The outcome of a successful call. */
export interface WasmCallResult<T = unknown> {
  /** Value the export returned (lifted through jco's bindings for components). */
  readonly value: T;
  /** Fuel units the call used; the same input and budget always use the same fuel. */
  readonly fuelUsed: number;
  /** Wall-clock duration of the call, including waiting for the module and an instance. */
  readonly durationMs: number;
}

/** A checked-out instance inside {@link WasmModule.withInstance}. */
export interface WasmInstanceHandle {
  /** The raw exports: core exports, or jco's bindings (resource classes included). */
  readonly exports: Record<string, unknown>;
  /** Calls an export, drawing on the session's fuel budget; throws typed errors. */
  call(exportName: string, args?: readonly unknown[], returns?: ReturnKind): unknown;
  /** Fuel the session has used so far. */
  fuelUsed(): number;
  /** Bytes of linear memory the instance has now. */
  memoryBytes(): number;
  /**
   * Core modules: copies bytes into guest memory through the module's allocator and
   * returns `[pointer, length]`, for exports that take buffers in their own layout.
   */
  writeBytes(bytes: Uint8Array): [number, number];
  /** Core modules: encodes a string as UTF-8 into guest memory; returns `[pointer, length]`. */
  writeString(text: string): [number, number];
  /** Core modules: copies `length` bytes at `pointer` out of guest memory. */
  readBytes(pointer: number, length: number): Uint8Array;
  /** Core modules: decodes `length` bytes at `pointer` as UTF-8 (invalid UTF-8 is a `TRAP`). */
  readString(pointer: number, length: number): string;
}

/** Services a module uses from its runtime. */
export interface ModuleContext {
  readonly config: ResolvedRuntimeConfig;
  /** Call options with every default applied, shared by calls that pass none. */
  readonly defaultCallOptions: ResolvedCallOptions;
  readonly loader: ModuleLoader;
  readonly metrics: RuntimeMetrics;
  workerPool(): WorkerPool;
  isClosed(): boolean;
}

/**
 * A loaded module or component. Nothing is compiled or transpiled until the first
 * call (or {@link WasmModule.ready}); concurrent first calls share that work.
 *
 * @example
 * import { createWasmRuntime } from '@agentnode/wasm-runtime';
 *
 * const runtime = createWasmRuntime();
 * const tool = runtime.load(bytes, { name: 'echo' });
 * const { value, fuelUsed } = await tool.call('echo', ['héllo']);
 */
export class WasmModule {
  /** `'module'` for a core module, `'component'` for a component. */
  readonly kind: 'module' | 'component';
  /** SHA-256 of the bytes, hex; the module's identity in every cache. */
  readonly sha256: string;
  /** Name used in metrics and messages. */
  readonly name: string;
  /** Size of the module in bytes. */
  readonly byteLength: number;

  readonly #context: ModuleContext;
  readonly #bytes: Uint8Array;
  readonly #imports: HostImports;
  readonly #config: WasmModuleConfig;
  readonly #idle: MeteredInstance[] = [];
  /** Where a component's stdout and stderr go: the runtime's logger at debug level, if any. */
  readonly #guestOutput: GuestOutput | undefined;
  #loading: Promise<PreparedModule> | undefined;
  #prepared: PreparedModule | undefined;

  /** @internal Use `runtime.load`. */
  constructor(
    context: ModuleContext,
    kind: 'module' | 'component',
    bytes: Uint8Array,
    sha256: string,
    config: WasmModuleConfig,
  ) {
    this.#context = context;
    this.kind = kind;
    this.#bytes = bytes;
    this.sha256 = sha256;
    this.byteLength = bytes.length;
    this.name = config.name ?? sha256.slice(0, 12);
    this.#imports = config.imports ?? {};
    this.#config = config;
    const logger = context.config.logger;
    this.#guestOutput =
      logger === undefined
        ? undefined
        : (stream, line) => logger.debug(`wasm-runtime: ${this.name} ${stream}: ${line}`);
  }

  /** Number of idle instances pooled for reuse. */
  get idleInstances(): number {
    return this.#idle.length;
  }

  /**
   * Lists the exports a caller can use, loading the module first if needed. Internal
   * exports (`cabi_*` canonical-ABI helpers and the fuel counter) are left out.
   *
   * @example
   * import { createWasmRuntime } from '@agentnode/wasm-runtime';
   *
   * const tool = createWasmRuntime().load(bytes);
   * const names = (await tool.exports()).map((item) => item.name);
   */
  async exports(): Promise<ExportedItem[]> {
    const prepared = await this.#prepare();
    if (prepared.kind === 'component') {
      return [...prepared.exports];
    }
    return WebAssembly.Module.exports(prepared.module)
      .filter((item) => item.kind === 'function' && !item.name.startsWith('cabi_'))
      .map((item) => ({ name: item.name, kind: 'function' as const }));
  }

  /**
   * Transpiles, instruments and compiles now instead of on the first call.
   *
   * @throws WasmRuntimeError `INVALID_MODULE` or `MEMORY_LIMIT`.
   */
  async ready(): Promise<void> {
    await this.#prepare();
  }

  /**
   * Calls an export under the fuel budget, memory cap and deadline.
   *
   * Core-module exports take numbers and bigints. A string or `Uint8Array` argument is
   * copied into guest memory through the module's allocator and passed as two i32s
   * (pointer, length). Component exports take and return their WIT types as jco maps
   * them to JavaScript.
   *
   * Note: in-process (`isolation: 'none'`) a running guest cannot be interrupted; a
   * call that returns after its deadline fails with `TIMEOUT`, and one whose signal
   * fired meanwhile fails with `ABORTED`, its result dropped. Fuel is what stops
   * runaway guests there.
   *
   * @throws WasmRuntimeError with codes `OUT_OF_FUEL`, `TIMEOUT`, `ABORTED`, `TRAP`,
   * `LINK_ERROR`, `INVALID_MODULE`, `MEMORY_LIMIT`, `INVALID_ARGUMENT`, `RUNTIME_CLOSED`.
   * The err case of a WIT `result` is thrown as jco's `ComponentError` with `payload`.
   */
  async call<T = unknown>(
    exportName: string,
    args: readonly unknown[] = [],
    options?: WasmCallOptions,
  ): Promise<WasmCallResult<T>> {
    const started = performance.now();
    const resolved = this.#checkCall(exportName, args, options);

    if (resolved.isolation === 'worker') {
      return this.#callInWorker<T>(exportName, args, resolved, started);
    }

    const prepared = this.#prepared ?? (await this.#prepareBefore(started, resolved, exportName));
    const instance =
      (resolved.instance === 'reuse' ? this.#idle.pop() : undefined) ??
      (await this.#instantiate(prepared, started, resolved, exportName));

    const outcome = callMetered(instance, exportName, args, resolved.returns, resolved.fuelLimit);
    const durationMs = performance.now() - started;
    if (outcome.ok || outcome.reusable) {
      this.#release(instance, resolved);
    }

    if (!outcome.ok) {
      this.#recordCall(exportName, 'error', durationMs, outcome.fuelUsed);
      throw this.#withModule(outcome.error);
    }
    if (durationMs > resolved.timeoutMs) {
      this.#recordCall(exportName, 'error', durationMs, outcome.fuelUsed);
      throw this.#withModule(timedOut(exportName, resolved.timeoutMs, outcome.fuelUsed));
    }
    if (resolved.signal?.aborted) {
      // The signal fired while the guest held the thread; the caller has given up on the result.
      this.#recordCall(exportName, 'error', durationMs, outcome.fuelUsed);
      throw this.#withModule(aborted(exportName, resolved.signal));
    }

    this.#recordCall(exportName, 'ok', durationMs, outcome.fuelUsed);
    return { value: outcome.value as T, fuelUsed: outcome.fuelUsed, durationMs };
  }

  /**
   * Checks out one instance for a session of calls sharing one fuel budget: for
   * component resources (whose handles live in one instance) or several core calls
   * over the same memory. The instance goes back to the pool afterwards unless the
   * session failed or `instance: 'fresh'` was asked for.
   *
   * Note: in-process only; a session cannot run in a worker. As with `call`, a session
   * that ends after its deadline fails with `TIMEOUT`.
   *
   * @example
   * import { createWasmRuntime } from '@agentnode/wasm-runtime';
   *
   * const runtime = createWasmRuntime();
   * const tool = runtime.load(componentBytes);
   * const { value } = await tool.withInstance((instance) => {
   *   const Counter = instance.exports.Counter as new (start: number) => { increment(): number };
   *   return new Counter(1).increment();
   * });
   */
  async withInstance<T>(
    session: (instance: WasmInstanceHandle) => T | Promise<T>,
    options?: Omit<WasmCallOptions, 'isolation' | 'returns'>,
  ): Promise<WasmCallResult<T>> {
    const started = performance.now();
    const resolved = this.#checkCall('withInstance', [], options);
    const prepared =
      this.#prepared ?? (await this.#prepareBefore(started, resolved, 'withInstance'));
    const instance =
      (resolved.instance === 'reuse' ? this.#idle.pop() : undefined) ??
      (await this.#instantiate(prepared, started, resolved, 'withInstance'));

    const budget = resolved.fuelLimit;
    instance.fuel.refuel(budget);
    const used = (): number => instance.fuel.used(budget);
    const handle: WasmInstanceHandle = {
      exports: instance.exports,
      call: (exportName, args = [], returns = 'value') => {
        const outcome = callMetered(instance, exportName, args, returns, budget, false);
        if (!outcome.ok) {
          throw this.#withModule(outcome.error);
        }
        return outcome.value;
      },
      fuelUsed: used,
      memoryBytes: () => instance.memoryBytes(),
      writeBytes: (bytes) => instance.writeBytes(bytes),
      writeString: (text) => instance.writeBytes(encoder.encode(text)),
      readBytes: (pointer, length) => instance.readBytes(pointer, length),
      readString: (pointer, length) => decodeUtf8(instance.readBytes(pointer, length), pointer),
    };

    let value: T;
    try {
      value = await session(handle);
    } catch (error) {
      const failure = isWasmRuntimeError(error)
        ? undefined
        : mapFailure(error, instance, 'withInstance', budget);
      if (failure === undefined || failure.reusable) {
        this.#release(instance, resolved);
      }
      this.#recordCall('withInstance', 'error', performance.now() - started, used());
      throw failure === undefined ? error : this.#withModule(failure.error);
    }

    this.#release(instance, resolved);
    const durationMs = performance.now() - started;
    if (instance.fuel.exhausted()) {
      // Exports called straight through `exports` can overdraw the budget without a trap.
      this.#recordCall('withInstance', 'error', durationMs, used());
      throw this.#withModule(outOfFuel('withInstance', budget, used(), undefined));
    }
    if (durationMs > resolved.timeoutMs) {
      this.#recordCall('withInstance', 'error', durationMs, used());
      throw this.#withModule(timedOut('withInstance', resolved.timeoutMs, used()));
    }

    this.#recordCall('withInstance', 'ok', durationMs, used());
    return { value, fuelUsed: used(), durationMs };
  }

  /** Drops the pooled instances (they are garbage-collected). */
  drain(): void {
    this.#idle.length = 0;
  }

  #checkCall(
    exportName: string,
    args: readonly unknown[],
    options: WasmCallOptions | undefined,
  ): ResolvedCallOptions {
    if (this.#context.isClosed()) {
      throw new WasmRuntimeError(
        'RUNTIME_CLOSED',
        'The runtime is closed; create a new one to run modules.',
      );
    }
    if (typeof exportName !== 'string' || exportName === '') {
      throw new WasmRuntimeError(
        'INVALID_ARGUMENT',
        `Invalid export name: ${String(exportName)}; it must be a non-empty string.`,
      );
    }
    if (!Array.isArray(args)) {
      throw new WasmRuntimeError(
        'INVALID_ARGUMENT',
        `Invalid arguments for "${exportName}": expected an array.`,
      );
    }

    // Calls without options (the common case) share one resolved object.
    const resolved =
      options === undefined ||
      (typeof options === 'object' && options !== null && !hasOwnKeys(options))
        ? this.#context.defaultCallOptions
        : resolveCallOptions(options, this.#context.config);
    if (this.kind === 'component' && resolved.returns !== 'value') {
      throw new WasmRuntimeError(
        'INVALID_ARGUMENT',
        `Invalid returns: '${resolved.returns}'; components return their WIT types, so only 'value' applies.`,
      );
    }
    if (resolved.signal?.aborted) {
      throw aborted(exportName, resolved.signal);
    }
    return resolved;
  }

  #prepare(): Promise<PreparedModule> {
    if (this.#loading === undefined) {
      const loading = this.#context.loader.prepare(this.kind, this.#bytes, this.sha256);
      this.#loading = loading;
      loading.then(
        (prepared) => {
          this.#prepared = prepared;
        },
        () => {
          // A failed load is retried by the next call (a transient disk error may pass).
          if (this.#loading === loading) {
            this.#loading = undefined;
          }
        },
      );
    }
    return this.#loading;
  }

  #prepareBefore(
    started: number,
    options: ResolvedCallOptions,
    exportName: string,
  ): Promise<PreparedModule> {
    return withDeadline(this.#prepare(), started + options.timeoutMs, options, exportName).catch(
      (error: unknown) => {
        throw this.#withModule(error);
      },
    );
  }

  #instantiate(
    prepared: PreparedModule,
    started: number,
    options: ResolvedCallOptions,
    exportName: string,
  ): Promise<MeteredInstance> {
    const instance = this.#hostImports().then((imports) =>
      createInstance(prepared, imports, this.#config.wasi, this.#guestOutput),
    );
    return withDeadline(instance, started + options.timeoutMs, options, exportName).catch(
      (error: unknown) => {
        throw this.#withModule(mapInstantiationError(error));
      },
    );
  }

  /** In-process host imports: the `imports` given, else the `hostModule`'s default export. */
  #hostImports(): Promise<HostImports> {
    const hostModule = this.#config.hostModule;
    if (this.#config.imports !== undefined || hostModule === undefined) {
      return Promise.resolve(this.#imports);
    }
    return loadHostModule(hostModule);
  }

  #release(instance: MeteredInstance, options: ResolvedCallOptions): void {
    if (
      options.instance === 'reuse' &&
      instance.reusable &&
      this.#idle.length < this.#context.config.maxIdleInstances
    ) {
      this.#idle.push(instance);
    }
  }

  async #callInWorker<T>(
    exportName: string,
    args: readonly unknown[],
    options: ResolvedCallOptions,
    started: number,
  ): Promise<WasmCallResult<T>> {
    if (this.#config.hostModule === undefined && Object.keys(this.#imports).length > 0) {
      throw new WasmRuntimeError(
        'INVALID_ARGUMENT',
        `Cannot call "${exportName}" in a worker: host import functions cannot be sent to a worker thread; give the module a hostModule that exports them.`,
      );
    }

    const prepared = this.#prepared ?? (await this.#prepareBefore(started, options, exportName));
    const hostModule = this.#config.hostModule;
    const response = await this.#context
      .workerPool()
      .run(
        {
          module: toWorkerModule(prepared),
          exportName,
          args,
          returns: options.returns,
          fuelLimit: options.fuelLimit,
          hostModule: hostModule === undefined ? undefined : toFileUrl(hostModule),
          instanceKey:
            options.instance === 'reuse'
              ? `${this.sha256}|${hostModule ?? ''}|${JSON.stringify(this.#config.wasi ?? {})}`
              : undefined,
          wasi: this.#config.wasi,
        },
        started + options.timeoutMs,
        options.signal,
      )
      .catch((error: unknown) => {
        this.#recordCall(exportName, 'error', performance.now() - started, 0);
        throw this.#withModule(error);
      });

    const durationMs = performance.now() - started;
    if (!response.ok) {
      this.#recordCall(exportName, 'error', durationMs, response.fuelUsed);
      throw this.#withModule(fromWorkerError(response));
    }
    this.#recordCall(exportName, 'ok', durationMs, response.fuelUsed);
    return { value: response.value as T, fuelUsed: response.fuelUsed, durationMs };
  }

  #recordCall(
    exportName: string,
    status: 'ok' | 'error',
    durationMs: number,
    fuelUsed: number,
  ): void {
    this.#context.metrics.callFinished(this.name, exportName, status, durationMs / 1000, fuelUsed);
  }

  /**
   * Adds the module's identity to a runtime error and counts it. Anything else (the err
   * case of a WIT `result`) is a value the guest returned and passes through uncounted.
   */
  #withModule(error: unknown): unknown {
    if (!isWasmRuntimeError(error)) {
      return error;
    }
    this.#context.metrics.callFailed(this.name, error.code);
    if (error.details.moduleHash !== undefined) {
      return error;
    }
    return new WasmRuntimeError(error.code, error.message, {
      cause: error.cause,
      details: { ...error.details, moduleHash: this.sha256 },
    });
  }
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

function decodeUtf8(bytes: Uint8Array, pointer: number): string {
  try {
    return decoder.decode(bytes);
  } catch (error) {
    throw new WasmRuntimeError(
      'TRAP',
      `The guest memory at ${pointer} is not valid UTF-8 (${bytes.length} bytes).`,
      {
        cause: error,
      },
    );
  }
}

function hasOwnKeys(value: object): boolean {
  for (const key in value) {
    if (Object.hasOwn(value, key)) {
      return true;
    }
  }
  return false;
}

function mapInstantiationError(error: unknown): unknown {
  if (isWasmRuntimeError(error)) {
    return error;
  }
  if (error instanceof WebAssembly.RuntimeError) {
    return new WasmRuntimeError(
      'TRAP',
      `The module trapped while instantiating: ${error.message}`,
      { cause: error },
    );
  }
  return error;
}
