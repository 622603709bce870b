import type { PrivacyTier } from './privacy-tier';
import type { ResolvedRetryPolicy, RetryPolicy } from './retry-policy';

/** A JSON Schema document (draft-07 or 2019-09 keywords, as Ajv 8 reads them). */
export type JsonSchema = Readonly<Record<string, unknown>> | boolean;

/** Parameters of one call: a JSON object. */
export type ToolParams = Readonly<Record<string, unknown>>;

/** One setting a tool needs, such as an API endpoint or a model name. */
export interface ConfigField {
  /** The field's name, unique within the tool. */
  readonly name: string;
  /**
   * A call fails with `MISSING_CONFIG` when a required field has no value
   * after the config layers are merged.
   * @default false
   */
  readonly required?: boolean;
  /** Purpose of the field, for people configuring the tool. */
  readonly description?: string;
  /** The value used when no config layer sets one. */
  readonly default?: unknown;
}

/** Context a tool's code receives beside its parameters. */
export interface ToolCallContext {
  /** Unique id of this call, the same in events, results, errors and the execution log. */
  readonly callId: string;
  /** Canonical router key of the tool. */
  readonly key: string;
  /** Merged config values: tool defaults, then node config, then agent overrides. */
  readonly config: Readonly<Record<string, unknown>>;
  /**
   * Aborted when the attempt times out, the caller aborts, a fail-fast batch
   * fails or the coordinator closes. Long-running work should stop on it.
   *
   * Note: created on first read, because an AbortSignal costs microseconds to
   * create in Node 20; a tool that never reads it pays nothing.
   */
  readonly signal: AbortSignal;
  /** 1 for the first attempt, 2 for the first retry, and so on. */
  readonly attempt: number;
  /** The agent the call runs for, when the caller named one. */
  readonly agentId: string | undefined;
}

/**
 * The code of a `function` tool. The facade's function executor calls it with
 * the validated parameters; a thrown error or rejection fails the call.
 */
export type ToolHandler = (params: ToolParams, context: ToolCallContext) => unknown;

/**
 * Everything the registry stores about a tool. `kind` picks the
 * `ToolExecutor` that runs it; `handler` and `spec` carry what that executor
 * needs (a function, a WASM component path, a container image, ...).
 *
 * @example
 * import type { ToolDefinition } from '@agentnode/core';
 * const add: ToolDefinition = {
 *   key: 'local:::demo:::add:::1',
 *   kind: 'function',
 *   parameters: {
 *     type: 'object',
 *     properties: { a: { type: 'number' }, b: { type: 'number' } },
 *     required: ['a', 'b'],
 *   },
 *   handler: (params) => (params.a as number) + (params.b as number),
 * };
 */
export interface ToolDefinition<Spec = unknown> {
  /** Router key, `source:::author:::name[:::version]`; stored sanitized and lower-cased. */
  readonly key: string;
  /** Executor kind: `function`, `wasm`, `container` or any kind with a registered executor. */
  readonly kind: string;
  /** Purpose of the tool, for the agent choosing it. */
  readonly description?: string;
  /** JSON Schema the parameters must match; without it any object is accepted. */
  readonly parameters?: JsonSchema;
  /** Settings the tool needs, merged from config layers on each call. */
  readonly config?: readonly ConfigField[];
  /** @default 'open' */
  readonly privacyTier?: PrivacyTier;
  /** Time limit of one attempt; a call option overrides it. @default the coordinator's `defaultTimeoutMs` */
  readonly timeoutMs?: number;
  /** Retry policy; a call option overrides it. @default the coordinator's `retry` */
  readonly retry?: RetryPolicy;
  /** Code of a `function` tool. */
  readonly handler?: ToolHandler;
  /** Executor-specific settings, checked by the executor's `validateTool` at registration. */
  readonly spec?: Spec;
}

/**
 * A tool as the registry stores it: validated, frozen, with its key in
 * canonical form. A call holds on to the `RegisteredTool` it started with, so
 * replacing or removing a tool never changes a running call.
 */
export interface RegisteredTool<Spec = unknown> extends ToolDefinition<Spec> {
  /** Canonical router key. */
  readonly key: string;
  /** Canonical router key without version: the `tool` label of metrics, the key of config overrides. */
  readonly keyWithoutVersion: string;
  /** The key's version part, if any. */
  readonly version: string | undefined;
  readonly config: readonly ConfigField[];
  readonly privacyTier: PrivacyTier;
  /** The retry policy with defaults applied, when the definition sets one. */
  readonly resolvedRetry: ResolvedRetryPolicy | undefined;
  /** Default values of the config fields that have one. */
  readonly configDefaults: Readonly<Record<string, unknown>>;
}
