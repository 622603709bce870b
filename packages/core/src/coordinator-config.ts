import type { MetricsRegistry } from '@agentnode/metrics';
import type { ExecuteManyOptions, ExecuteOptions, ToolCallRequest } from './call-types';
import { checkMetricsRegistry } from './core-metrics';
import { describeValue, ToolError } from './errors';
import { checkLogger, type Logger } from './logger';
import type { AttestationGate, ExecutionLog, ToolExecutor } from './ports';
import {
  checkRetryFields,
  NO_RETRY,
  type ResolvedRetryPolicy,
  type RetryPolicy,
  resolveRetryPolicy,
} from './retry-policy';
import type { TaskSupervisor } from './task-supervisor';
import type { ToolConfigStore } from './tool-config-store';
import { isTimeout, type ToolRegistry } from './tool-registry';

/** Configuration of {@link ToolCoordinator}. Every field is optional. */
export interface ToolCoordinatorConfig {
  /** The tools to run. @default a new, empty `ToolRegistry` */
  registry?: ToolRegistry;
  /** Executors to add to the registry, one per kind. @default [] */
  executors?: readonly ToolExecutor[];
  /** Config layers of the tools. @default a new, empty `ToolConfigStore` */
  configStore?: ToolConfigStore;
  /** Registry for the tool metrics; without one nothing is recorded. */
  metrics?: MetricsRegistry;
  /** Logger for caught errors. @default errors to stderr, the rest dropped */
  logger?: Logger;
  /** Asked before a tool of tier `cpu_tee` or above runs; without one such tools fail with `ATTESTATION_REQUIRED`. */
  attestationGate?: AttestationGate;
  /** Store for finished calls, written in batches. */
  executionLog?: ExecutionLog;
  /** @default 100 */
  executionLogBatchSize?: number;
  /** @default 100 */
  executionLogFlushIntervalMs?: number;
  /** Records held while the log is slow; the oldest are dropped beyond it. @default 10_000 */
  executionLogMaxBufferedRecords?: number;
  /** Time limit of one attempt when neither the call nor the tool sets one. @default 60_000 */
  defaultTimeoutMs?: number;
  /** Time limit of one attestation check; running past it fails the call with `ATTESTATION_REQUIRED`. @default 10_000 */
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

/** The coordinator's settings with defaults applied. */
export interface ResolvedCoordinatorConfig {
  readonly defaultTimeoutMs: number;
  readonly attestationTimeoutMs: number;
  readonly concurrency: number;
  readonly retry: ResolvedRetryPolicy;
  readonly executionLogBatchSize: number;
  readonly executionLogFlushIntervalMs: number;
  readonly executionLogMaxBufferedRecords: number;
}

export function checkConfigObject(config: ToolCoordinatorConfig): void {
  if (typeof config !== 'object' || config === null) {
    throw new ToolError(
      'INVALID_CONFIG',
      `Coordinator config must be an object, got ${describeValue(config)}.`,
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

export function resolveConfig(config: ToolCoordinatorConfig): ResolvedCoordinatorConfig {
  const resolved = {
    defaultTimeoutMs: config.defaultTimeoutMs ?? DEFAULT_TIMEOUT_MS,
    attestationTimeoutMs: config.attestationTimeoutMs ?? 10_000,
    concurrency: config.concurrency ?? DEFAULT_CONCURRENCY,
    retry: resolveRetryPolicy(config.retry, NO_RETRY, 'Coordinator config', 'INVALID_CONFIG'),
    executionLogBatchSize: config.executionLogBatchSize ?? 100,
    executionLogFlushIntervalMs: config.executionLogFlushIntervalMs ?? 100,
    executionLogMaxBufferedRecords: config.executionLogMaxBufferedRecords ?? 10_000,
  };

  checkTimeout('defaultTimeoutMs', resolved.defaultTimeoutMs, 'INVALID_CONFIG');
  checkTimeout('attestationTimeoutMs', resolved.attestationTimeoutMs, 'INVALID_CONFIG');
  checkConcurrency(resolved.concurrency, 'INVALID_CONFIG');
  checkPositiveInteger('executionLogBatchSize', config.executionLogBatchSize);
  checkTimeout('executionLogFlushIntervalMs', config.executionLogFlushIntervalMs, 'INVALID_CONFIG');
  checkPositiveInteger('executionLogMaxBufferedRecords', config.executionLogMaxBufferedRecords);
  checkCollaborators(config);

  return Object.freeze(resolved);
}

/** Checks the objects the coordinator is given, so a wrong one fails here and not on first use. */
function checkCollaborators(config: ToolCoordinatorConfig): void {
  if (config.metrics !== undefined) {
    checkMetricsRegistry(config.metrics);
  }
  if (config.logger !== undefined) {
    checkLogger(config.logger);
  }
  if (config.executors !== undefined && !Array.isArray(config.executors)) {
    throw new ToolError(
      'INVALID_CONFIG',
      `Option "executors" must be an array of tool executors, got ${describeValue(config.executors)}.`,
    );
  }

  checkMethods('executionLog', config.executionLog, 'an ExecutionLog', ['record']);
  checkMethods('attestationGate', config.attestationGate, 'an AttestationGate', ['check']);
  checkMethods('registry', config.registry, 'a ToolRegistry', [
    'register',
    'registerExecutor',
    'resolve',
  ]);
  checkMethods('configStore', config.configStore, 'a ToolConfigStore', ['resolve']);
  checkMethods('tasks', config.tasks, 'a TaskSupervisor', ['spawn', 'drain']);
}

function checkMethods(
  name: string,
  value: unknown,
  expected: string,
  methods: readonly string[],
): void {
  if (value === undefined) {
    return;
  }

  const listed = methods.map((method) => `"${method}"`).join(', ');
  const rule = `Option "${name}" must be ${expected} (an object with ${listed} ${methods.length === 1 ? 'function' : 'functions'})`;
  if (typeof value !== 'object' || value === null) {
    throw new ToolError('INVALID_CONFIG', `${rule}, got ${describeValue(value)}.`);
  }

  const missing = methods.find(
    (method) => typeof (value as Record<string, unknown>)[method] !== 'function',
  );
  if (missing !== undefined) {
    throw new ToolError('INVALID_CONFIG', `${rule}, got an object without "${missing}".`);
  }
}

export function checkExecuteOptions(options: ExecuteOptions): void {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new ToolError(
      'INVALID_OPTIONS',
      `Call options must be an object, got ${describeValue(options)}.`,
    );
  }
  checkKnownKeys(options, EXECUTE_OPTION_KEYS, 'the call options');
  checkNonEmptyString('id', options.id);
  checkNonEmptyString('agentId', options.agentId);
  checkTimeout('timeoutMs', options.timeoutMs, 'INVALID_OPTIONS');
  checkTimeout('totalTimeoutMs', options.totalTimeoutMs, 'INVALID_OPTIONS');
  checkSignal(options.signal);
}

export function checkBatch(calls: readonly ToolCallRequest[], options: ExecuteManyOptions): void {
  if (!Array.isArray(calls)) {
    throw new ToolError(
      'INVALID_OPTIONS',
      `executeMany() takes an array of calls, got ${describeValue(calls)}.`,
    );
  }
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new ToolError(
      'INVALID_OPTIONS',
      `Batch options must be an object, got ${describeValue(options)}.`,
    );
  }

  checkKnownKeys(options, BATCH_OPTION_KEYS, 'the batch options');
  checkNonEmptyString('agentId', options.agentId);
  checkTimeout('timeoutMs', options.timeoutMs, 'INVALID_OPTIONS');
  checkTimeout('totalTimeoutMs', options.totalTimeoutMs, 'INVALID_OPTIONS');
  checkSignal(options.signal);
  if (options.concurrency !== undefined) {
    checkConcurrency(options.concurrency, 'INVALID_OPTIONS');
  }
  checkRetryFields(options.retry, 'Batch options');
  if (options.failFast !== undefined && typeof options.failFast !== 'boolean') {
    throw new ToolError(
      'INVALID_OPTIONS',
      `Option "failFast" must be a boolean, got ${describeValue(options.failFast)}.`,
    );
  }

  for (const [index, call] of calls.entries()) {
    if (typeof call !== 'object' || call === null) {
      throw new ToolError(
        'INVALID_OPTIONS',
        `Call ${index} must be an object with a "key", got ${describeValue(call)}.`,
      );
    }
    checkKnownKeys(call, CALL_KEYS, `call ${index}`);
    if (typeof call.key !== 'string') {
      throw new ToolError(
        'INVALID_OPTIONS',
        `Call ${index} needs a router key string in "key", got ${describeValue(call.key)}.`,
      );
    }
    checkNonEmptyString(`calls[${index}].agentId`, call.agentId);
    checkTimeout(`calls[${index}].timeoutMs`, call.timeoutMs, 'INVALID_OPTIONS');
  }
}

function checkNonEmptyString(name: string, value: unknown): void {
  if (value !== undefined && (typeof value !== 'string' || value === '')) {
    throw new ToolError(
      'INVALID_OPTIONS',
      `Option "${name}" must be a non-empty string, got ${describeValue(value)}.`,
    );
  }
}

const EXECUTE_OPTION_KEYS = new Set([
  'id',
  'agentId',
  'timeoutMs',
  'totalTimeoutMs',
  'signal',
  'retry',
]);
const BATCH_OPTION_KEYS = new Set([
  'agentId',
  'timeoutMs',
  'totalTimeoutMs',
  'signal',
  'concurrency',
  'failFast',
  'retry',
]);
const CALL_KEYS = new Set([
  'id',
  'key',
  'params',
  'inputs',
  'dependsOn',
  'agentId',
  'timeoutMs',
  'retry',
]);

/** Rejects a misspelt option instead of silently ignoring it. */
function checkKnownKeys(value: object, known: ReadonlySet<string>, owner: string): void {
  for (const name in value) {
    if (!known.has(name)) {
      throw new ToolError(
        'INVALID_OPTIONS',
        `Unknown field "${name}" in ${owner}; known fields are ${[...known].join(', ')}.`,
      );
    }
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
      `Option "${name}" must be a number of milliseconds from 1 to 2147483647, got ${describeValue(value)}.`,
    );
  }
}

function checkConcurrency(value: unknown, code: 'INVALID_CONFIG' | 'INVALID_OPTIONS'): void {
  if (!(Number.isInteger(value) && (value as number) >= 1) && value !== Number.POSITIVE_INFINITY) {
    throw new ToolError(
      code,
      `Option "concurrency" must be an integer >= 1 (or Infinity), got ${describeValue(value)}.`,
    );
  }
}

function checkPositiveInteger(name: string, value: unknown): void {
  if (value !== undefined && !(Number.isInteger(value) && (value as number) >= 1)) {
    throw new ToolError(
      'INVALID_CONFIG',
      `Option "${name}" must be an integer >= 1, got ${describeValue(value)}.`,
    );
  }
}

function checkSignal(signal: unknown): void {
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new ToolError('INVALID_OPTIONS', 'Option "signal" must be an AbortSignal.');
  }
}
