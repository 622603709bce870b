import { openSync } from 'node:fs';
import type { WASI } from 'node:wasi';
import { FUEL_EXPORT } from '../binary/instrument';
import { WasmRuntimeError } from '../errors';
import { FuelMeter } from './fuel-meter';
import {
  type Allocate,
  findAllocator,
  locateReturnedBuffer,
  readBytes,
  readString,
  writeBytes,
  writeString,
} from './guest-memory';
import type { HostImports, MeteredInstance, ReturnKind, WasiConfig } from './types';

const WASI_MODULES = new Set(['wasi_snapshot_preview1', 'wasi_unstable']);

let devNull: number | undefined;
// Imported on first use: loading node:wasi prints an experimental-feature warning.
let wasiModule: Promise<typeof import('node:wasi')> | undefined;

/**
 * Instantiates an instrumented core module with WASI preview 1 where it imports it and
 * the caller's host imports. Start functions draw on the fuel the module was
 * instrumented with.
 *
 * @throws WasmRuntimeError `LINK_ERROR` naming the first import that no host import provides.
 */
export async function instantiateCoreModule(
  module: WebAssembly.Module,
  hostImports: HostImports,
  wasiConfig: WasiConfig,
): Promise<MeteredInstance> {
  const imports: WebAssembly.Imports = { ...hostImports };

  const declared = WebAssembly.Module.imports(module);
  const usesWasi = declared.some((entry) => WASI_MODULES.has(entry.module));
  let wasi: WASI | undefined;
  if (usesWasi) {
    wasi = await createWasi(wasiConfig);
    const wasiImport = wasi.getImportObject() as WebAssembly.Imports;
    for (const name of WASI_MODULES) {
      imports[name] ??= wasiImport.wasi_snapshot_preview1!;
    }
  }

  for (const entry of declared) {
    if (imports[entry.module]?.[entry.name] === undefined) {
      throw new WasmRuntimeError(
        'LINK_ERROR',
        `The module imports ${entry.kind} "${entry.module}"."${entry.name}", which no host import provides.`,
        { details: { importName: `${entry.module}.${entry.name}` } },
      );
    }
  }

  let instance: WebAssembly.Instance;
  try {
    instance = new WebAssembly.Instance(module, imports);
  } catch (error) {
    if (error instanceof WebAssembly.LinkError) {
      throw new WasmRuntimeError('LINK_ERROR', `The module failed to link: ${error.message}`, {
        cause: error,
      });
    }
    throw error;
  }

  if (wasi !== undefined && typeof instance.exports._start !== 'function') {
    // A reactor: runs its `_initialize` (if any) once, before any export.
    wasi.initialize(instance);
  }
  const fuel = new FuelMeter();
  fuel.track(instance);
  return new CoreInstance(instance, fuel, wasi);
}

class CoreInstance implements MeteredInstance {
  readonly fuel: FuelMeter;
  readonly exports: Record<string, unknown>;
  readonly reusable: boolean;
  readonly #wasi: WASI | undefined;
  readonly #memory: WebAssembly.Memory | undefined;
  readonly #allocate: Allocate | undefined;

  constructor(instance: WebAssembly.Instance, fuel: FuelMeter, wasi: WASI | undefined) {
    this.fuel = fuel;
    this.exports = instance.exports as Record<string, unknown>;
    this.#wasi = wasi;
    this.#memory = Object.values(instance.exports).find(
      (value) => value instanceof WebAssembly.Memory,
    );
    this.#allocate = findAllocator(instance.exports);
    this.reusable = wasi === undefined || typeof instance.exports._start !== 'function';
  }

  invoke(exportName: string, args: readonly unknown[], returns: ReturnKind): unknown {
    const target = this.exports[exportName];
    if (typeof target !== 'function') {
      throw missingExport(exportName, Object.keys(this.exports));
    }

    if (exportName === '_start' && this.#wasi !== undefined) {
      return this.#wasi.start({ exports: this.exports } as WebAssembly.Instance);
    }

    const lowered = this.#lower(args);
    const result = (target as (...values: unknown[]) => unknown)(...lowered);
    const lifted = this.#lift(result, returns);

    const postReturn = this.exports[`cabi_post_${exportName}`];
    if (typeof postReturn === 'function') {
      postReturn(result);
    }
    return lifted;
  }

  memoryBytes(): number {
    return this.#memory?.buffer.byteLength ?? 0;
  }

  writeBytes(bytes: Uint8Array): [number, number] {
    return writeBytes(this.#requireMemory(), this.#allocate, bytes);
  }

  readBytes(pointer: number, length: number): Uint8Array {
    return readBytes(this.#requireMemory(), pointer, length);
  }

  #lower(args: readonly unknown[]): unknown[] {
    const lowered: unknown[] = [];
    for (const [index, arg] of args.entries()) {
      if (typeof arg === 'number' || typeof arg === 'bigint') {
        lowered.push(arg);
      } else if (typeof arg === 'string' || arg instanceof Uint8Array) {
        const memory = this.#requireMemory();
        lowered.push(
          ...(typeof arg === 'string'
            ? writeString(memory, this.#allocate, arg)
            : writeBytes(memory, this.#allocate, arg)),
        );
      } else {
        throw new WasmRuntimeError(
          'INVALID_ARGUMENT',
          `Argument ${index} is a ${typeof arg}; core-module exports take numbers, bigints, strings or Uint8Arrays.`,
        );
      }
    }
    return lowered;
  }

  #lift(result: unknown, returns: ReturnKind): unknown {
    if (returns === 'value') {
      return result;
    }
    const memory = this.#requireMemory();
    const [pointer, length] = locateReturnedBuffer(memory, result);
    return returns === 'string'
      ? readString(memory, pointer, length)
      : readBytes(memory, pointer, length);
  }

  #requireMemory(): WebAssembly.Memory {
    if (this.#memory === undefined) {
      throw new WasmRuntimeError(
        'INVALID_ARGUMENT',
        'Cannot pass or return bytes or strings: the module exports no memory.',
      );
    }
    return this.#memory;
  }
}

async function createWasi(config: WasiConfig): Promise<WASI> {
  wasiModule ??= import('node:wasi');
  const { WASI } = await wasiModule;
  devNull ??= openSync('/dev/null', 'r+');
  return new WASI({
    version: 'preview1',
    args: [...(config.args ?? [])],
    env: { ...config.env },
    preopens: { ...config.preopens },
    returnOnExit: true,
    stdin: devNull,
    stdout: devNull,
    stderr: devNull,
  });
}

/** Creates the `LINK_ERROR` for an export that does not exist, listing the ones that do. */
export function missingExport(exportName: string, available: readonly string[]): WasmRuntimeError {
  // The fuel counter and the canonical ABI helpers are plumbing, not callable tools.
  const names = available
    .filter((name) => !name.startsWith('cabi_') && name !== FUEL_EXPORT)
    .slice(0, 20);
  return new WasmRuntimeError(
    'LINK_ERROR',
    `The module has no exported function "${exportName}"; it exports: ${names.join(', ') || 'nothing callable'}.`,
    { details: { exportName } },
  );
}
