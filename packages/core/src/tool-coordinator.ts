import { randomUUID } from 'node:crypto';
import type { MetricsRegistry } from '@agentnode/metrics';
import pLimit, { type LimitFunction } from 'p-limit';
import { type PlannedCall, planBatch } from './batch-plan';
import { runBounded, type StopFunction, sleep } from './bounded-run';
import type {
  CoordinatorEvents,
  ExecuteManyOptions,
  ExecuteOptions,
  ToolCallFailure,
  ToolCallRequest,
  ToolCallResult,
} from './call-types';
import { createToolMetrics, type ToolMetrics } from './core-metrics';
import { describeError, isToolError, ToolError } from './errors';
import { ExecutionLogWriter } from './execution-log-writer';
import { type Logger, stderrErrorLogger } from './logger';
import type { AttestationGate, CallStatus, ExecutionLog, ToolExecutor } from './ports';
import { requiresAttestation } from './privacy-tier';
import {
  computeRetryDelayMs,
  NO_RETRY,
  type ResolvedRetryPolicy,
  type RetryPolicy,
  resolveRetryPolicy,
} from './retry-policy';
import { TaskSupervisor } from './task-supervisor';
import { ToolConfigStore } from './tool-config-store';
import type { RegisteredTool, ToolParams } from './tool-definition';
import { isTimeout, ToolRegistry, type ToolRegistryEntry } from './tool-registry';
import { type EventListener, logListenerError, TypedEvents } from './typed-events';

/** What {@link ToolCoordinator} takes. Every field is optional. */
export interface ToolCoordinatorConfig {
  /** The tools to run. @default a new, empty `ToolRegistry` */
  registry?: ToolRegistry;
  /** Executors to add to the registry, one per kind. @default [] */
  executors?: readonly ToolExecutor[];
  /** Config layers of the tools. @default a new, empty `ToolConfigStore` */
  configStore?: ToolConfigStore;
  /** Registry for the tool metrics; without one nothing is recorded. */
  metrics?: MetricsRegistry;
  /** Where caught errors are reported. @default errors to stderr, the rest dropped */
  logger?: Logger;
  /** Asked before a tool of tier `cpu_tee` or above runs; without one such tools fail with `ATTESTATION_REQUIRED`. */
  attestationGate?: AttestationGate;
  /** Where finished calls are recorded, in batches. */
  executionLog?: ExecutionLog;
  /** @default 100 */
  executionLogBatchSize?: number;
  /** @default 100 */
  executionLogFlushIntervalMs?: number;
  /** Records held while the log is slow; the oldest are dropped beyond it. @default 10_000 */
  executionLogMaxBufferedRecords?: number;
  /** Time limit of one attempt when neither the call nor the tool sets one. @default 60_000 */
  defaultTimeoutMs?: number;
  /** Time limit of one attestation check; running past it refuses the call. @default 10_000 */
  attestationTimeoutMs?: number;
  /**
   * Calls of one batch running at once, unless the batch sets its own. A
   * bound keeps a large batch from exhausting memory, sockets or a rate limit.
   * @default 32
   */
  concurrency?: number;
  /** Retry policy of tools and calls that set none. @default one attempt, no retry */
  retry?: RetryPolicy;
  /** Supervisor of background work such as log writes. @default a new one with this logger and metrics */
  tasks?: TaskSupervisor;
}

/** Default of {@link ToolCoordinatorConfig.concurrency}. */
export const DEFAULT_CONCURRENCY = 32;
/** Default of {@link ToolCoordinatorConfig.defaultTimeoutMs}. */
export const DEFAULT_TIMEOUT_MS = 60_000;

const CONFIG_KEYS = new Set([
  'registry',
  'executors',
  'configStore',
  'metrics',
  'logger',
  'attestationGate',
  'executionLog',
  'executionLogBatchSize',
  'executionLogFlushIntervalMs',
  'executionLogMaxBufferedRecords',
  'defaultTimeoutMs',
  'attestationTimeoutMs',
  'concurrency',
  'retry',
  'tasks',
]);
const UNRESOLVED_KIND = 'unknown';
const UNRESOLVED_TOOL = 'unknown';

interface ResolvedConfig {
  readonly defaultTimeoutMs: number;
  readonly attestationTimeoutMs: number;
  readonly concurrency: number;
  readonly retry: ResolvedRetryPolicy;
}

/** Everything one call needs, filled in as it goes. */
interface CallState {
  readonly callId: string;
  readonly id: string;
  readonly key: string;
  readonly params: unknown;
  readonly agentId: string | undefined;
  readonly timeoutMs: number | undefined;
  readonly retry: RetryPolicy | undefined;
  /** Aborts this call: the caller's signal, the batch's, or the call's total time limit. */
  readonly signal: AbortSignal | undefined;
  readonly limit: LimitFunction | undefined;
  /** Set when the call fails before it is run, for example a failed dependency. */
  readonly failure: ToolError | undefined;
  /** Told as soon as a started call fails. */
  readonly onFailure?: ((error: ToolError) => void) | undefined;
  entry: ToolRegistryEntry | undefined;
  started: boolean;
  attempts: number;
  queueWaitMs: number;
  runStartMs: number;
}

/** A batch started by {@link ToolCoordinator.executeMany} or {@link ToolCoordinator.stream}. */
interface RunningBatch {
  readonly results: Promise<ToolCallResult[]>;
  abort(reason: ToolError): void;
}

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
  readonly #config: ResolvedConfig;
  readonly #logger: Logger;
  readonly #gate: AttestationGate | undefined;
  readonly #metrics: ToolMetrics | undefined;
  readonly #log: ExecutionLogWriter | undefined;
  readonly #events: TypedEvents<CoordinatorEvents>;
  readonly #active = new Set<StopFunction>();
  readonly #batches = new Set<RunningBatch>();
  readonly #calls = new Set<Promise<ToolCallResult>>();
  #closing: Promise<void> | undefined;
  #closeReason: ToolError | undefined;

  constructor(config: ToolCoordinatorConfig = {}) {
    checkConfigObject(config);
    this.#config = resolveConfig(config);
    this.#logger = config.logger ?? stderrErrorLogger;
    this.#metrics = config.metrics && createToolMetrics(config.metrics);
    this.registry = config.registry ?? new ToolRegistry();
    for (const executor of config.executors ?? []) {
      this.registry.registerExecutor(executor);
    }
    this.configStore = config.configStore ?? new ToolConfigStore();
    this.tasks =
      config.tasks ?? new TaskSupervisor({ logger: this.#logger, metrics: config.metrics });
    this.#gate = config.attestationGate;
    this.#log = config.executionLog && createLogWriter(config, this.tasks, this.#logger);

    const listenerErrors = this.#metrics?.listenerErrors;
    this.#events = new TypedEvents(
      logListenerError(this.#logger, (event) => listenerErrors?.inc({ event })),
    );
  }

  /**
   * Adds a listener; returns a function that removes it. A listener that
   * throws is caught, logged and counted; it never affects the call.
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
  async execute<T = unknown>(
    key: string,
    params: ToolParams = {},
    options: ExecuteOptions = {},
  ): Promise<ToolCallResult<T>> {
    const callId = randomUUID();
    let failure: ToolError | undefined;
    let signal = options.signal;
    let cleanup: (() => void) | undefined;

    try {
      checkExecuteOptions(options);
      if (options.totalTimeoutMs !== undefined) {
        ({ signal, cleanup } = withTotalTimeout(
          options.signal,
          options.totalTimeoutMs,
          'The call',
        ));
      }
    } catch (error) {
      failure = error as ToolError;
    }

    try {
      return (await this.#track(
        this.#runCall({
          callId,
          id: options.id ?? callId,
          key,
          params,
          agentId: options.agentId,
          timeoutMs: options.timeoutMs,
          retry: options.retry,
          signal,
          limit: undefined,
          failure,
          entry: undefined,
          started: false,
          attempts: 0,
          queueWaitMs: 0,
          runStartMs: 0,
        }),
      )) as ToolCallResult<T>;
    } finally {
      cleanup?.();
    }
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
    const reason = new ToolError(
      'ABORTED',
      'The call was aborted because the coordinator is closing.',
    );
    this.#closeReason = reason;
    for (const batch of this.#batches) {
      batch.abort(reason);
    }
    for (const stop of [...this.#active]) {
      stop(reason);
    }

    await Promise.all(this.#calls);
    await this.#log?.flush();
    await this.tasks.drain();
  }

  #track(call: Promise<ToolCallResult>): Promise<ToolCallResult> {
    this.#calls.add(call);
    void call.then(() => this.#calls.delete(call));

    return call;
  }

  #startBatch(
    calls: readonly ToolCallRequest[],
    options: ExecuteManyOptions,
    onSettled: ((result: ToolCallResult) => void) | undefined,
  ): RunningBatch {
    checkBatch(calls, options);
    const planned = planBatch(calls);
    const concurrency = options.concurrency ?? this.#config.concurrency;
    const limit = pLimit({ concurrency, rejectOnClear: true });

    const controller = new AbortController();
    const abort = (reason: unknown) => {
      if (!controller.signal.aborted) {
        controller.abort(reason);
        limit.clearQueue();
      }
    };
    const onCallerAbort = () => abort(options.signal!.reason);
    options.signal?.addEventListener('abort', onCallerAbort);
    if (options.signal?.aborted) {
      abort(options.signal.reason);
    }
    const timer =
      options.totalTimeoutMs === undefined
        ? undefined
        : setTimeout(() => abort(batchTimeout(options.totalTimeoutMs!)), options.totalTimeoutMs);
    timer?.unref();

    let batch: RunningBatch;
    const results = new Promise<ToolCallResult[]>((resolve) => {
      const failFast = (id: string, error: ToolError) =>
        abort(
          new ToolError(
            'ABORTED',
            `The call was aborted because call "${id}" failed and the batch is fail-fast.`,
            {
              cause: error,
            },
          ),
        );
      const run = new BatchRun(planned, calls, options, controller.signal, limit, {
        onSettled: (result) => {
          onSettled?.(result);
          if (!result.ok && options.failFast === true) {
            failFast(result.id, result.error);
          }
        },
        onFailure: options.failFast === true ? failFast : undefined,
      });

      run.start(
        (state) => this.#track(this.#runCall(state)),
        (all) => {
          clearTimeout(timer);
          options.signal?.removeEventListener('abort', onCallerAbort);
          this.#batches.delete(batch);
          resolve(all);
        },
      );
    });
    batch = { results, abort };
    this.#batches.add(batch);

    return batch;
  }

  async #runCall(state: CallState): Promise<ToolCallResult> {
    const startedAt = Date.now();
    const queuedAt = performance.now();
    state.runStartMs = queuedAt;

    let value: unknown;
    let error: ToolError | undefined;
    try {
      value = await this.#prepareAndRun(state, queuedAt);
    } catch (raw) {
      error = this.#toCallError(raw, state);
    }

    return this.#finish(state, startedAt, value, error);
  }

  async #prepareAndRun(state: CallState, queuedAt: number): Promise<unknown> {
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
    const params = entry.validate(state.params, tool.key);
    const config = this.configStore.resolve(tool, state.agentId).values;
    const retry = resolveRetryPolicy(
      state.retry,
      tool.resolvedRetry ?? this.#config.retry,
      'Call option',
      'INVALID_OPTIONS',
    );
    const timeoutMs = state.timeoutMs ?? tool.timeoutMs ?? this.#config.defaultTimeoutMs;

    if (state.signal?.aborted) {
      throw state.signal.reason;
    }

    const run = async () => {
      this.#markStarted(state, tool, queuedAt);
      try {
        return await this.#runAttempts(state, entry, params, config, retry, timeoutMs);
      } catch (raw) {
        // Reported here, before p-limit hands the freed slot to a queued
        // call, so a fail-fast batch aborts before starting another call.
        const error = this.#toCallError(raw, state);
        state.onFailure?.(error);
        throw error;
      }
    };
    if (!state.limit) {
      return run();
    }

    this.#metrics?.queued.inc({ kind: tool.kind });
    try {
      return await state.limit(() => {
        this.#metrics?.queued.dec({ kind: tool.kind });
        return run();
      });
    } finally {
      if (!state.started) {
        this.#metrics?.queued.dec({ kind: tool.kind });
      }
    }
  }

  #markStarted(state: CallState, tool: RegisteredTool, queuedAt: number): void {
    state.started = true;
    state.runStartMs = performance.now();
    state.queueWaitMs = state.runStartMs - queuedAt;

    if (this.#metrics) {
      this.#metrics.queueWait.observe(
        { kind: tool.kind, tool: tool.keyWithoutVersion },
        state.queueWaitMs / 1000,
      );
      this.#metrics.inFlight.inc({ kind: tool.kind });
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

  async #runAttempts(
    state: CallState,
    entry: ToolRegistryEntry,
    params: ToolParams,
    config: Readonly<Record<string, unknown>>,
    retry: ResolvedRetryPolicy,
    timeoutMs: number,
  ): Promise<unknown> {
    const { tool, executor } = entry;
    if (requiresAttestation(tool.privacyTier)) {
      await this.#checkAttestation(state, tool);
    }

    for (let attempt = 1; ; attempt++) {
      if (this.#closeReason) {
        throw this.#closeReason;
      }
      state.attempts = attempt;
      try {
        return await runBounded(
          (signal) =>
            executor.run(
              {
                callId: state.callId,
                key: tool.key,
                config,
                signal,
                attempt,
                agentId: state.agentId,
                tool,
                params,
              },
              signal,
            ),
          {
            timeoutMs,
            parent: state.signal,
            onTimeout: () => attemptTimeout(tool.key, timeoutMs),
            active: this.#active,
            onLateRejection: (error) =>
              this.#logger.debug('A tool rejected after its call had already ended.', {
                callId: state.callId,
                key: tool.key,
                error,
              }),
          },
        );
      } catch (raw) {
        const error = this.#toCallError(raw, state);
        if (attempt >= retry.maxAttempts || state.signal?.aborted || !isRetryable(error, retry)) {
          throw error;
        }

        const delayMs = computeRetryDelayMs(retry, attempt);
        if (this.#metrics) {
          const labels = { kind: tool.kind, tool: tool.keyWithoutVersion };
          this.#metrics.retries.inc(labels);
          if (error.code === 'TIMEOUT') {
            this.#metrics.timeouts.inc(labels);
          }
        }
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
        await sleep(delayMs, state.signal, this.#active);
      }
    }
  }

  async #checkAttestation(state: CallState, tool: RegisteredTool): Promise<void> {
    const refuse = (reason: string, cause?: unknown) =>
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
      throw refuse('no attestation gate is configured; pass "attestationGate" to the coordinator');
    }

    const timeoutMs = this.#config.attestationTimeoutMs;
    let decision: unknown;
    try {
      decision = await runBounded(
        (signal) =>
          gate.check({
            tier: tool.privacyTier,
            key: tool.key,
            callId: state.callId,
            agentId: state.agentId,
            signal,
          }),
        {
          timeoutMs,
          parent: state.signal,
          onTimeout: () => refuse(`the attestation gate did not answer within ${timeoutMs} ms`),
          active: this.#active,
          onLateRejection: (error) =>
            this.#logger.debug('The attestation gate rejected after its check ended.', { error }),
        },
      );
    } catch (error) {
      if (
        state.signal?.aborted ||
        isToolError(error, 'ATTESTATION_REQUIRED') ||
        isToolError(error, 'ABORTED')
      ) {
        throw error;
      }
      throw refuse(`the attestation check failed: ${describeError(error)}`, error);
    }

    const answer = decision as { allowed?: unknown; reason?: unknown } | null | undefined;
    if (answer?.allowed !== true) {
      const reason = typeof answer?.reason === 'string' ? answer.reason : 'no reason given';
      throw refuse(`the attestation gate refused it: ${reason}`);
    }
  }

  #toCallError(raw: unknown, state: CallState): ToolError {
    const key = state.entry?.tool.key ?? state.key;
    // A call still queued when its batch aborted gets the batch's reason,
    // not the generic AbortError p-limit rejects it with.
    const cause = !state.started && state.signal?.aborted ? state.signal.reason : raw;

    if (isToolError(cause)) {
      return cause.callId === state.callId ? cause : cause.forCall(key, state.callId);
    }
    if (cause === state.signal?.reason && state.signal?.aborted) {
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

  #finish(
    state: CallState,
    startedAt: number,
    value: unknown,
    error: ToolError | undefined,
  ): ToolCallResult {
    const tool = state.entry?.tool;
    const kind = tool?.kind ?? UNRESOLVED_KIND;
    const key = tool?.key ?? state.key;
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
        this.#metrics.inFlight.dec({ kind });
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

    const base = { id: state.id, callId: state.callId, key, durationMs, attempts: state.attempts };
    return error ? { ok: false, ...base, error } : { ok: true, ...base, value };
  }
}

interface BatchHooks {
  /** Told about each result as it settles. */
  readonly onSettled: (result: ToolCallResult) => void;
  /** Told as soon as a started call fails, before its result settles. */
  readonly onFailure: ((id: string, error: ToolError) => void) | undefined;
}

/**
 * Schedules the calls of one batch: roots first, each dependent once its
 * inputs succeeded, and fails dependents of a failed call with `DEPENDENCY_FAILED`.
 */
class BatchRun {
  readonly #planned: readonly PlannedCall[];
  readonly #calls: readonly ToolCallRequest[];
  readonly #options: ExecuteManyOptions;
  readonly #signal: AbortSignal;
  readonly #limit: LimitFunction;
  readonly #onSettled: (result: ToolCallResult) => void;
  readonly #onFailure: ((id: string, error: ToolError) => void) | undefined;
  readonly #results: ToolCallResult[];
  readonly #waitingFor: number[];
  #pending: number;
  #runCall!: (state: CallState) => Promise<ToolCallResult>;
  #onDone!: (results: ToolCallResult[]) => void;

  constructor(
    planned: readonly PlannedCall[],
    calls: readonly ToolCallRequest[],
    options: ExecuteManyOptions,
    signal: AbortSignal,
    limit: LimitFunction,
    hooks: BatchHooks,
  ) {
    this.#planned = planned;
    this.#calls = calls;
    this.#options = options;
    this.#signal = signal;
    this.#limit = limit;
    this.#onSettled = hooks.onSettled;
    this.#onFailure = hooks.onFailure;
    this.#results = new Array(calls.length);
    this.#waitingFor = planned.map((call) => call.dependencies.length);
    this.#pending = calls.length;
  }

  start(
    runCall: (state: CallState) => Promise<ToolCallResult>,
    onDone: (results: ToolCallResult[]) => void,
  ): void {
    this.#runCall = runCall;
    this.#onDone = onDone;
    if (this.#pending === 0) {
      onDone(this.#results);
      return;
    }

    for (const call of this.#planned) {
      if (call.dependencies.length === 0) {
        this.#launch(call.index, undefined);
      }
    }
  }

  #launch(index: number, failure: ToolError | undefined): void {
    const planned = this.#planned[index]!;
    const request = this.#calls[index]!;
    const callId = randomUUID();
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

    const state: CallState = {
      callId,
      id: planned.id,
      key: request.key,
      params,
      agentId: request.agentId ?? this.#options.agentId,
      timeoutMs: request.timeoutMs ?? this.#options.timeoutMs,
      retry: request.retry ?? this.#options.retry,
      signal: this.#signal,
      limit: this.#limit,
      failure: buildFailure,
      onFailure: this.#onFailure && ((error: ToolError) => this.#onFailure?.(planned.id, error)),
      entry: undefined,
      started: false,
      attempts: 0,
      queueWaitMs: 0,
      runStartMs: 0,
    };

    void this.#runCall(state).then((result) => this.#settle(index, result));
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
    if (this.#results[index] !== undefined) {
      return;
    }
    this.#results[index] = result;
    this.#onSettled(result);

    for (const dependent of this.#planned[index]!.dependents) {
      if (this.#results[dependent] !== undefined || this.#waitingFor[dependent] === -1) {
        continue;
      }
      if (!result.ok) {
        this.#waitingFor[dependent] = -1;
        this.#launch(dependent, dependencyFailed(this.#planned[dependent]!, result));
      } else if (--this.#waitingFor[dependent]! === 0) {
        this.#launch(dependent, undefined);
      }
    }

    if (--this.#pending === 0) {
      this.#onDone(this.#results);
    }
  }
}

function dependencyFailed(planned: PlannedCall, input: ToolCallFailure): ToolError {
  return new ToolError(
    'DEPENDENCY_FAILED',
    `Call "${planned.id}" did not run because its input "${input.id}" failed with ${input.error.code}: ${input.error.message}`,
    { cause: input.error, key: input.key },
  );
}

function isRetryable(error: ToolError, retry: ResolvedRetryPolicy): boolean {
  switch (error.code) {
    case 'TIMEOUT':
      return retry.retryOnTimeout;
    case 'EXECUTION_FAILED':
      return error.retryable;
    default:
      // Aborts, invalid parameters, missing config, refused attestation and
      // the rest fail the same way every time.
      return false;
  }
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

function batchTimeout(totalTimeoutMs: number): ToolError {
  return new ToolError(
    'TIMEOUT',
    `The batch did not finish within totalTimeoutMs ${totalTimeoutMs}.`,
  );
}

function withTotalTimeout(
  parent: AbortSignal | undefined,
  totalTimeoutMs: number,
  what: string,
): { signal: AbortSignal; cleanup: () => void } {
  const controller = new AbortController();
  const onParentAbort = () => controller.abort(parent!.reason);
  parent?.addEventListener('abort', onParentAbort);
  if (parent?.aborted) {
    onParentAbort();
  }

  const timer = setTimeout(
    () =>
      controller.abort(
        new ToolError('TIMEOUT', `${what} did not finish within totalTimeoutMs ${totalTimeoutMs}.`),
      ),
    totalTimeoutMs,
  );
  timer.unref();

  return {
    signal: controller.signal,
    cleanup: () => {
      clearTimeout(timer);
      parent?.removeEventListener('abort', onParentAbort);
    },
  };
}

function checkConfigObject(config: ToolCoordinatorConfig): void {
  if (typeof config !== 'object' || config === null) {
    throw new ToolError(
      'INVALID_CONFIG',
      `Coordinator config must be an object, got ${String(config)}.`,
    );
  }

  for (const name of Object.keys(config)) {
    if (!CONFIG_KEYS.has(name)) {
      throw new ToolError(
        'INVALID_CONFIG',
        `Coordinator config has unknown option "${name}"; known options are ${[...CONFIG_KEYS].join(', ')}.`,
      );
    }
  }
}

function resolveConfig(config: ToolCoordinatorConfig): ResolvedConfig {
  const resolved = {
    defaultTimeoutMs: config.defaultTimeoutMs ?? DEFAULT_TIMEOUT_MS,
    attestationTimeoutMs: config.attestationTimeoutMs ?? 10_000,
    concurrency: config.concurrency ?? DEFAULT_CONCURRENCY,
    retry: resolveRetryPolicy(config.retry, NO_RETRY, 'Coordinator config', 'INVALID_CONFIG'),
  };

  checkTimeout('defaultTimeoutMs', resolved.defaultTimeoutMs, 'INVALID_CONFIG');
  checkTimeout('attestationTimeoutMs', resolved.attestationTimeoutMs, 'INVALID_CONFIG');
  checkConcurrency(resolved.concurrency, 'INVALID_CONFIG');
  checkPositiveInteger('executionLogBatchSize', config.executionLogBatchSize);
  checkTimeout('executionLogFlushIntervalMs', config.executionLogFlushIntervalMs, 'INVALID_CONFIG');
  checkPositiveInteger('executionLogMaxBufferedRecords', config.executionLogMaxBufferedRecords);
  if (config.executionLog !== undefined && typeof config.executionLog?.record !== 'function') {
    throw new ToolError(
      'INVALID_CONFIG',
      'Option "executionLog" must be an object with a "record" function.',
    );
  }
  if (config.attestationGate !== undefined && typeof config.attestationGate?.check !== 'function') {
    throw new ToolError(
      'INVALID_CONFIG',
      'Option "attestationGate" must be an object with a "check" function.',
    );
  }

  return Object.freeze(resolved);
}

function createLogWriter(
  config: ToolCoordinatorConfig,
  tasks: TaskSupervisor,
  logger: Logger,
): ExecutionLogWriter {
  return new ExecutionLogWriter({
    log: config.executionLog!,
    maxBatchSize: config.executionLogBatchSize ?? 100,
    flushIntervalMs: config.executionLogFlushIntervalMs ?? 100,
    maxBufferedRecords: config.executionLogMaxBufferedRecords ?? 10_000,
    tasks,
    logger,
    metrics: config.metrics,
  });
}

function checkExecuteOptions(options: ExecuteOptions): void {
  if (typeof options !== 'object' || options === null) {
    throw new ToolError(
      'INVALID_OPTIONS',
      `Call options must be an object, got ${String(options)}.`,
    );
  }
  checkTimeout('timeoutMs', options.timeoutMs, 'INVALID_OPTIONS');
  checkTimeout('totalTimeoutMs', options.totalTimeoutMs, 'INVALID_OPTIONS');
  checkSignal(options.signal);
}

function checkBatch(calls: readonly ToolCallRequest[], options: ExecuteManyOptions): void {
  if (!Array.isArray(calls)) {
    throw new ToolError(
      'INVALID_OPTIONS',
      `executeMany() takes an array of calls, got ${typeof calls}.`,
    );
  }
  if (typeof options !== 'object' || options === null) {
    throw new ToolError(
      'INVALID_OPTIONS',
      `Batch options must be an object, got ${String(options)}.`,
    );
  }

  checkTimeout('timeoutMs', options.timeoutMs, 'INVALID_OPTIONS');
  checkTimeout('totalTimeoutMs', options.totalTimeoutMs, 'INVALID_OPTIONS');
  checkSignal(options.signal);
  if (options.concurrency !== undefined) {
    checkConcurrency(options.concurrency, 'INVALID_OPTIONS');
  }
  if (options.failFast !== undefined && typeof options.failFast !== 'boolean') {
    throw new ToolError(
      'INVALID_OPTIONS',
      `Option "failFast" must be a boolean, got ${JSON.stringify(options.failFast)}.`,
    );
  }

  for (const [index, call] of calls.entries()) {
    if (typeof call !== 'object' || call === null) {
      throw new ToolError(
        'INVALID_OPTIONS',
        `Call ${index} must be an object with a "key", got ${String(call)}.`,
      );
    }
    checkTimeout(`calls[${index}].timeoutMs`, call.timeoutMs, 'INVALID_OPTIONS');
  }
}

function checkTimeout(
  name: string,
  value: unknown,
  code: 'INVALID_CONFIG' | 'INVALID_OPTIONS',
): void {
  if (value !== undefined && !isTimeout(value)) {
    throw new ToolError(
      code,
      `Option "${name}" must be a number of milliseconds from 1 to 2147483647, got ${String(value)}.`,
    );
  }
}

function checkConcurrency(value: unknown, code: 'INVALID_CONFIG' | 'INVALID_OPTIONS'): void {
  if (!(Number.isInteger(value) && (value as number) >= 1) && value !== Number.POSITIVE_INFINITY) {
    throw new ToolError(
      code,
      `Option "concurrency" must be an integer >= 1 (or Infinity), got ${String(value)}.`,
    );
  }
}

function checkPositiveInteger(name: string, value: unknown): void {
  if (value !== undefined && !(Number.isInteger(value) && (value as number) >= 1)) {
    throw new ToolError(
      'INVALID_CONFIG',
      `Option "${name}" must be an integer >= 1, got ${String(value)}.`,
    );
  }
}

function checkSignal(signal: unknown): void {
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new ToolError('INVALID_OPTIONS', 'Option "signal" must be an AbortSignal.');
  }
}
