import { pathToFileURL } from 'node:url';
import { WasmRuntimeError } from '../errors';
import { missingExport } from './core-instance';
import { FuelMeter } from './fuel-meter';
import { containGuest, type GuestOutput } from './guest-output';
import type { HostImports, MeteredInstance, WasiConfig } from './types';

/** The `instantiate` function jco generates in its `instantiation: 'async'` mode. */
export type InstantiateComponent = (
  getCoreModule: (name: string) => WebAssembly.Module,
  imports: Record<string, unknown>,
  instantiateCore: (
    module: WebAssembly.Module,
    imports?: WebAssembly.Imports,
  ) => WebAssembly.Instance,
) => Record<string, unknown> | Promise<Record<string, unknown>>;

/** Imports the generated bindings module from the verified cache entry. */
export async function importBindings(entryPath: string): Promise<InstantiateComponent> {
  const bindings = (await import(pathToFileURL(entryPath).href)) as { instantiate?: unknown };
  if (typeof bindings.instantiate !== 'function') {
    throw new WasmRuntimeError(
      'INVALID_MODULE',
      `The transpiled bindings at ${entryPath} export no instantiate function.`,
    );
  }
  return bindings.instantiate as InstantiateComponent;
}

/** The import object for components without WASI settings or an output sink. */
let discardingImports: Promise<Record<string, unknown>> | undefined;
/** Import objects without WASI settings, one per output sink (one sink per module). */
const importsByOutput = new WeakMap<GuestOutput, Promise<Record<string, unknown>>>();

/**
 * Builds the WASI preview 2 import object, sandboxed: no preopened directories, no
 * network, only the arguments and environment the caller gives. The guest's stdout and
 * stderr go to `output` (discarded without one), and `wasi:cli/exit` traps.
 */
async function createWasiImports(
  config: WasiConfig,
  output: GuestOutput | undefined,
): Promise<Record<string, unknown>> {
  const { WASIShim } = await import('@bytecodealliance/preview2-shim/instantiation');
  const shim = new WASIShim({
    sandbox: {
      preopens: { ...config.preopens },
      env: { ...config.env },
      args: [...(config.args ?? [])],
      enableNetwork: false,
    },
  });
  return containGuest(shim.getImportObject() as unknown as Record<string, unknown>, output);
}

/** Resolves an import object, shared by every instance when there are no WASI settings. */
export function wasiImportsFor(
  config: WasiConfig | undefined,
  output: GuestOutput | undefined,
): Promise<Record<string, unknown>> {
  if (config !== undefined) {
    return createWasiImports(config, output);
  }
  if (output === undefined) {
    discardingImports ??= createWasiImports({}, undefined);
    return discardingImports;
  }
  let imports = importsByOutput.get(output);
  if (imports === undefined) {
    imports = createWasiImports({}, output);
    importsByOutput.set(output, imports);
  }
  return imports;
}

/**
 * Instantiates a transpiled component: the fuel counter of every core module is
 * tracked, WASI interfaces come from the preview 2 shim (matched without their
 * version), and the caller's host imports take precedence.
 *
 * @throws WasmRuntimeError `LINK_ERROR` naming the first WIT interface that neither the host
 * imports nor WASI provide.
 */
export async function instantiateComponent(
  instantiate: InstantiateComponent,
  coreModules: ReadonlyMap<string, WebAssembly.Module>,
  requiredImports: readonly string[],
  hostImports: HostImports,
  wasi: Record<string, unknown>,
): Promise<MeteredInstance> {
  const fuel = new FuelMeter();
  const imports: Record<string, unknown> = {};
  const hostByInterface = byUnversionedName(hostImports);
  for (const name of requiredImports) {
    const unversioned = withoutVersion(name);
    const provided = hostByInterface.get(unversioned) ?? wasi[name] ?? wasi[unversioned];
    if (provided === undefined) {
      throw new WasmRuntimeError(
        'LINK_ERROR',
        `The component imports the interface "${name}", which neither the host imports nor WASI provide.`,
        { details: { importName: name } },
      );
    }
    imports[name] = provided;
  }

  const memories: WebAssembly.Memory[] = [];
  const getCoreModule = (name: string): WebAssembly.Module => {
    const module = coreModules.get(name);
    if (module === undefined) {
      throw new WasmRuntimeError(
        'INVALID_MODULE',
        `The bindings ask for a core module "${name}" the cache entry lacks.`,
      );
    }
    return module;
  };
  const instantiateCore = (module: WebAssembly.Module, coreImports: WebAssembly.Imports = {}) => {
    const instance = new WebAssembly.Instance(module, coreImports);
    fuel.track(instance);
    for (const value of Object.values(instance.exports)) {
      if (value instanceof WebAssembly.Memory) {
        memories.push(value);
      }
    }
    return instance;
  };

  let exports: Record<string, unknown>;
  try {
    exports = await instantiate(getCoreModule, imports, instantiateCore);
  } catch (error) {
    if (error instanceof WebAssembly.LinkError || error instanceof TypeError) {
      throw new WasmRuntimeError(
        'LINK_ERROR',
        `The component failed to link: ${(error as Error).message}`,
        {
          cause: error,
        },
      );
    }
    throw error;
  }
  return new ComponentInstance(exports, fuel, memories);
}

class ComponentInstance implements MeteredInstance {
  readonly fuel: FuelMeter;
  readonly reusable = true;
  readonly exports: Record<string, unknown>;
  readonly #memories: readonly WebAssembly.Memory[];
  readonly #resolved = new Map<string, (...args: unknown[]) => unknown>();

  constructor(exports: Record<string, unknown>, fuel: FuelMeter, memories: WebAssembly.Memory[]) {
    this.exports = exports;
    this.fuel = fuel;
    this.#memories = [...new Set(memories)];
  }

  invoke(exportName: string, args: readonly unknown[]): unknown {
    let target = this.#resolved.get(exportName);
    if (target === undefined) {
      target = resolveExport(this.exports, exportName);
      this.#resolved.set(exportName, target);
    }
    return target(...args);
  }

  memoryBytes(): number {
    return this.#memories.reduce((total, memory) => total + memory.buffer.byteLength, 0);
  }

  writeBytes(): [number, number] {
    throw componentMemoryAccess();
  }

  readBytes(): Uint8Array {
    throw componentMemoryAccess();
  }
}

/**
 * Indexes host imports by interface name without its version: jco's bindings look
 * interfaces up unversioned (`wasi:random/random`), while callers may write the
 * versioned name from the WIT (`wasi:random/random@0.2.0`).
 */
function byUnversionedName(imports: HostImports): Map<string, unknown> {
  const byName = new Map<string, unknown>();
  for (const [name, value] of Object.entries(imports)) {
    byName.set(withoutVersion(name), value);
  }
  return byName;
}

function withoutVersion(name: string): string {
  return name.replace(/@[^/#]*$/, '');
}

function componentMemoryAccess(): WasmRuntimeError {
  return new WasmRuntimeError(
    'INVALID_ARGUMENT',
    "A component's linear memory is private: pass bytes and strings as WIT list<u8> and string values.",
  );
}

/**
 * Finds a function in jco's bindings by WIT name or jco's camelCase name:
 * `get-stats`, `getStats`, `iface.fn`, `pkg:ns/iface#fn` and `pkg:ns/iface@1.0.0#fn`.
 */
function resolveExport(
  exports: Record<string, unknown>,
  exportName: string,
): (...args: unknown[]) => unknown {
  const separator = Math.max(exportName.lastIndexOf('#'), exportName.lastIndexOf('.'));
  const owner = separator < 0 ? exports : lookup(exports, exportName.slice(0, separator));
  const functionName = separator < 0 ? exportName : exportName.slice(separator + 1);

  const target = lookup(owner, functionName);
  if (typeof target === 'function') {
    return target as (...args: unknown[]) => unknown;
  }
  throw missingExport(exportName, listExports(exports));
}

function lookup(container: unknown, name: string): unknown {
  if (typeof container !== 'object' || container === null) {
    return undefined;
  }
  const record = container as Record<string, unknown>;
  return record[name] ?? record[camelCase(name)] ?? record[name.replace(/@[^/#]*$/, '')];
}

function camelCase(name: string): string {
  return name.replace(/-([a-z0-9])/g, (_, letter: string) => letter.toUpperCase());
}

function listExports(exports: Record<string, unknown>): string[] {
  const names: string[] = [];
  for (const [name, value] of Object.entries(exports)) {
    if (typeof value === 'function') {
      names.push(name);
    } else if (typeof value === 'object' && value !== null) {
      names.push(...Object.keys(value).map((inner) => `${name}.${inner}`));
    }
  }
  return names;
}
