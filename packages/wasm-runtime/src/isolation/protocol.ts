/** Messages between the runtime and a call worker. Everything here survives structured clone. */

import type { WasmRuntimeErrorCode, WasmRuntimeErrorDetails } from '../errors';
import type { ReturnKind, WasiConfig } from '../instance/types';

/** The parts of a prepared module a worker needs; compiled modules transfer as-is. */
export type WorkerModule =
  | { readonly kind: 'module'; readonly module: WebAssembly.Module }
  | {
      readonly kind: 'component';
      readonly entryPath: string;
      readonly coreModules: ReadonlyArray<readonly [string, WebAssembly.Module]>;
      readonly imports: readonly string[];
    };

/** One call to run in a worker. */
export interface WorkerRequest {
  readonly id: number;
  readonly module: WorkerModule;
  readonly exportName: string;
  readonly args: readonly unknown[];
  readonly returns: ReturnKind;
  readonly fuelLimit: number;
  /**
   * Identity of the instance's module, host imports and WASI settings. A worker keeps
   * idle instances under it for reuse; without it every call gets a fresh instance.
   */
  readonly instanceKey: string | undefined;
  /** URL of an ES module whose default export is the host imports object. */
  readonly hostModule: string | undefined;
  readonly wasi: WasiConfig | undefined;
}

/** An error, flattened for the trip back. */
export interface WorkerError {
  readonly name: string;
  readonly message: string;
  readonly code?: WasmRuntimeErrorCode;
  readonly details?: WasmRuntimeErrorDetails;
  /** The err payload of a WIT `result` (jco's ComponentError). */
  readonly payload?: unknown;
}

/** The outcome of one call. */
export type WorkerResponse =
  | { readonly id: number; readonly ok: true; readonly value: unknown; readonly fuelUsed: number }
  | {
      readonly id: number;
      readonly ok: false;
      readonly error: WorkerError;
      readonly fuelUsed: number;
    };
