/** Codes a caller can switch on; each names the rule a module or call broke. */
export type WasmRuntimeErrorCode =
  /** The call used up its fuel budget (a deterministic instruction count). */
  | 'OUT_OF_FUEL'
  /** The module declares more memory than the per-instance cap allows. */
  | 'MEMORY_LIMIT'
  /** The call passed its wall-clock deadline. */
  | 'TIMEOUT'
  /** The caller's abort signal fired before the call finished. */
  | 'ABORTED'
  /** The guest trapped (unreachable, out-of-bounds access, stack overflow, ...). */
  | 'TRAP'
  /** The bytes are not a valid WebAssembly module or component. */
  | 'INVALID_MODULE'
  /** An import could not be satisfied, or a named export does not exist. */
  | 'LINK_ERROR'
  /** A configuration value or call argument is invalid. */
  | 'INVALID_ARGUMENT'
  /** The runtime was closed before or during the call. */
  | 'RUNTIME_CLOSED';

/** Facts about the failed call, where the runtime has them. */
export interface WasmRuntimeErrorDetails {
  /** SHA-256 of the module bytes, hex. */
  readonly moduleHash?: string;
  /** Export that was called. */
  readonly exportName?: string;
  /** Fuel the call had used when it failed. */
  readonly fuelUsed?: number;
  /** Import that could not be linked (`module.name` or a WIT interface). */
  readonly importName?: string;
}

/**
 * The one error class of `@agentnode/wasm-runtime`.
 *
 * @example
 * import { isWasmRuntimeError } from '@agentnode/wasm-runtime';
 *
 * try {
 *   await tool.call('run', []);
 * } catch (error) {
 *   if (isWasmRuntimeError(error) && error.code === 'OUT_OF_FUEL') {
 *     console.log(`stopped after ${error.details.fuelUsed} units`);
 *   }
 * }
 */
export class WasmRuntimeError extends Error {
  override readonly name = 'WasmRuntimeError';
  readonly code: WasmRuntimeErrorCode;
  readonly details: WasmRuntimeErrorDetails;

  constructor(
    code: WasmRuntimeErrorCode,
    message: string,
    options: { cause?: unknown; details?: WasmRuntimeErrorDetails } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = Object.freeze({ ...options.details });
  }
}

/**
 * Tells whether a value is a {@link WasmRuntimeError}.
 *
 * @example
 * import { isWasmRuntimeError } from '@agentnode/wasm-runtime';
 *
 * const error: unknown = new Error('other');
 * isWasmRuntimeError(error); // false
 */
export function isWasmRuntimeError(value: unknown): value is WasmRuntimeError {
  return value instanceof WasmRuntimeError;
}
