import type { LimitFunction } from 'p-limit';
import type { AbortScope } from './abort-scope';
import type { PlannedCall } from './batch-plan';
import { type CallState, newCallState } from './call-state';
import type {
  ExecuteManyOptions,
  ToolCallFailure,
  ToolCallRequest,
  ToolCallResult,
} from './call-types';
import { describeError, ToolError } from './errors';
import type { ToolParams } from './tool-definition';

/** Inputs of a {@link BatchRun}, supplied by the coordinator. */
export interface BatchRunContext {
  readonly planned: readonly PlannedCall[];
  readonly calls: readonly ToolCallRequest[];
  readonly options: ExecuteManyOptions;
  readonly scope: AbortScope;
  readonly limit: LimitFunction;
  readonly newCallId: () => string;
  readonly runCall: (state: CallState) => Promise<ToolCallResult>;
  /** Told about each result as it settles. */
  readonly onSettled: (result: ToolCallResult) => void;
  /** Told as soon as a started call fails, before its result settles; set for fail-fast batches. */
  readonly onFailure: ((id: string, error: ToolError) => void) | undefined;
}

/**
 * Schedules the calls of one batch: calls without dependencies at once, each
 * dependent as soon as all its inputs succeeded. A failed input fails its
 * dependents with `DEPENDENCY_FAILED` without running them.
 */
export class BatchRun {
  readonly #context: BatchRunContext;
  readonly #results: ToolCallResult[];
  /** Inputs each call still waits for; -1 once the call was launched as failed. */
  readonly #waitingFor: number[];
  #pending: number;

  constructor(context: BatchRunContext) {
    this.#context = context;
    this.#results = new Array(context.calls.length);
    this.#waitingFor = context.planned.map((call) => call.dependencies.length);
    this.#pending = context.calls.length;
  }

  /** Launches the calls without dependencies; resolves with every result, in input order. */
  run(): Promise<ToolCallResult[]> {
    return new Promise((resolve) => {
      this.#onDone = resolve;
      if (this.#pending === 0) {
        resolve(this.#results);
        return;
      }

      for (const call of this.#context.planned) {
        if (call.dependencies.length === 0) {
          this.#launch(call.index, undefined);
        }
      }
    });
  }

  #onDone: (results: ToolCallResult[]) => void = () => {};

  #launch(index: number, failure: ToolError | undefined): void {
    const { options, onFailure } = this.#context;
    const planned = this.#context.planned[index]!;
    const request = this.#context.calls[index]!;
    const callId = this.#context.newCallId();
    let params: unknown = request.params ?? {};
    let buildFailure = failure;

    if (
      !buildFailure &&
      (planned.dependencies.length > 0 || typeof request.params === 'function')
    ) {
      try {
        params = this.#buildParams(request, planned);
      } catch (error) {
        buildFailure = new ToolError(
          'INVALID_PARAMETERS',
          `Call "${planned.id}": building its parameters failed: ${describeError(error)}`,
          { key: request.key, callId, cause: error },
        );
      }
    }

    const state = newCallState({
      callId,
      id: planned.id,
      key: request.key,
      params,
      agentId: request.agentId ?? options.agentId,
      timeoutMs: request.timeoutMs ?? options.timeoutMs,
      retry: request.retry ?? options.retry,
      scope: this.#context.scope,
      limit: this.#context.limit,
      failure: buildFailure,
      onFailure: onFailure && ((error) => onFailure(planned.id, error)),
    });

    void this.#context.runCall(state).then(
      (result) => this.#settle(index, result),
      // runCall turns every failure into a result; this only guards against
      // a bug there leaving the batch unsettled or the rejection unhandled.
      (error: unknown) =>
        this.#settle(index, internalFailure(state.callId, planned.id, request.key, error)),
    );
  }

  #buildParams(request: ToolCallRequest, planned: PlannedCall): ToolParams {
    const outputs: Record<string, unknown> = {};
    for (const dependency of planned.dependencies) {
      const result = this.#results[dependency]!;
      outputs[result.id] = result.ok ? result.value : undefined;
    }

    const base =
      typeof request.params === 'function' ? request.params(outputs) : (request.params ?? {});
    if (!request.inputs) {
      return base;
    }

    const params: Record<string, unknown> = { ...base };
    for (const [name, id] of Object.entries(request.inputs)) {
      params[name] = outputs[id];
    }

    return params;
  }

  #settle(index: number, result: ToolCallResult): void {
    this.#results[index] = result;
    this.#context.onSettled(result);

    for (const dependent of this.#context.planned[index]!.dependents) {
      if (this.#waitingFor[dependent] === -1) {
        continue;
      }
      if (!result.ok) {
        this.#waitingFor[dependent] = -1;
        this.#launch(dependent, dependencyFailed(this.#context.planned[dependent]!, result));
      } else if (--this.#waitingFor[dependent]! === 0) {
        this.#launch(dependent, undefined);
      }
    }

    if (--this.#pending === 0) {
      this.#onDone(this.#results);
    }
  }
}

function internalFailure(callId: string, id: string, key: string, error: unknown): ToolCallResult {
  return {
    ok: false,
    id,
    callId,
    key,
    durationMs: 0,
    attempts: 0,
    error: new ToolError(
      'EXECUTION_FAILED',
      `Call "${id}" failed inside the coordinator: ${describeError(error)}`,
      {
        key,
        callId,
        cause: error,
      },
    ),
  };
}

function dependencyFailed(planned: PlannedCall, input: ToolCallFailure): ToolError {
  return new ToolError(
    'DEPENDENCY_FAILED',
    `Call "${planned.id}" did not run because its input "${input.id}" failed with ${input.error.code}: ${input.error.message}`,
    { cause: input.error, key: input.key },
  );
}
