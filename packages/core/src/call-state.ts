import type { AbortScope } from './abort-scope';
import type { ToolError } from './errors';
import type { ResolvedRetryPolicy, RetryPolicy } from './retry-policy';
import type { ToolParams } from './tool-definition';
import type { ToolRegistryEntry } from './tool-registry';

/** The fixed inputs of one call. */
export interface CallRequest {
  readonly callId: string;
  readonly id: string;
  readonly key: string;
  readonly params: unknown;
  readonly agentId: string | undefined;
  readonly timeoutMs: number | undefined;
  readonly retry: RetryPolicy | undefined;
  /** Aborts this call: the coordinator's, the batch's or the call's own scope. */
  readonly scope: AbortScope;
  /** Whether the call belongs to a batch, where it may wait for a concurrency slot. */
  readonly inBatch: boolean;
  /** Set when the call fails before it is run, for example a failed dependency. */
  readonly failure: ToolError | undefined;
  /** Told as soon as a started call fails, before its result settles. */
  readonly onFailure: ((error: ToolError) => void) | undefined;
}

/** Result of preparing a call: everything its attempts need. */
export interface PreparedCall {
  readonly entry: ToolRegistryEntry;
  readonly params: ToolParams;
  readonly config: Readonly<Record<string, unknown>>;
  readonly retry: ResolvedRetryPolicy;
  readonly timeoutMs: number;
}

/** One call as it moves through the coordinator, filled in as it goes. */
export interface CallState extends CallRequest {
  /** The registry entry, once the key resolved. */
  entry: ToolRegistryEntry | undefined;
  /** Set once preparation succeeded. */
  prepared: PreparedCall | undefined;
  /** Set when preparation failed; the call then ends without running. */
  error: ToolError | undefined;
  started: boolean;
  attempts: number;
  /** `performance.now()` when the call became ready to run. */
  readyAt: number;
  queueWaitMs: number;
  /** `performance.now()` when the call left the queue. */
  runStartMs: number;
}

/**
 * Builds the state of a call that has not started.
 *
 * Note: properties are copied one by one on purpose. An object spread of
 * `request` took about 7 µs per call on Node 20.20 (V8 11.3), more than the
 * coordinator's whole overhead budget.
 */
export function newCallState(request: CallRequest): CallState {
  return {
    callId: request.callId,
    id: request.id,
    key: request.key,
    params: request.params,
    agentId: request.agentId,
    timeoutMs: request.timeoutMs,
    retry: request.retry,
    scope: request.scope,
    inBatch: request.inBatch,
    failure: request.failure,
    onFailure: request.onFailure,
    entry: undefined,
    prepared: undefined,
    error: undefined,
    started: false,
    attempts: 0,
    readyAt: performance.now(),
    queueWaitMs: 0,
    runStartMs: 0,
  };
}
