import { randomBytes } from 'node:crypto';
import pLimit from 'p-limit';
import { AbortScope } from './abort-scope';
import { planBatch } from './batch-plan';
import { BatchRun } from './batch-run';
import { runBounded, sleep } from './bounded-run';
import { type CallState, newCallState, type PreparedCall } from './call-state';
import type {
  CoordinatorEvents,
  ExecuteManyOptions,
  ExecuteOptions,
  ToolCallRequest,
  ToolCallResult,
} from './call-types';
import {
  checkBatch,
  checkConfigObject,
  checkExecuteOptions,
  type ResolvedCoordinatorConfig,
  resolveConfig,
  type ToolCoordinatorConfig,
} from './coordinator-config';
import { createToolMetrics, type ToolMetrics } from './core-metrics';
import { describeError, describeValue, isToolError, ToolError } from './errors';
import { ExecutionLogWriter } from './execution-log-writer';
import { guardLogger, type Logger, stderrErrorLogger } from './logger';
import type { AttestationGate, AttestationRequest, CallStatus, ToolInvocation } from './ports';
import type { PrivacyTier } from './privacy-tier';
import { computeRetryDelayMs, type ResolvedRetryPolicy, resolveRetryPolicy } from './retry-policy';
import { TaskSupervisor } from './task-supervisor';
import { ToolConfigStore } from './tool-config-store';
import type { RegisteredTool, ToolParams } from './tool-definition';
import { ToolRegistry } from './tool-registry';
import { type EventListener, logListenerError, TypedEvents } from './typed-events';

const UNRESOLVED_KIND = 'unknown';
const UNRESOLVED_TOOL = 'unknown';

/**
 * Runs tool calls: resolves the key, validates parameters, merges config,
 * checks attestation, then runs the tool's executor under a time limit with
 * retries, and reports every call in a result, an event, the metrics and
 * the execution log.
 *
 * `execute` and `executeMany` never reject for a failed call: a failure is a
 * result with `ok: false` and a {@link ToolError}. `executeMany` rejects only
 * when the batch itself is invalid (duplicate ids, a missing dependency, a
 * cycle, invalid options), before any call runs.
 *
 * Note: `concurrency` bounds the calls of one batch; separate `execute` calls
 * are not queued against each other.
 *
 * @example
 * import { ToolCoordinator } from '@agentnode/core';
 * const coordinator = new ToolCoordinator({
 *   executors: [{ kind: 'function', run: (call) => call.tool.handler!(call.params, call) }],
 * });
 * coordinator.registry.register({ key: 'local:::demo:::double', kind: 'function', handler: (p) => (p.n as number) * 2 });
 * const result = await coordinator.execute('local:::demo:::double', { n: 21 });
 * if (result.ok) console.log(result.value); // 42
 */
export class ToolCoordinator {
  /** The tools this coordinator runs. */
  readonly registry: ToolRegistry;
  /** Config layers of the tools. */
  readonly configStore: ToolConfigStore;
  /** Supervisor of background work; hosts may spawn their own tasks on it. */
  readonly tasks: TaskSupervisor;
  readonly #config: ResolvedCoordinatorConfig;
  readonly #logger: Logger;
  readonly #gate: AttestationGate | undefined;
  readonly #metrics: ToolMetrics | undefined;
  readonly #log: ExecutionLogWriter | undefined;
  readonly #events: TypedEvents<CoordinatorEvents>;
  /** Parent of every batch, call and attempt; `close()` aborts it. */
  readonly #root = new AbortScope();
  /** Random per coordinator, so call ids of two coordinators never collide. */
  readonly #callIdPrefix = `${randomBytes(6).toString('hex')}-`;
  #callSequence = 0;
  /** Results of the batches still running. */
  readonly #batches = new Set<Promise<ToolCallResult[]>>();
  #runningCalls = 0;
  #onIdle: (() => void) | undefined;
  #closing: Promise<void> | undefined;

  constructor(config: ToolCoordinatorConfig = {}) {
    checkConfigObject(config);
    this.#config = resolveConfig(config);
    this.#logger = guardLogger(config.logger ?? stderrErrorLogger);
    this.#metrics = config.metrics && createToolMetrics(config.metrics);
    this.registry = config.registry ?? new ToolRegistry();
    for (const executor of config.executors ?? []) {
      this.registry.registerExecutor(executor);
    }
    this.configStore = config.configStore ?? new ToolConfigStore();
    this.tasks =
      config.tasks ?? new TaskSupervisor({ logger: this.#logger, metrics: config.metrics });
    this.#gate = config.attestationGate;
    this.#log =
      config.executionLog &&
      new ExecutionLogWriter({
        log: config.executionLog,
        maxBatchSize: this.#config.executionLogBatchSize,
        flushIntervalMs: this.#config.executionLogFlushIntervalMs,
        maxBufferedRecords: this.#config.executionLogMaxBufferedRecords,
        tasks: this.tasks,
        logger: this.#logger,
        metrics: config.metrics,
      });

    const listenerErrors = this.#metrics?.listenerErrors;
    this.#events = new TypedEvents<CoordinatorEvents>(
      ['callStarted', 'callRetrying', 'callFinished'],
      logListenerError(this.#logger, (event) => listenerErrors?.inc({ event })),
    );
  }

  /**
   * Adds a listener; returns a function that removes it. A listener that
   * throws, or an async one that rejects, is caught, logged and counted; it
   * never affects the call.
   *
   * @throws {ToolError} `INVALID_OPTIONS` for an unknown event name or a
   *   listener that is not a function.
   *
   * @example
   * import { ToolCoordinator } from '@agentnode/core';
   * const coordinator = new ToolCoordinator();
   * coordinator.on('callFinished', (event) => console.log(event.callId, event.status, event.durationMs));
   */
  on<E extends keyof CoordinatorEvents>(
    event: E,
    listener: EventListener<CoordinatorEvents[E]>,
  ): () => void {
    return this.#events.on(event, listener);
  }

  /** Removes a listener added with {@link on}. */
  off<E extends keyof CoordinatorEvents>(
    event: E,
    listener: EventListener<CoordinatorEvents[E]>,
  ): void {
    this.#events.off(event, listener);
  }

  /**
   * Runs one call. Never rejects: a failure, timeout or abort is a result
   * with `ok: false`.
   *
   * @example
   * import { ToolCoordinator } from '@agentnode/core';
   * const coordinator = new ToolCoordinator({ executors: [{ kind: 'function', run: () => 'pong' }] });
   * coordinator.registry.register({ key: 'local:::demo:::ping', kind: 'function' });
   * const result = await coordinator.execute('local:::demo:::ping', {}, { timeoutMs: 1_000 });
   */
  execute<T = unknown>(
    key: string,
    params: ToolParams = {},
    given: ExecuteOptions = {},
  ): Promise<ToolCallResult<T>> {
    const callId = this.#newCallId();
    // Invalid options still produce a failed result below, never a throw.
    const options: ExecuteOptions = typeof given === 'object' && given !== null ? given : {};
    let failure: ToolError | undefined;
    let scope = this.#root;
    let timer: NodeJS.Timeout | undefined;

    try {
      checkExecuteOptions(given);
      if (options.signal !== undefined || options.totalTimeoutMs !== undefined) {
        scope = new AbortScope(this.#root, options.signal);
      }
      if (options.totalTimeoutMs !== undefined) {
        const totalTimeoutMs = options.totalTimeoutMs;
        // Referenced, like every timer bounding an awaited call; cleared when the call settles.
        timer = setTimeout(
          () => scope.abort(totalTimeout('The call', totalTimeoutMs)),
          totalTimeoutMs,
        );
      }
    } catch (error) {
      failure = error as ToolError;
    }

    const state = newCallState({
      callId,
      // An invalid id fails the call above; the result then carries the call id.
      id: typeof options.id === 'string' && options.id !== '' ? options.id : callId,
      key,
      params,
      agentId: options.agentId,
      timeoutMs: options.timeoutMs,
      retry: options.retry,
      scope,
      inBatch: false,
      failure,
      onFailure: undefined,
    });
    const result = this.#runCall(state) as Promise<ToolCallResult<T>>;
    if (scope === this.#root) {
      return result;
    }

    // #runCall never rejects, so one fulfilment handler is enough.
    return result.then((settled) => {
      clearTimeout(timer);
      scope.dispose();
      return settled;
    });
  }

  /**
   * Runs a batch of calls: independent calls in parallel up to
   * `concurrency`, a dependent call as soon as its inputs succeeded.
   * Resolves with one result per call, in input order.
   *
   * @throws {ToolError} (as a rejection) `DUPLICATE_CALL_ID`,
   *   `DEPENDENCY_NOT_FOUND`, `DEPENDENCY_CYCLE` or `INVALID_OPTIONS`,
   *   before any call runs.
   * @example
   * import { ToolCoordinator } from '@agentnode/core';
   * const coordinator = new ToolCoordinator({ executors: [{ kind: 'function', run: (call) => call.params }] });
   * coordinator.registry.register({ key: 'local:::demo:::echo', kind: 'function' });
   * const results = await coordinator.executeMany(
   *   [{ id: 'a', key: 'local:::demo:::echo', params: { n: 1 } }, { key: 'local:::demo:::echo', inputs: { previous: 'a' } }],
   *   { concurrency: 4, failFast: true },
   * );
   */
  async executeMany(
    calls: readonly ToolCallRequest[],
    options: ExecuteManyOptions = {},
  ): Promise<ToolCallResult[]> {
    return this.#startBatch(calls, options, undefined).results;
  }

  /**
   * Runs a batch like {@link executeMany} and yields each result as it
   * finishes, in completion order. The batch starts on the first `next()`;
   * leaving the loop early aborts the calls still queued or running.
   *
   * @example
   * import { ToolCoordinator } from '@agentnode/core';
   * const coordinator = new ToolCoordinator({ executors: [{ kind: 'function', run: (call) => call.params }] });
   * coordinator.registry.register({ key: 'local:::demo:::echo', kind: 'function' });
   * for await (const result of coordinator.stream([{ key: 'local:::demo:::echo' }, { key: 'local:::demo:::echo' }])) {
   *   console.log(result.id, result.ok);
   * }
   */
  async *stream(
    calls: readonly ToolCallRequest[],
    options: ExecuteManyOptions = {},
  ): AsyncGenerator<ToolCallResult, void, undefined> {
    const finished: ToolCallResult[] = [];
    let wake: (() => void) | undefined;
    const batch = this.#startBatch(calls, options, (result) => {
      finished.push(result);
      wake?.();
    });

    let yielded = 0;
    try {
      while (yielded < calls.length) {
        if (yielded === finished.length) {
          await new Promise<void>((resolve) => {
            wake = resolve;
          });
          wake = undefined;
        }
        while (yielded < finished.length) {
          yield finished[yielded++]!;
        }
      }
    } finally {
      if (yielded < calls.length) {
        batch.abort(
          new ToolError(
            'ABORTED',
            'The call was aborted because the consumer stopped iterating the batch.',
          ),
        );
      }
      await batch.results;
    }
  }

  /**
   * Stops taking calls, aborts the calls running or queued (`ABORTED`),
   * writes the buffered execution records and waits for background tasks.
   * Idempotent: later calls return the same promise.
   */
  close(): Promise<void> {
    this.#closing ??= this.#close();

    return this.#closing;
  }

  async #close(): Promise<void> {
    this.#root.abort(
      new ToolError('ABORTED', 'The call was aborted because the coordinator is closing.'),
    );
    // Batches first: their queued calls end a few microtasks after the abort.
    await Promise.all(this.#batches);
    if (this.#runningCalls > 0) {
      await new Promise<void>((resolve) => {
        this.#onIdle = resolve;
      });
    }

    await this.#log?.flush();
    await this.tasks.drain();
    this.#metrics?.detach();
  }

  #newCallId(): string {
    this.#callSequence++;

    return this.#callIdPrefix + this.#callSequence.toString(36);
  }

  #startBatch(
    calls: readonly ToolCallRequest[],
    options: ExecuteManyOptions,
    onSettled: ((result: ToolCallResult) => void) | undefined,
  ): { results: Promise<ToolCallResult[]>; abort: (reason: ToolError) => void } {
    checkBatch(calls, options);
    const planned = planBatch(calls);
    const limit = pLimit({
      concurrency: options.concurrency ?? this.#config.concurrency,
      rejectOnClear: true,
    });

    const scope = new AbortScope(this.#root, options.signal);
    // Queued calls of an aborted batch fail at once instead of waiting for a slot.
    scope.add(() => limit.clearQueue());
    const { totalTimeoutMs } = options;
    const timer =
      totalTimeoutMs === undefined
        ? undefined
        : setTimeout(() => scope.abort(totalTimeout('The batch', totalTimeoutMs)), totalTimeoutMs);

    const failFast = (id: string, error: ToolError) =>
      scope.abort(
        new ToolError(
          'ABORTED',
          `The call was aborted because call "${id}" failed and the batch is fail-fast.`,
          {
            cause: error,
          },
        ),
      );
    const run = new BatchRun({
      planned,
      calls,
      options,
      scope,
      limit,
      live: this.#metrics?.live,
      newCallId: () => this.#newCallId(),
      prepare: (state) => this.#prepare(state),
      runCall: (state) => this.#runCall(state),
      onSettled: (result) => {
        onSettled?.(result);
        if (!result.ok && options.failFast === true) {
          failFast(result.id, result.error);
        }
      },
      onFailure: options.failFast === true ? failFast : undefined,
    });

    const results = run.run().then((all) => {
      clearTimeout(timer);
      scope.dispose();
      this.#batches.delete(results);
      return all;
    });
    this.#batches.add(results);

    return { results, abort: scope.abort };
  }

  /**
   * Resolves the key, validates the parameters and merges the config, all
   * synchronously. A failure is stored on the state and ends the call
   * without running it, so an invalid batch call never waits for a slot.
   */
  #prepare(state: CallState): void {
    try {
      if (state.failure) {
        throw state.failure;
      }
      if (this.#closing) {
        throw new ToolError(
          'COORDINATOR_CLOSED',
          'The coordinator is closed; create a new one to run calls.',
        );
      }

      const entry = this.registry.resolve(state.key);
      state.entry = entry;
      const { tool } = entry;
      state.prepared = {
        entry,
        params: entry.validate(state.params, tool.key),
        config: this.configStore.resolve(tool, state.agentId).values,
        retry: resolveRetryPolicy(
          state.retry,
          tool.resolvedRetry ?? this.#config.retry,
          `Retry policy of this call (its own or its batch's, over the tool's or coordinator's)`,
          'INVALID_OPTIONS',
        ),
        timeoutMs: state.timeoutMs ?? tool.timeoutMs ?? this.#config.defaultTimeoutMs,
      };
    } catch (raw) {
      state.error = this.#toCallError(raw, state);
    }
  }

  /** Runs a call, preparing it first if that has not happened yet. Never rejects. */
  async #runCall(state: CallState): Promise<ToolCallResult> {
    this.#runningCalls++;
    const startedAt = this.#log ? Date.now() : 0;
    if (!state.prepared && !state.error) {
      this.#prepare(state);
    }

    let value: unknown;
    let error = state.error;
    const prepared = state.prepared;
    if (!error && prepared) {
      try {
        if (state.scope.aborted) {
          throw state.scope.reason;
        }
        const { tool } = prepared.entry;
        this.#markStarted(state, tool);
        // The common case, one attempt of an open tool, skips the retry
        // loop's async frame.
        value = await (prepared.retry.maxAttempts === 1 && !prepared.entry.requiresAttestation
          ? this.#attempt(state, prepared, 1)
          : this.#runAttempts(state, prepared));
      } catch (raw) {
        error = this.#toCallError(raw, state);
        // Reported before this call's promise settles, so a fail-fast batch
        // aborts before p-limit hands the freed slot to a queued call.
        state.onFailure?.(error);
      }
    }

    const result = this.#finish(state, startedAt, value, error);
    if (--this.#runningCalls === 0) {
      this.#onIdle?.();
    }

    return result;
  }

  #markStarted(state: CallState, tool: RegisteredTool): void {
    state.started = true;
    // A call outside a batch never waits, so it reuses its ready time.
    state.runStartMs = state.inBatch ? performance.now() : state.readyAt;
    state.queueWaitMs = state.runStartMs - state.readyAt;

    if (this.#metrics) {
      this.#metrics.live.inFlight(tool.kind, 1);
      if (state.inBatch) {
        this.#metrics.queueWait.observe({ kind: tool.kind }, state.queueWaitMs / 1000);
      }
    }
    if (this.#events.has('callStarted')) {
      this.#events.emit('callStarted', {
        callId: state.callId,
        id: state.id,
        key: tool.key,
        kind: tool.kind,
        agentId: state.agentId,
        queueWaitMs: state.queueWaitMs,
      });
    }
  }

  async #runAttempts(state: CallState, prepared: PreparedCall): Promise<unknown> {
    const { retry } = prepared;
    const { tool } = prepared.entry;
    if (prepared.entry.requiresAttestation) {
      await this.#checkAttestation(state, tool);
    }

    for (let attempt = 1; ; attempt++) {
      try {
        return await this.#attempt(state, prepared, attempt);
      } catch (raw) {
        const error = this.#toCallError(raw, state);
        if (attempt >= retry.maxAttempts || state.scope.aborted || !isRetryable(error, retry)) {
          throw error;
        }

        const delayMs = computeRetryDelayMs(retry, attempt);
        this.#countRetry(tool, error);
        if (this.#events.has('callRetrying')) {
          this.#events.emit('callRetrying', {
            callId: state.callId,
            id: state.id,
            key: tool.key,
            attempt,
            delayMs,
            error,
          });
        }
        await sleep(delayMs, state.scope);
      }
    }
  }

  /** Runs one attempt under the call's time limit and scope. */
  #attempt(state: CallState, prepared: PreparedCall, attempt: number): Promise<unknown> {
    const { entry, params, config, timeoutMs } = prepared;
    const { tool, executor } = entry;
    state.attempts = attempt;

    return runBounded(
      (signal) => executor.run(new Invocation(state, tool, params, config, attempt, signal)),
      {
        timeoutMs,
        scope: state.scope,
        onTimeout: () => attemptTimeout(tool.key, timeoutMs),
        onLateRejection: (error) =>
          this.#logger.debug('A tool rejected after its call had already ended.', {
            callId: state.callId,
            key: tool.key,
            error,
          }),
      },
    );
  }

  #countRetry(tool: RegisteredTool, error: ToolError): void {
    if (!this.#metrics) {
      return;
    }

    const labels = { kind: tool.kind, tool: tool.keyWithoutVersion };
    this.#metrics.retries.inc(labels);
    if (error.code === 'TIMEOUT') {
      this.#metrics.timeouts.inc(labels);
    }
  }

  async #checkAttestation(state: CallState, tool: RegisteredTool): Promise<void> {
    const attestationRequired = (reason: string, cause?: unknown) =>
      new ToolError(
        'ATTESTATION_REQUIRED',
        `Tool "${tool.key}" has privacy tier "${tool.privacyTier}" and ${reason}.`,
        {
          key: tool.key,
          cause,
        },
      );

    const gate = this.#gate;
    if (!gate) {
      throw attestationRequired(
        'no attestation gate is configured; pass "attestationGate" to the coordinator',
      );
    }

    const timeoutMs = this.#config.attestationTimeoutMs;
    let decision: unknown;
    try {
      decision = await runBounded(
        (signal) => gate.check(new AttestationCheck(state, tool, signal)),
        {
          timeoutMs,
          scope: state.scope,
          onTimeout: () =>
            attestationRequired(`the attestation check timed out after ${timeoutMs} ms`),
          onLateRejection: (error) =>
            this.#logger.debug('The attestation gate rejected after its check ended.', {
              callId: state.callId,
              error,
            }),
        },
      );
    } catch (error) {
      if (state.scope.aborted || isToolError(error, 'ATTESTATION_REQUIRED')) {
        throw error;
      }
      throw attestationRequired(`the attestation check failed: ${describeError(error)}`, error);
    }

    const answer = decision as { allowed?: unknown; reason?: unknown } | null | undefined;
    if (answer?.allowed !== true) {
      const reason = typeof answer?.reason === 'string' ? answer.reason : 'no reason given';
      throw attestationRequired(`the attestation gate rejected it: ${reason}`);
    }
  }

  #toCallError(raw: unknown, state: CallState): ToolError {
    const key = state.entry?.tool.key ?? keyText(state.key);
    const { scope } = state;
    // A call still queued when its batch aborted gets the batch's reason,
    // not the generic AbortError p-limit rejects it with.
    const cause = !state.started && scope.aborted && !isToolError(raw) ? scope.reason : raw;

    if (isToolError(cause)) {
      return cause.callId === state.callId ? cause : cause.forCall(key, state.callId);
    }
    if (scope.aborted && cause === scope.reason) {
      return new ToolError('ABORTED', `The call was aborted: ${describeError(cause)}.`, {
        key,
        callId: state.callId,
        cause,
      });
    }

    return new ToolError('EXECUTION_FAILED', `Tool "${key}" failed: ${describeError(cause)}`, {
      key,
      callId: state.callId,
      cause,
      retryable: (cause as { retryable?: unknown } | null)?.retryable === true,
    });
  }

  #lookUp(key: unknown): RegisteredTool | undefined {
    if (typeof key !== 'string') {
      return undefined;
    }
    try {
      return this.registry.get(key);
    } catch {
      return undefined; // An invalid key names no tool.
    }
  }

  #finish(
    state: CallState,
    startedAt: number,
    value: unknown,
    error: ToolError | undefined,
  ): ToolCallResult {
    // A call that failed before resolving its tool (a failed dependency, bad
    // options) is still labelled with the tool's kind when the key names one.
    const tool = state.entry?.tool ?? this.#lookUp(state.key);
    const kind = tool?.kind ?? UNRESOLVED_KIND;
    const key = tool?.key ?? keyText(state.key);
    const durationMs = state.started ? performance.now() - state.runStartMs : 0;
    const status = statusOf(error);

    if (this.#metrics) {
      const labels = { kind, tool: tool?.keyWithoutVersion ?? UNRESOLVED_TOOL, status };
      this.#metrics.duration.observe(labels, durationMs / 1000);
      this.#metrics.executions.inc(labels);
      if (status === 'timeout') {
        this.#metrics.timeouts.inc({ kind, tool: labels.tool });
      }
      if (state.started) {
        this.#metrics.live.inFlight(kind, -1);
      }
    }

    if (this.#events.has('callFinished')) {
      this.#events.emit('callFinished', {
        callId: state.callId,
        id: state.id,
        key,
        kind,
        agentId: state.agentId,
        status,
        durationMs,
        attempts: state.attempts,
        error,
      });
    }

    this.#log?.add({
      callId: state.callId,
      id: state.id,
      key,
      kind,
      agentId: state.agentId,
      status,
      errorCode: error?.code,
      errorMessage: error?.message,
      startedAt,
      queueWaitMs: state.queueWaitMs,
      durationMs,
      attempts: state.attempts,
    });

    const { id, callId, attempts } = state;
    return error
      ? { ok: false, id, callId, key, durationMs, attempts, error }
      : { ok: true, id, callId, key, durationMs, attempts, value };
  }
}

/**
 * Input of the executor for one attempt. It is a class, not an object
 * literal with a getter, because V8 builds such literals on a slow path.
 * The AbortSignal is created only if the tool reads it.
 */
class Invocation implements ToolInvocation {
  readonly callId: string;
  readonly key: string;
  readonly config: Readonly<Record<string, unknown>>;
  readonly attempt: number;
  readonly agentId: string | undefined;
  readonly tool: RegisteredTool;
  readonly params: ToolParams;
  readonly #signal: () => AbortSignal;

  constructor(
    state: CallState,
    tool: RegisteredTool,
    params: ToolParams,
    config: Readonly<Record<string, unknown>>,
    attempt: number,
    signal: () => AbortSignal,
  ) {
    this.callId = state.callId;
    this.key = tool.key;
    this.config = config;
    this.attempt = attempt;
    this.agentId = state.agentId;
    this.tool = tool;
    this.params = params;
    this.#signal = signal;
  }

  get signal(): AbortSignal {
    return this.#signal();
  }
}

/** Request sent to the attestation gate; the AbortSignal is created only if the gate reads it. */
class AttestationCheck implements AttestationRequest {
  readonly tier: PrivacyTier;
  readonly key: string;
  readonly callId: string;
  readonly agentId: string | undefined;
  readonly #signal: () => AbortSignal;

  constructor(state: CallState, tool: RegisteredTool, signal: () => AbortSignal) {
    this.tier = tool.privacyTier;
    this.key = tool.key;
    this.callId = state.callId;
    this.agentId = state.agentId;
    this.#signal = signal;
  }

  get signal(): AbortSignal {
    return this.#signal();
  }
}

function isRetryable(error: ToolError, retry: ResolvedRetryPolicy): boolean {
  switch (error.code) {
    case 'TIMEOUT':
      return retry.retryOnTimeout;
    case 'EXECUTION_FAILED':
      return error.retryable;
    default:
      // Aborts, invalid parameters, missing config, a rejected attestation
      // and the rest fail the same way every time.
      return false;
  }
}

/** Returns the key as given, or a printable description when a caller passed something other than a string. */
function keyText(key: unknown): string {
  return typeof key === 'string' ? key : describeValue(key);
}

function statusOf(error: ToolError | undefined): CallStatus {
  if (!error) {
    return 'ok';
  }
  switch (error.code) {
    case 'TIMEOUT':
      return 'timeout';
    case 'ABORTED':
      return 'aborted';
    default:
      return 'error';
  }
}

function attemptTimeout(key: string, timeoutMs: number): ToolError {
  return new ToolError('TIMEOUT', `Tool "${key}" did not finish within timeoutMs ${timeoutMs}.`, {
    key,
  });
}

function totalTimeout(what: 'The call' | 'The batch', totalTimeoutMs: number): ToolError {
  return new ToolError(
    'TIMEOUT',
    `${what} did not finish within totalTimeoutMs ${totalTimeoutMs}.`,
  );
}
