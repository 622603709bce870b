/** Codes of {@link NodeError}. */
export type NodeErrorCode = 'INVALID_CONFIG' | 'NODE_CLOSED';

/**
 * The one error class of the facade: invalid `createNode()` options and use of
 * a closed node. Errors of a call are `ToolError`s from `@agentnode/core`.
 */
export class NodeError extends Error {
  override readonly name = 'NodeError';
  readonly code: NodeErrorCode;

  constructor(code: NodeErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** Tells whether `value` is a {@link NodeError}, optionally with the given code. */
export function isNodeError(value: unknown, code?: NodeErrorCode): value is NodeError {
  return value instanceof NodeError && (code === undefined || value.code === code);
}
