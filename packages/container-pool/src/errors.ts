/**
 * Reasons a container pool operation fails, for callers to switch on.
 *
 * - `INVALID_CONFIG`: a pool config, container spec, call option or image input broke a rule
 *   or has an unknown key.
 * - `TIMEOUT`: a call passed its deadline (while waiting for a container or while running).
 * - `ABORTED`: the caller's `AbortSignal` fired.
 * - `OUTPUT_LIMIT`: the code wrote more to stdout than `maxOutputBytes`.
 * - `CONTAINER_UNHEALTHY`: a container failed its readiness or liveness probe, or its runner
 *   died or broke the protocol during a call.
 * - `CONTAINER_START_FAILED`: the engine rejected creating or starting a container.
 * - `ENGINE_UNAVAILABLE`: no Docker engine in rotation responded, or the engine
 *   `buildLocalImage` talks to did not respond.
 * - `IMAGE_BUILD_FAILED`: `buildLocalImage` could not import a root file system; the message
 *   carries Docker's reason.
 * - `POOL_CLOSED`: the pool was closed before or during the call.
 */
export type ContainerPoolErrorCode =
  | 'INVALID_CONFIG'
  | 'TIMEOUT'
  | 'ABORTED'
  | 'OUTPUT_LIMIT'
  | 'CONTAINER_UNHEALTHY'
  | 'CONTAINER_START_FAILED'
  | 'ENGINE_UNAVAILABLE'
  | 'IMAGE_BUILD_FAILED'
  | 'POOL_CLOSED';

/** Facts attached to an error, for logs and for callers that want the partial result. */
export interface ContainerPoolErrorDetails {
  /** Name of the spec the call ran against. */
  readonly spec?: string;
  /** Engine the container ran on. */
  readonly engine?: string;
  /** Container id, when one was involved. */
  readonly containerId?: string;
  /** Output captured before the limit was hit (`OUTPUT_LIMIT` only), cut at `maxOutputBytes`. */
  readonly partialOutput?: string;
}

/**
 * The one error class of `@agentnode/container-pool`.
 *
 * @example
 * import { isContainerPoolError } from '@agentnode/container-pool';
 *
 * try {
 *   await pool.run(spec, { code: 'sleep 10', timeoutMs: 100 });
 * } catch (error) {
 *   if (isContainerPoolError(error) && error.code === 'TIMEOUT') console.log('too slow');
 * }
 */
export class ContainerPoolError extends Error {
  /** Stable code of what went wrong. */
  readonly code: ContainerPoolErrorCode;
  /** Context for logs: spec, engine, container. */
  readonly details: ContainerPoolErrorDetails;

  constructor(
    code: ContainerPoolErrorCode,
    message: string,
    options: { cause?: unknown; details?: ContainerPoolErrorDetails } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ContainerPoolError';
    this.code = code;
    this.details = options.details ?? {};
  }
}

/**
 * Tells whether `value` is a {@link ContainerPoolError}, optionally with the given code.
 *
 * @example
 * import { isContainerPoolError } from '@agentnode/container-pool';
 *
 * if (isContainerPoolError(error, 'POOL_CLOSED')) return;
 */
export function isContainerPoolError(
  value: unknown,
  code?: ContainerPoolErrorCode,
): value is ContainerPoolError {
  return value instanceof ContainerPoolError && (code === undefined || value.code === code);
}

/**
 * Builds an `INVALID_CONFIG` error naming the option, the value and the rule. With `expected`,
 * a value of another type is shown with its type, so `"100"` reads as a string, not a number.
 */
export function invalidConfig(
  option: string,
  value: unknown,
  rule: string,
  expected?: ValueType,
): ContainerPoolError {
  const actual = typeOf(value);
  const typeNote =
    expected !== undefined && actual !== expected && value !== undefined && value !== null
      ? ` (${article(actual)} ${actual})`
      : '';
  return new ContainerPoolError(
    'INVALID_CONFIG',
    `Invalid ${option}: ${describeValue(value)}${typeNote}; ${rule}.`,
  );
}

/** JavaScript types as messages name them; arrays and null apart from objects. */
export type ValueType =
  | 'string'
  | 'number'
  | 'boolean'
  | 'object'
  | 'array'
  | 'function'
  | 'null'
  | 'undefined'
  | 'bigint'
  | 'symbol';

/** The type of `value` for messages: `array` and `null` apart from `object`. */
export function typeOf(value: unknown): ValueType {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

/** Shows a value in a message: strings quoted, objects as JSON, at most 120 characters. */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return clip(JSON.stringify(value));
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'symbol' || typeof value === 'bigint' || typeof value === 'number') {
    return String(value);
  }
  if (typeof value === 'boolean' || value == null) return String(value);

  try {
    return clip(JSON.stringify(value) ?? typeof value);
  } catch {
    return typeOf(value);
  }
}

function clip(text: string): string {
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}

function article(type: string): string {
  return /^[aeiou]/.test(type) ? 'an' : 'a';
}
