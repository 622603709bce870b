import type { LimitFunction } from 'p-limit';
import type { AbortScope } from './abort-scope';
import type { PlannedCall } from './batch-plan';
import { isPromiseLike } from './bounded-run';
import { type CallState, newCallState } from './call-state';
import type {
  ExecuteManyOptions,
  ToolCallFailure,
  ToolCallRequest,
  ToolCallResult,
} from './call-types';
import type { LiveCallCounts } from './core-metrics';
import { describeError, ToolError } from './errors';
import type { ToolParams } from './tool-definition';

/** Inputs of a {@link BatchRun}, supplied by the coordinator. */
export interface BatchRunContext {
  readonly planned: readonly PlannedCall[];
  readonly calls: readonly ToolCallRequest[];
  readonly options: ExecuteManyOptions;
  readonly scope: AbortScope;
  readonly limit: LimitFunction;
  /** Live counts for the queued gauge; absent without metrics. */
  readonly live: LiveCallCounts | undefined;
  readonly newCallId: () => string;
  /** Prepares a call synchronously; a failure is stored on the state. */
  readonly prepare: (state: CallState) => void;
  /** Runs a call; never rejects. */
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
  /** Calls handed to p-limit at most, queued or running there: twice the concurrency, so a freed slot always finds a call. */
  readonly #window: number;
  /** Prepared calls waiting to be handed to p-limit, in order; consumed entries are cleared. */
  readonly #backlog: Array<{ readonly index: number; readonly state: CallState } | undefined> = [];
  #backlogHead = 0;
  #inLimit = 0;
  #pending: number;

  constructor(context: BatchRunContext) {
    this.#context = context;
    this.#results = new Array(context.calls.length);
    this.#waitingFor = context.planned.map((call) => call.dependencies.length);
    this.#pending = context.calls.length;
    this.#window = context.limit.concurrency * 2;
    context.scope.add(() => this.#drainBacklog());
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
    // Only a missing `params` means none: null fails validation, as in execute().
    let params: unknown = request.params === undefined ? {} : request.params;
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
      retry: request.retry === undefined ? options.retry : request.retry,
      scope: this.#context.scope,
      inBatch: true,
      failure: buildFailure,
      onFailure: onFailure && ((error) => onFailure(planned.id, error)),
    });

    this.#context.prepare(state);
    if (state.error || this.#context.scope.aborted) {
      // Ends at once without a slot: invalid, or its batch already aborted.
      this.#runWithoutSlot(index, state);
      return;
    }

    this.#context.live?.queued(state.entry!.tool.kind, 1);
    this.#backlog.push({ index, state });
    this.#feed();
  }

  /**
   * Hands backlog calls to p-limit while fewer than `#window` of them are
   * there. A backlog entry is a prepared state only, but every call inside
   * p-limit also costs its closures and promises. So a batch of 100,000
   * calls keeps just a few of those alive at a time.
   */
  #feed(): void {
    while (this.#inLimit < this.#window && this.#backlogHead < this.#backlog.length) {
      const { index, state } = this.#backlog[this.#backlogHead]!;
      this.#backlog[this.#backlogHead++] = undefined;
      this.#handToLimit(index, state);
    }

    if (this.#backlogHead === this.#backlog.length) {
      this.#backlog.length = 0;
      this.#backlogHead = 0;
    }
  }

  #handToLimit(index: number, state: CallState): void {
    const kind = state.entry!.tool.kind;
    const { live } = this.#context;
    this.#inLimit++;
    this.#context
      .limit(() => {
        live?.queued(kind, -1);
        return this.#context.runCall(state);
      })
      .then(
        (result) => {
          this.#inLimit--;
          this.#settle(index, result);
          this.#feed();
        },
        () => {
          // p-limit rejects the calls it cleared from its queue when the
          // batch aborted; the call then ends with the batch's reason.
          this.#inLimit--;
          live?.queued(kind, -1);
          this.#runWithoutSlot(index, state);
        },
      );
  }

  /** Ends every backlog call at once when the batch aborts; each then fails with the batch's reason. */
  #drainBacklog(): void {
    while (this.#backlogHead < this.#backlog.length) {
      const { index, state } = this.#backlog[this.#backlogHead]!;
      this.#backlog[this.#backlogHead++] = undefined;
      this.#context.live?.queued(state.entry!.tool.kind, -1);
      this.#runWithoutSlot(index, state);
    }
    this.#backlog.length = 0;
    this.#backlogHead = 0;
  }

  #runWithoutSlot(index: number, state: CallState): void {
    void this.#context.runCall(state).then(
      (result) => this.#settle(index, result),
      // runCall turns every failure into a result; this only guards against
      // a bug there leaving the batch unsettled or the rejection unhandled.
      (error: unknown) =>
        this.#settle(index, internalFailure(state.callId, state.id, state.key, error)),
    );
  }

  #buildParams(request: ToolCallRequest, planned: PlannedCall): ToolParams {
    const outputs: Record<string, unknown> = {};
    for (const dependency of planned.dependencies) {
      const result = this.#results[dependency]!;
      outputs[result.id] = result.ok ? result.value : undefined;
    }

    const given = request.params === undefined ? {} : request.params;
    const base: unknown = typeof given === 'function' ? given(outputs) : given;
    if (typeof given === 'function' && isPromiseLike(base)) {
      // Handled so that a later rejection of the builder is not unhandled.
      base.then(undefined, () => {});
      throw new Error(
        'the "params" function returned a Promise, but it must return the parameters object synchronously. Do asynchronous work in a call of its own and pass its output through "inputs"',
      );
    }
    // Anything but a parameters object (a number, null, a Promise) goes to validation unmerged, which rejects it.
    if (!request.inputs || !isParamsObject(base)) {
      return base as ToolParams;
    }

    const params: Record<string, unknown> = { ...(base as ToolParams) };
    for (const [name, id] of Object.entries(request.inputs)) {
      // A params object is checked for this before the batch starts.
      if (Object.hasOwn(params, name)) {
        throw new Error(
          `the "params" function returned parameter "${name}", which "inputs" also sets; set it in only one of them`,
        );
      }
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

function isParamsObject(value: unknown): boolean {
  return (
    typeof value === 'object' && value !== null && !Array.isArray(value) && !isPromiseLike(value)
  );
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
