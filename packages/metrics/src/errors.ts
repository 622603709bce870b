/** Codes a caller can act on, carried by every {@link MetricsError}. */
export type MetricsErrorCode =
  | 'INVALID_CONFIG'
  | 'INVALID_ARGUMENT'
  | 'LISTEN_FAILED'
  | 'INVALID_METRIC_NAME'
  | 'INVALID_LABEL_NAME'
  | 'METRIC_CONFLICT'
  | 'DUPLICATE_METRIC'
  | 'MISSING_STATUS_LABEL';

/**
 * The one error class of `@agentnode/metrics`.
 *
 * @example
 * import { isMetricsError } from '@agentnode/metrics';
 * try { metrics.counter({ name: 'bad name', help: 'x' }); }
 * catch (error) { if (isMetricsError(error)) console.log(error.code); }
 */
export class MetricsError extends Error {
  override readonly name = 'MetricsError';
  readonly code: MetricsErrorCode;

  constructor(code: MetricsErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** Tells whether `value` is a {@link MetricsError}, optionally with the given code. */
export function isMetricsError(value: unknown, code?: MetricsErrorCode): value is MetricsError {
  return value instanceof MetricsError && (code === undefined || value.code === code);
}
