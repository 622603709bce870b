import type { FuelMeter } from './fuel-meter';

/** A value passed to a core-module export: numbers as-is, bytes and strings through memory. */
export type CoreValue = number | bigint | string | Uint8Array;

/** How to read a core export's result. */
export type ReturnKind = 'value' | 'string' | 'bytes';

/**
 * Host functions (and, for core modules, globals, memories or tables) the guest
 * imports, keyed by import module (core) or WIT interface (components), then by name.
 *
 * @example
 * import type { HostImports } from '@agentnode/wasm-runtime';
 *
 * const imports: HostImports = {
 *   'test:greeter/host': { log: (message: string) => console.log(message) },
 * };
 */
export type HostImports = Record<string, Record<string, unknown>>;

/** WASI settings for core modules (preview 1 through `node:wasi`) and components (preview 2 shim). */
export interface WasiConfig {
  /** Command-line arguments visible to the guest. @default [] */
  readonly args?: readonly string[];
  /** Environment variables visible to the guest. @default {} */
  readonly env?: Readonly<Record<string, string>>;
  /** Guest path to host directory; nothing is visible without an entry. @default {} */
  readonly preopens?: Readonly<Record<string, string>>;
}

/** A live instance, checked out of the pool for one call. */
export interface MeteredInstance {
  /** The fuel counters of the instance's instrumented core modules. */
  readonly fuel: FuelMeter;
  /** Calls an export; throws what the guest or bindings throw, unmapped. */
  invoke(exportName: string, args: readonly unknown[], returns: ReturnKind): unknown;
  /** Whether the instance may serve another call (a WASI command runs `_start` once). */
  readonly reusable: boolean;
  /** Raw exports (core module exports, or jco's bindings object for a component). */
  readonly exports: Record<string, unknown>;
  /** Total bytes of linear memory in the instance's memories now. */
  memoryBytes(): number;
  /** Core modules: copies bytes into guest memory through the allocator; returns `[pointer, length]`. */
  writeBytes(bytes: Uint8Array): [number, number];
  /** Core modules: copies `length` bytes at `pointer` out of guest memory. */
  readBytes(pointer: number, length: number): Uint8Array;
}
