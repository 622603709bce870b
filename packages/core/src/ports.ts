import type { ToolErrorCode } from './errors';
import type { PrivacyTier } from './privacy-tier';
import type {
  RegisteredTool,
  ToolCallContext,
  ToolDefinition,
  ToolParams,
} from './tool-definition';

/** Input of an executor for one attempt of one call. */
export interface ToolInvocation extends ToolCallContext {
  /** The tool as it was registered when the call started. */
  readonly tool: RegisteredTool;
  /** Parameters, already validated against the tool's schema. */
  readonly params: ToolParams;
}

/**
 * Runs the tools of one kind. The coordinator owns timeouts, retries,
 * concurrency and metrics; an executor only runs one attempt and stops when
 * `call.signal` aborts.
 *
 * @example
 * import type { ToolExecutor } from '@agentnode/core';
 * const functionExecutor: ToolExecutor = {
 *   kind: 'function',
 *   validateTool(tool) {
 *     if (typeof tool.handler !== 'function') throw new TypeError('"handler" must be a function');
 *   },
 *   run: (call) => call.tool.handler!(call.params, call),
 * };
 */
export interface ToolExecutor {
  /** The tool kind this executor runs, such as `function`, `wasm` or `container`. */
  readonly kind: string;
  /**
   * Checks a definition of this kind at registration, for example that
   * `handler` or `spec` is present; a thrown error rejects the registration
   * with `INVALID_DEFINITION`.
   */
  validateTool?(tool: ToolDefinition): void;
  /**
   * Runs one attempt. The value returned (or resolved) is the call's result;
   * a throw or rejection fails the attempt. Throw a `ToolError` with
   * `retryable: true`, or any error with a `retryable: true` property, to let
   * the retry policy try again. `call.signal` aborts on timeout or abort.
   */
  run(call: ToolInvocation): unknown;
}

/** Outcome of a finished call. */
export type CallStatus = 'ok' | 'error' | 'timeout' | 'aborted';

/** One finished call, as handed to the {@link ExecutionLog}. */
export interface ExecutionRecord {
  readonly callId: string;
  /** The call's id within its batch (or the id given to `execute`). */
  readonly id: string;
  /** Router key as requested, canonical when it parsed. */
  readonly key: string;
  /** The tool's kind, or `unknown` when the key did not resolve. */
  readonly kind: string;
  readonly agentId: string | undefined;
  readonly status: CallStatus;
  readonly errorCode: ToolErrorCode | undefined;
  readonly errorMessage: string | undefined;
  /** Wall-clock start of the call, milliseconds since the epoch. */
  readonly startedAt: number;
  /** Time spent waiting for a concurrency slot. */
  readonly queueWaitMs: number;
  /** Time from leaving the queue to the end, retries included. */
  readonly durationMs: number;
  readonly attempts: number;
}

/**
 * Store for finished calls, for example a SQLite table. The
 * coordinator buffers records and hands them over in batches from a
 * background task, so a slow log never slows a call.
 *
 * @example
 * import type { ExecutionLog } from '@agentnode/core';
 * const log: ExecutionLog = { record: async (records) => console.log(records.length, 'calls') };
 */
export interface ExecutionLog {
  /** Stores a batch of records; a rejection is logged and counted, and the batch is dropped. */
  record(records: readonly ExecutionRecord[]): unknown;
}

/** Request sent to the {@link AttestationGate}. */
export interface AttestationRequest {
  readonly tier: PrivacyTier;
  /** Canonical router key of the tool. */
  readonly key: string;
  readonly callId: string;
  readonly agentId: string | undefined;
  /** Aborted when the call is; the gate should stop waiting then. */
  readonly signal: AbortSignal;
}

/** The gate's decision. */
export type AttestationDecision =
  | { readonly allowed: true }
  | { readonly allowed: false; readonly reason: string };

/**
 * Decides whether a tool of tier `cpu_tee` or above may run here now,
 * typically from a cached, verified TEE attestation. The coordinator fails
 * closed: a rejection, an error, a malformed decision or no gate at all each fail
 * the call with `ATTESTATION_REQUIRED`.
 *
 * @example
 * import type { AttestationGate } from '@agentnode/core';
 * const gate: AttestationGate = {
 *   check: ({ tier }) => (tier === 'cpu_tee' ? { allowed: true } : { allowed: false, reason: 'no GPU TEE' }),
 * };
 */
export interface AttestationGate {
  check(request: AttestationRequest): AttestationDecision | Promise<AttestationDecision>;
}
