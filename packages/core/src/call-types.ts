import type { ToolError } from './errors';
import type { CallStatus } from './ports';
import type { RetryPolicy } from './retry-policy';
import type { ToolParams } from './tool-definition';

/** Options of one {@link ToolCoordinator.execute} call. */
export interface ExecuteOptions {
  /** A name for the call in results, events and the log. @default the call id */
  id?: string;
  /** The agent the call runs for; selects its config overrides. */
  agentId?: string;
  /** Time limit of one attempt. @default the tool's `timeoutMs`, else the coordinator's `defaultTimeoutMs` */
  timeoutMs?: number;
  /** Time limit of the whole call, retries and backoff included. @default none */
  totalTimeoutMs?: number;
  /** Aborts the call; the executor's signal aborts with it. */
  signal?: AbortSignal;
  /** Retry policy; fields left out come from the tool's, then the coordinator's. */
  retry?: RetryPolicy;
}

/** Options of one {@link ToolCoordinator.executeMany} batch. */
export interface ExecuteManyOptions {
  /** Default agent of calls that name none. */
  agentId?: string;
  /** Time limit of one attempt of each call, unless the call sets its own. */
  timeoutMs?: number;
  /** Time limit of the whole batch; calls still queued or running then fail with `TIMEOUT`. */
  totalTimeoutMs?: number;
  /** Aborts the whole batch. */
  signal?: AbortSignal;
  /** Calls of this batch running at once. @default the coordinator's `concurrency` (32) */
  concurrency?: number;
  /**
   * Abort the calls still running or queued as soon as one call fails. By
   * default every call settles on its own.
   * @default false
   */
  failFast?: boolean;
  /** Retry policy of calls that set none. */
  retry?: RetryPolicy;
}

/** Outputs of a call's dependencies, by call id. */
export type DependencyOutputs = Readonly<Record<string, unknown>>;

/**
 * One call in a batch. A call may use other calls' outputs: `inputs` puts
 * an output into a parameter, `params` as a function builds the parameters
 * from outputs, and `dependsOn` only orders. Dependencies are named by id.
 *
 * @example
 * import type { ToolCallRequest } from '@agentnode/core';
 * const calls: ToolCallRequest[] = [
 *   { id: 'city', key: 'local:::demo:::locate', params: { ip: '127.0.0.1' } },
 *   { id: 'weather', key: 'local:::demo:::weather', inputs: { city: 'city' } },
 * ];
 */
export interface ToolCallRequest {
  /** Unique within the batch. @default the call's index as a string */
  id?: string;
  /** Router key of the tool to run. */
  key: string;
  /**
   * Parameters, or a function building them from the dependencies' outputs. @default {}
   *
   * Note: the function must return the object synchronously. One that returns
   * a Promise fails the call with `INVALID_PARAMETERS`, because it would run
   * outside the batch's concurrency bound, time limits and abort signal. Put
   * asynchronous work in a call of its own and pass its output through `inputs`.
   */
  params?: ToolParams | ((outputs: DependencyOutputs) => ToolParams);
  /**
   * Parameter name to id of the call whose output fills it. A parameter that
   * `params` also sets is an error (`INVALID_OPTIONS` for a `params` object,
   * `INVALID_PARAMETERS` for a `params` function), never silently overridden.
   */
  inputs?: Readonly<Record<string, string>>;
  /** Ids of calls that must succeed before this one starts. */
  dependsOn?: readonly string[];
  /** The agent the call runs for. @default the batch's `agentId` */
  agentId?: string;
  /** Time limit of one attempt. @default the batch's `timeoutMs` */
  timeoutMs?: number;
  /** Retry policy. @default the batch's `retry` */
  retry?: RetryPolicy;
}

/** Fields every result has. */
interface ToolCallResultBase {
  /** The call's id in its batch (or the `id` option of `execute`). */
  readonly id: string;
  /** Unique id of the call, shared with events, errors and the execution log. */
  readonly callId: string;
  /** Router key of the tool, canonical when the key resolved. */
  readonly key: string;
  /** From leaving the queue to the end, retries included; 0 when the call never started. */
  readonly durationMs: number;
  /** Attempts made; 0 when the call failed before reaching its executor. */
  readonly attempts: number;
}

/** A call that returned a value. */
export interface ToolCallSuccess<T = unknown> extends ToolCallResultBase {
  readonly ok: true;
  readonly value: T;
}

/** A call that failed, timed out or was aborted. */
export interface ToolCallFailure extends ToolCallResultBase {
  readonly ok: false;
  readonly error: ToolError;
}

/** Outcome of one call. Results are values: `execute` and `executeMany` never reject for a failed call. */
export type ToolCallResult<T = unknown> = ToolCallSuccess<T> | ToolCallFailure;

/** Payload of the `callStarted` event: the call left the queue and is about to run. */
export interface CallStartedEvent {
  readonly callId: string;
  readonly id: string;
  readonly key: string;
  readonly kind: string;
  readonly agentId: string | undefined;
  readonly queueWaitMs: number;
}

/** Payload of the `callFinished` event, sent once for every call, started or not. */
export interface CallFinishedEvent {
  readonly callId: string;
  readonly id: string;
  readonly key: string;
  readonly kind: string;
  readonly agentId: string | undefined;
  readonly status: CallStatus;
  readonly durationMs: number;
  readonly attempts: number;
  readonly error: ToolError | undefined;
}

/** Payload of the `callRetrying` event: an attempt failed and another follows after `delayMs`. */
export interface CallRetryingEvent {
  readonly callId: string;
  readonly id: string;
  readonly key: string;
  readonly attempt: number;
  readonly delayMs: number;
  readonly error: ToolError;
}

/** Events of a {@link ToolCoordinator}, by name. */
export interface CoordinatorEvents {
  callStarted: CallStartedEvent;
  callRetrying: CallRetryingEvent;
  callFinished: CallFinishedEvent;
}
