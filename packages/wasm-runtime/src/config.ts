import { join } from 'node:path';
import type { MetricsRegistry } from '@agentnode/metrics';
import { WasmRuntimeError } from './errors';
import type { HostImports, ReturnKind, WasiConfig } from './instance/types';

/** A console-compatible logger. */
export interface WasmRuntimeLogger {
  debug(message: string, ...details: unknown[]): void;
  info(message: string, ...details: unknown[]): void;
  warn(message: string, ...details: unknown[]): void;
  error(message: string, ...details: unknown[]): void;
}

/** Settings of {@link createWasmRuntime}; every field is optional. */
export interface WasmRuntimeConfig {
  /**
   * Directory of the on-disk transpile cache.
   * @default `.agentnode/wasm-cache` under the working directory
   */
  readonly cacheDirectory?: string;
  /**
   * Memory cap per instance, in bytes. Modules declaring a larger minimum are
   * rejected with `MEMORY_LIMIT`; `memory.grow` past it returns -1 in the guest.
   * @default 536870912 (512 MiB)
   */
  readonly memoryLimitBytes?: number;
  /**
   * Fuel budget per call, in units (about one per instruction; see the docs).
   * @default 10000000000
   */
  readonly fuelLimit?: number;
  /**
   * Instrument modules for fuel. Turning it off makes guests slightly faster and
   * unstoppable in-process; `fuelUsed` is then always 0.
   * @default true
   */
  readonly fuelMetering?: boolean;
  /**
   * Wall-clock deadline per call, in milliseconds.
   * @default 60000
   */
  readonly timeoutMs?: number;
  /**
   * Bound of the in-memory compiled-module cache, in bytes of wasm.
   * @default 268435456 (256 MiB)
   */
  readonly moduleCacheMaxBytes?: number;
  /**
   * Idle instances kept per module for reuse.
   * @default 8
   */
  readonly maxIdleInstances?: number;
  /**
   * Worker threads for `isolation: 'worker'` calls, at most.
   * @default 2
   */
  readonly maxWorkers?: number;
  /** Registry for the runtime's metrics; without it nothing is recorded. */
  readonly metrics?: MetricsRegistry;
  /**
   * Logger for transpiles (debug), each line a component writes to stdout or stderr
   * (debug) and rebuilt cache entries (warn). Nothing is logged without one, and
   * component output is then discarded.
   */
  readonly logger?: WasmRuntimeLogger;
}

/** Settings of one module, given to `runtime.load`. */
export interface WasmModuleConfig {
  /**
   * Name used in metrics labels and messages; keep it low-cardinality.
   * @default the first 12 hex digits of the module's SHA-256
   */
  readonly name?: string;
  /** Host imports for in-process calls. */
  readonly imports?: HostImports;
  /**
   * Path or file URL of an ES module whose default export is the host imports object,
   * loaded inside the worker for `isolation: 'worker'` calls (functions cannot be
   * sent to a worker), and in-process when `imports` is not given.
   */
  readonly hostModule?: string | URL;
  /** WASI arguments, environment and preopened directories. @default none */
  readonly wasi?: WasiConfig;
}

/** Per-call options of `module.call` and `module.withInstance`. */
export interface WasmCallOptions {
  /** Fuel budget of this call. @default the runtime's `fuelLimit` */
  readonly fuelLimit?: number;
  /** Deadline of this call in milliseconds. @default the runtime's `timeoutMs` */
  readonly timeoutMs?: number;
  /**
   * `'worker'` runs the call in a worker thread, which the deadline terminates.
   * `'none'` runs it on the calling thread, where only fuel can stop a running guest.
   * @default 'none'
   */
  readonly isolation?: 'none' | 'worker';
  /**
   * `'reuse'` takes an idle pooled instance (state persists between calls);
   * `'fresh'` instantiates a new one for this call and discards it afterwards.
   * @default 'reuse'
   */
  readonly instance?: 'reuse' | 'fresh';
  /**
   * Core modules only: read the result as a number (`'value'`), or as a UTF-8
   * string or bytes located by the returned pointer (see the docs).
   * @default 'value'
   */
  readonly returns?: ReturnKind;
  /** Aborts the call: waiting stops at once, a worker is terminated. */
  readonly signal?: AbortSignal;
}

/** The runtime settings after defaults. */
export type ResolvedRuntimeConfig = Readonly<
  Required<Omit<WasmRuntimeConfig, 'metrics' | 'logger'>> &
    Pick<WasmRuntimeConfig, 'metrics' | 'logger'>
>;

/** The call settings after defaults. */
export type ResolvedCallOptions = Readonly<
  Required<Omit<WasmCallOptions, 'signal'>> & Pick<WasmCallOptions, 'signal'>
>;

const MIB = 1024 * 1024;
/** The defaults, in one place. */
export const DEFAULTS = Object.freeze({
  memoryLimitBytes: 512 * MIB,
  fuelLimit: 10_000_000_000,
  fuelMetering: true,
  timeoutMs: 60_000,
  moduleCacheMaxBytes: 256 * MIB,
  maxIdleInstances: 8,
  maxWorkers: 2,
});

/** Largest memory a wasm32 instance can address. */
const MAX_MEMORY_BYTES = 4 * 1024 * MIB;

const RUNTIME_KEYS = new Set([
  'cacheDirectory',
  'memoryLimitBytes',
  'fuelLimit',
  'fuelMetering',
  'timeoutMs',
  'moduleCacheMaxBytes',
  'maxIdleInstances',
  'maxWorkers',
  'metrics',
  'logger',
]);
const MODULE_KEYS = new Set(['name', 'imports', 'hostModule', 'wasi']);
const WASI_KEYS = new Set(['args', 'env', 'preopens']);
const CALL_KEYS = new Set(['fuelLimit', 'timeoutMs', 'isolation', 'instance', 'returns', 'signal']);

/** Validates a runtime configuration and applies the defaults. */
export function resolveRuntimeConfig(config: WasmRuntimeConfig): ResolvedRuntimeConfig {
  rejectUnknownKeys(config, RUNTIME_KEYS, 'WasmRuntimeConfig');

  const resolved: ResolvedRuntimeConfig = {
    cacheDirectory: config.cacheDirectory ?? join(process.cwd(), '.agentnode', 'wasm-cache'),
    memoryLimitBytes: config.memoryLimitBytes ?? DEFAULTS.memoryLimitBytes,
    fuelLimit: config.fuelLimit ?? DEFAULTS.fuelLimit,
    fuelMetering: config.fuelMetering ?? DEFAULTS.fuelMetering,
    timeoutMs: config.timeoutMs ?? DEFAULTS.timeoutMs,
    moduleCacheMaxBytes: config.moduleCacheMaxBytes ?? DEFAULTS.moduleCacheMaxBytes,
    maxIdleInstances: config.maxIdleInstances ?? DEFAULTS.maxIdleInstances,
    maxWorkers: config.maxWorkers ?? DEFAULTS.maxWorkers,
    metrics: config.metrics,
    logger: config.logger,
  };

  if (typeof resolved.cacheDirectory !== 'string' || resolved.cacheDirectory === '') {
    throw invalidOption('cacheDirectory', resolved.cacheDirectory, 'must be a non-empty path');
  }
  checkInteger('memoryLimitBytes', resolved.memoryLimitBytes, 65536, MAX_MEMORY_BYTES);
  checkInteger('fuelLimit', resolved.fuelLimit, 1, Number.MAX_SAFE_INTEGER);
  checkInteger('timeoutMs', resolved.timeoutMs, 1, 2_147_483_647);
  checkInteger('moduleCacheMaxBytes', resolved.moduleCacheMaxBytes, 0, Number.MAX_SAFE_INTEGER);
  checkInteger('maxIdleInstances', resolved.maxIdleInstances, 0, 1_000_000);
  checkInteger('maxWorkers', resolved.maxWorkers, 1, 1024);
  if (typeof resolved.fuelMetering !== 'boolean') {
    throw invalidOption('fuelMetering', resolved.fuelMetering, 'must be a boolean');
  }
  return Object.freeze(resolved);
}

/** Validates a module configuration. */
export function checkModuleConfig(config: WasmModuleConfig): void {
  rejectUnknownKeys(config, MODULE_KEYS, 'WasmModuleConfig');
  if (config.name !== undefined && (typeof config.name !== 'string' || config.name === '')) {
    throw invalidOption('name', config.name, 'must be a non-empty string');
  }
  if (
    config.imports !== undefined &&
    (typeof config.imports !== 'object' || config.imports === null)
  ) {
    throw invalidOption(
      'imports',
      config.imports,
      'must be an object keyed by import module or interface',
    );
  }
  if (config.wasi !== undefined) {
    checkWasiConfig(config.wasi);
  }
  if (
    config.hostModule !== undefined &&
    typeof config.hostModule !== 'string' &&
    !(config.hostModule instanceof URL)
  ) {
    throw invalidOption('hostModule', config.hostModule, 'must be a path or a file URL');
  }
}

/** Validates per-call options and applies the runtime's defaults. */
export function resolveCallOptions(
  options: WasmCallOptions,
  runtime: ResolvedRuntimeConfig,
): ResolvedCallOptions {
  rejectUnknownKeys(options, CALL_KEYS, 'WasmCallOptions');

  const resolved: ResolvedCallOptions = {
    fuelLimit: options.fuelLimit ?? runtime.fuelLimit,
    timeoutMs: options.timeoutMs ?? runtime.timeoutMs,
    isolation: options.isolation ?? 'none',
    instance: options.instance ?? 'reuse',
    returns: options.returns ?? 'value',
    signal: options.signal,
  };

  checkInteger('fuelLimit', resolved.fuelLimit, 1, Number.MAX_SAFE_INTEGER);
  checkInteger('timeoutMs', resolved.timeoutMs, 1, 2_147_483_647);
  checkChoice('isolation', resolved.isolation, ['none', 'worker']);
  checkChoice('instance', resolved.instance, ['reuse', 'fresh']);
  checkChoice('returns', resolved.returns, ['value', 'string', 'bytes']);
  return resolved;
}

function checkWasiConfig(wasi: WasiConfig): void {
  rejectUnknownKeys(wasi, WASI_KEYS, 'WasiConfig');
  if (
    wasi.args !== undefined &&
    (!Array.isArray(wasi.args) || wasi.args.some((arg) => typeof arg !== 'string'))
  ) {
    throw invalidOption('wasi.args', wasi.args, 'must be an array of strings');
  }
  for (const name of ['env', 'preopens'] as const) {
    const record = wasi[name];
    if (record === undefined) {
      continue;
    }
    if (
      typeof record !== 'object' ||
      record === null ||
      Object.values(record).some((value) => typeof value !== 'string')
    ) {
      throw invalidOption(
        `wasi.${name}`,
        JSON.stringify(record),
        'must be an object whose values are strings',
      );
    }
  }
}

function rejectUnknownKeys(value: object, known: ReadonlySet<string>, typeName: string): void {
  if (typeof value !== 'object' || value === null) {
    throw new WasmRuntimeError(
      'INVALID_ARGUMENT',
      `${typeName} must be an object, got ${String(value)}.`,
    );
  }
  for (const key of Object.keys(value)) {
    if (!known.has(key)) {
      throw new WasmRuntimeError(
        'INVALID_ARGUMENT',
        `Unknown option "${key}" in ${typeName}; known options are ${[...known].join(', ')}.`,
      );
    }
  }
}

function checkInteger(name: string, value: unknown, minimum: number, maximum: number): void {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < minimum || value > maximum) {
    throw invalidOption(name, value, `must be an integer from ${minimum} to ${maximum}`);
  }
}

function checkChoice(name: string, value: unknown, choices: readonly string[]): void {
  if (typeof value !== 'string' || !choices.includes(value)) {
    throw invalidOption(
      name,
      value,
      `must be one of ${choices.map((choice) => `'${choice}'`).join(', ')}`,
    );
  }
}

function invalidOption(name: string, value: unknown, rule: string): WasmRuntimeError {
  return new WasmRuntimeError('INVALID_ARGUMENT', `Invalid ${name}: ${String(value)}; it ${rule}.`);
}
