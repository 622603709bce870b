/**
 * Codes a caller can switch on. Each one names the rule that was broken:
 *
 * - `INVALID_ROUTER_KEY`: a key is not `source:::author:::name[:::version]`.
 * - `INVALID_DEFINITION`: a tool definition breaks a rule at registration.
 * - `INVALID_CONFIG`: a coordinator, registry or config-store option is invalid.
 * - `INVALID_OPTIONS`: a per-call option is invalid, or `params` and `inputs` of a batch call set the same parameter.
 * - `UNSUPPORTED_TOOL_KIND`: no executor is registered for the tool's kind.
 * - `TOOL_ALREADY_REGISTERED`: the key is taken and `replace` was not set.
 * - `TOOL_NOT_FOUND`: no tool is registered under the key.
 * - `INVALID_PARAMETERS`: parameters are not an object, are a Promise or fail the tool's JSON Schema, or a batch call's parameter function threw or returned a Promise.
 * - `MISSING_CONFIG`: a required config field has no value after merging.
 * - `ATTESTATION_REQUIRED`: the attestation gate rejected the call, failed or is absent.
 * - `TIMEOUT`: a call or a batch ran past its time limit.
 * - `ABORTED`: the caller's signal, a fail-fast batch or `close()` stopped the call.
 * - `EXECUTION_FAILED`: the executor or the tool itself threw or rejected.
 * - `DEPENDENCY_FAILED`: a call whose output this call needs did not succeed.
 * - `DEPENDENCY_NOT_FOUND`: a batch call names an input id that no call has.
 * - `DEPENDENCY_CYCLE`: batch calls depend on each other in a cycle.
 * - `DUPLICATE_CALL_ID`: two calls in one batch share an id.
 * - `COORDINATOR_CLOSED`: the coordinator was closed before the call.
 */
export type ToolErrorCode =
  | 'INVALID_ROUTER_KEY'
  | 'INVALID_DEFINITION'
  | 'INVALID_CONFIG'
  | 'INVALID_OPTIONS'
  | 'UNSUPPORTED_TOOL_KIND'
  | 'TOOL_ALREADY_REGISTERED'
  | 'TOOL_NOT_FOUND'
  | 'INVALID_PARAMETERS'
  | 'MISSING_CONFIG'
  | 'ATTESTATION_REQUIRED'
  | 'TIMEOUT'
  | 'ABORTED'
  | 'EXECUTION_FAILED'
  | 'DEPENDENCY_FAILED'
  | 'DEPENDENCY_NOT_FOUND'
  | 'DEPENDENCY_CYCLE'
  | 'DUPLICATE_CALL_ID'
  | 'COORDINATOR_CLOSED';

/** Extra facts a {@link ToolError} may carry. */
export interface ToolErrorOptions {
  /** The error underneath, for example what the executor threw. */
  cause?: unknown;
  /** Router key of the tool involved, when one is known. */
  key?: string;
  /** Id of the call involved, when one is known. */
  callId?: string;
  /**
   * Whether running the call again may succeed. Retries happen only for
   * retryable errors.
   * @default false
   */
  retryable?: boolean;
  /** The offending parameter or config field, for `INVALID_PARAMETERS` and `MISSING_CONFIG`. */
  field?: string;
}

/**
 * The one error class of `@agentnode/core`. Every failed call, invalid
 * definition or invalid option surfaces as a `ToolError` with a `code`.
 *
 * Executors may throw it themselves to mark an error as retryable:
 *
 * @example
 * import { ToolError } from '@agentnode/core';
 * throw new ToolError('EXECUTION_FAILED', 'Upstream returned 503.', { retryable: true });
 */
export class ToolError extends Error {
  override readonly name = 'ToolError';
  /** Kind of failure, as a code a caller can switch on. */
  readonly code: ToolErrorCode;
  /** Router key of the tool involved, if any. */
  readonly key: string | undefined;
  /** Id of the call involved, if any. */
  readonly callId: string | undefined;
  /** Whether a retry may succeed. */
  readonly retryable: boolean;
  /** The offending parameter or config field, if any. */
  readonly field: string | undefined;

  constructor(code: ToolErrorCode, message: string, options: ToolErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.key = options.key;
    this.callId = options.callId;
    this.retryable = options.retryable ?? false;
    this.field = options.field;
  }

  /**
   * Returns a copy of this error tied to one call, keeping code, message,
   * cause and flags.
   */
  forCall(key: string | undefined, callId: string): ToolError {
    return new ToolError(this.code, this.message, {
      cause: this.cause,
      key: this.key ?? key,
      callId,
      retryable: this.retryable,
      field: this.field,
    });
  }
}

/**
 * Tells whether `value` is a {@link ToolError}; with `code`, whether it also has that code.
 *
 * @example
 * import { isToolError } from '@agentnode/core';
 * if (isToolError(error, 'TIMEOUT')) console.log('timed out:', error.key);
 */
export function isToolError(value: unknown, code?: ToolErrorCode): value is ToolError {
  return value instanceof ToolError && (code === undefined || value.code === code);
}

/**
 * Renders any thrown value as a short message for use inside another message.
 *
 * @example
 * import { describeError } from '@agentnode/core';
 * describeError(new Error('disk full')); // 'disk full'
 */
export function describeError(error: unknown): string {
  if (error instanceof Error) {
    return error.message;
  }

  return typeof error === 'string' ? error : safeString(error);
}

/** Renders a value of unknown type for an error message: `null`, `5`, `"text"`, `an array`, `a function`. */
export function describeValue(value: unknown): string {
  if (value === null || value === undefined) {
    return String(value);
  }
  if (Array.isArray(value)) {
    return 'an array';
  }
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'function':
      return 'a function';
    case 'object':
      return 'an object';
    default:
      return safeString(value);
  }
}

/**
 * Converts any value to a string without throwing. `String()` throws a
 * TypeError for an object without a prototype or with a throwing `toString`.
 */
function safeString(value: unknown): string {
  try {
    return String(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}
