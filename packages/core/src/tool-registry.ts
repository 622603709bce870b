import { describeError, describeValue, ToolError } from './errors';
import { ParameterSchemaCompiler, type ParameterValidator } from './parameter-validator';
import type { ToolExecutor } from './ports';
import { isPrivacyTier, requiresAttestation } from './privacy-tier';
import { NO_RETRY, resolveRetryPolicy } from './retry-policy';
import { parseRouterKey, type RouterKey } from './router-key';
import { MAX_TIMER_MS } from './timer-limits';
import type { ConfigField, RegisteredTool, ToolDefinition } from './tool-definition';

/** Configuration of {@link ToolRegistry}. */
export interface ToolRegistryConfig {
  /** Executors to register at once, one per kind. @default [] */
  executors?: readonly ToolExecutor[];
}

/** Per-registration options of {@link ToolRegistry.register}. */
export interface RegisterToolOptions {
  /**
   * Replace a tool already registered under the same key instead of failing
   * with `TOOL_ALREADY_REGISTERED`. Calls already running keep the old definition.
   * @default false
   */
  replace?: boolean;
}

/** Maximum timeout accepted: the largest delay `setTimeout` supports. */
export const MAX_TIMEOUT_MS = MAX_TIMER_MS;

const DEFINITION_KEYS = new Set([
  'key',
  'kind',
  'description',
  'parameters',
  'config',
  'privacyTier',
  'timeoutMs',
  'retry',
  'handler',
  'spec',
]);
const CONFIG_FIELD_KEYS = new Set(['name', 'required', 'description', 'default']);

/** A registered tool with what running it needs. */
export interface ToolRegistryEntry {
  readonly tool: RegisteredTool;
  readonly executor: ToolExecutor;
  /** Checks a call's parameters against the tool's compiled schema. */
  readonly validate: ParameterValidator;
  /** Whether the tool's tier needs the attestation gate, computed once at registration. */
  readonly requiresAttestation: boolean;
}

type Entry = ToolRegistryEntry;

/**
 * The tools a node can run and the executors that run each kind.
 *
 * Tools are stored under their canonical router key. A key without version
 * resolves to the most recently registered version of that tool. Changing
 * the registry while calls run is safe: every call keeps the definition it
 * resolved when it started.
 *
 * @example
 * import { ToolRegistry } from '@agentnode/core';
 * const registry = new ToolRegistry({
 *   executors: [{ kind: 'function', run: (call) => call.tool.handler!(call.params, call) }],
 * });
 * registry.register({ key: 'local:::demo:::echo', kind: 'function', handler: (params) => params });
 */
export class ToolRegistry {
  readonly #schemas = new ParameterSchemaCompiler();
  readonly #executors = new Map<string, ToolExecutor>();
  readonly #entries = new Map<string, Entry>();
  /** Versions of each tool, by key without version, in registration order. */
  readonly #versions = new Map<string, Entry[]>();

  constructor(config: ToolRegistryConfig = {}) {
    if (typeof config !== 'object' || config === null) {
      throw new ToolError(
        'INVALID_CONFIG',
        `Tool registry config must be an object, got ${describeValue(config)}.`,
      );
    }

    if (config.executors !== undefined && !Array.isArray(config.executors)) {
      throw new ToolError(
        'INVALID_CONFIG',
        `Option "executors" must be an array of tool executors, got ${describeValue(config.executors)}.`,
      );
    }

    for (const executor of config.executors ?? []) {
      this.registerExecutor(executor);
    }
  }

  /**
   * Registers the executor for one tool kind.
   *
   * @throws {ToolError} `INVALID_CONFIG` when the executor has no `kind` or
   *   `run`, or its kind already has an executor.
   */
  registerExecutor(executor: ToolExecutor): void {
    if (typeof executor !== 'object' || executor === null || typeof executor.run !== 'function') {
      throw new ToolError(
        'INVALID_CONFIG',
        'A tool executor must be an object with a "run" function.',
      );
    }

    if (typeof executor.kind !== 'string' || executor.kind.trim() === '') {
      throw new ToolError(
        'INVALID_CONFIG',
        `A tool executor needs a non-empty "kind" string, got ${describeValue(executor.kind)}.`,
      );
    }

    if (this.#executors.has(executor.kind)) {
      throw new ToolError(
        'INVALID_CONFIG',
        `An executor for tool kind "${executor.kind}" is already registered.`,
      );
    }

    this.#executors.set(executor.kind, executor);
  }

  /** Returns the executor registered for `kind`, if any. */
  getExecutor(kind: string): ToolExecutor | undefined {
    return this.#executors.get(kind);
  }

  /** The kinds that have an executor. */
  get kinds(): readonly string[] {
    return [...this.#executors.keys()];
  }

  /**
   * Validates and registers a tool; returns it as stored.
   *
   * @throws {ToolError} `INVALID_ROUTER_KEY`, `INVALID_DEFINITION`,
   *   `UNSUPPORTED_TOOL_KIND` or `TOOL_ALREADY_REGISTERED`.
   */
  register<Spec>(
    definition: ToolDefinition<Spec>,
    options: RegisterToolOptions = {},
  ): RegisteredTool<Spec> {
    if (typeof definition !== 'object' || definition === null) {
      throw new ToolError(
        'INVALID_DEFINITION',
        `A tool definition must be an object, got ${describeValue(definition)}.`,
      );
    }

    const routerKey = parseRouterKey(definition.key);
    const previous = this.#entries.get(routerKey.key);
    if (previous && options.replace !== true) {
      throw new ToolError(
        'TOOL_ALREADY_REGISTERED',
        `Tool "${routerKey.key}" is already registered; pass { replace: true } to replace it.`,
        { key: routerKey.key },
      );
    }

    const executor = this.#executorFor(definition, routerKey.key);
    const tool = normalizeDefinition(definition as ToolDefinition, routerKey);
    try {
      executor.validateTool?.(tool);
    } catch (error) {
      throw new ToolError(
        'INVALID_DEFINITION',
        `Tool "${tool.key}" was rejected by the "${tool.kind}" executor: ${describeError(error)}`,
        { cause: error, key: tool.key },
      );
    }

    if (previous) {
      this.#remove(previous);
    }
    const entry: Entry = {
      tool,
      executor,
      validate: this.#schemas.compile(tool.parameters, tool.key),
      requiresAttestation: requiresAttestation(tool.privacyTier),
    };
    this.#entries.set(tool.key, entry);
    this.#versionsOf(tool.keyWithoutVersion).push(entry);

    return tool as RegisteredTool<Spec>;
  }

  /**
   * Removes the tool registered under `key` (exact version, or the latest
   * version when `key` has none). Calls already running are not affected.
   *
   * @returns whether a tool was removed.
   */
  unregister(key: string): boolean {
    const entry = this.#find(key);
    if (!entry) {
      return false;
    }

    this.#remove(entry);

    return true;
  }

  /** Returns the tool `key` resolves to, or `undefined`. Invalid keys resolve to nothing. */
  get(key: string): RegisteredTool | undefined {
    try {
      return this.#find(key)?.tool;
    } catch {
      return undefined;
    }
  }

  /** Tells whether `key` resolves to a tool. */
  has(key: string): boolean {
    return this.get(key) !== undefined;
  }

  /** Returns every registered tool, in registration order. */
  list(): RegisteredTool[] {
    return [...this.#entries.values()].map((entry) => entry.tool);
  }

  /** Number of registered tools, versions counted apart. */
  get size(): number {
    return this.#entries.size;
  }

  /**
   * Resolves `key` to the tool, its executor and its parameter validator.
   * Used by the coordinator on every call.
   *
   * @throws {ToolError} `INVALID_ROUTER_KEY` or `TOOL_NOT_FOUND`.
   * @internal
   */
  resolve(key: string): Entry {
    const entry = this.#find(key);
    if (!entry) {
      throw new ToolError('TOOL_NOT_FOUND', `No tool is registered under "${key}".`, { key });
    }

    return entry;
  }

  #find(key: string): Entry | undefined {
    // Canonical keys, the common case, hit the map without parsing.
    const exact = this.#entries.get(key);
    if (exact) {
      return exact;
    }

    const routerKey = parseRouterKey(key);
    if (routerKey.version !== undefined) {
      return this.#entries.get(routerKey.key);
    }

    return (
      this.#entries.get(routerKey.key) ?? this.#versions.get(routerKey.keyWithoutVersion)?.at(-1)
    );
  }

  #executorFor(definition: ToolDefinition<unknown>, key: string): ToolExecutor {
    if (typeof definition.kind !== 'string' || definition.kind === '') {
      throw new ToolError(
        'INVALID_DEFINITION',
        `Tool "${key}": "kind" must be a non-empty string, got ${describeValue(definition.kind)}.`,
        { key },
      );
    }

    const executor = this.#executors.get(definition.kind);
    if (!executor) {
      const known =
        this.kinds.length === 0 ? 'none' : this.kinds.map((kind) => `"${kind}"`).join(', ');
      throw new ToolError(
        'UNSUPPORTED_TOOL_KIND',
        `Tool "${key}" has kind "${definition.kind}", but no executor is registered for it (registered kinds: ${known}).`,
        { key },
      );
    }

    return executor;
  }

  #versionsOf(keyWithoutVersion: string): Entry[] {
    let versions = this.#versions.get(keyWithoutVersion);
    if (!versions) {
      versions = [];
      this.#versions.set(keyWithoutVersion, versions);
    }

    return versions;
  }

  #remove(entry: Entry): void {
    this.#entries.delete(entry.tool.key);
    this.#schemas.release(entry.tool.parameters);

    const versions = this.#versions.get(entry.tool.keyWithoutVersion) ?? [];
    const remaining = versions.filter((candidate) => candidate !== entry);
    if (remaining.length === 0) {
      this.#versions.delete(entry.tool.keyWithoutVersion);
    } else {
      this.#versions.set(entry.tool.keyWithoutVersion, remaining);
    }
  }
}

function normalizeDefinition(definition: ToolDefinition, routerKey: RouterKey): RegisteredTool {
  const key = routerKey.key;
  const fail = (rule: string) =>
    new ToolError('INVALID_DEFINITION', `Tool "${key}": ${rule}.`, { key });

  for (const name of Object.keys(definition)) {
    if (!DEFINITION_KEYS.has(name)) {
      throw fail(`unknown field "${name}"; known fields are ${[...DEFINITION_KEYS].join(', ')}`);
    }
  }

  const { description, parameters, privacyTier = 'open', timeoutMs, handler } = definition;
  if (description !== undefined && typeof description !== 'string') {
    throw fail(`"description" must be a string, got ${typeof description}`);
  }
  if (
    parameters !== undefined &&
    typeof parameters !== 'boolean' &&
    (typeof parameters !== 'object' || parameters === null)
  ) {
    throw fail(`"parameters" must be a JSON Schema object, got ${describeValue(parameters)}`);
  }
  if (!isPrivacyTier(privacyTier)) {
    throw fail(
      `"privacyTier" must be one of open, at_rest, cpu_tee, gpu_cc, gpu_tee_io; got ${describeValue(privacyTier)}`,
    );
  }
  if (timeoutMs !== undefined && !isTimeout(timeoutMs)) {
    throw fail(
      `"timeoutMs" must be a number from 1 to ${MAX_TIMEOUT_MS}, got ${describeValue(timeoutMs)}`,
    );
  }
  if (handler !== undefined && typeof handler !== 'function') {
    throw fail(`"handler" must be a function, got ${typeof handler}`);
  }

  const config = normalizeConfigFields(definition.config, fail);
  const configDefaults: Record<string, unknown> = {};
  for (const field of config) {
    if (field.default !== undefined) {
      configDefaults[field.name] = field.default;
    }
  }

  return Object.freeze({
    ...definition,
    key,
    keyWithoutVersion: routerKey.keyWithoutVersion,
    version: routerKey.version,
    kind: definition.kind,
    config,
    privacyTier,
    resolvedRetry: resolveRetryPolicy(
      definition.retry,
      NO_RETRY,
      `Tool "${key}"`,
      'INVALID_DEFINITION',
    ),
    configDefaults: Object.freeze(configDefaults),
  });
}

function normalizeConfigFields(
  fields: readonly ConfigField[] | undefined,
  fail: (rule: string) => ToolError,
): readonly ConfigField[] {
  if (fields === undefined) {
    return Object.freeze([]);
  }
  if (!Array.isArray(fields)) {
    throw fail(`"config" must be an array of config fields, got ${typeof fields}`);
  }

  const names = new Set<string>();
  const normalized = fields.map((field: ConfigField, index) => {
    if (typeof field !== 'object' || field === null) {
      throw fail(`config[${index}] must be an object`);
    }
    for (const name of Object.keys(field)) {
      if (!CONFIG_FIELD_KEYS.has(name)) {
        throw fail(
          `config[${index}] has unknown field "${name}"; known fields are ${[...CONFIG_FIELD_KEYS].join(', ')}`,
        );
      }
    }
    if (typeof field.name !== 'string' || field.name.trim() === '') {
      throw fail(
        `config[${index}].name must be a non-empty string, got ${describeValue(field.name)}`,
      );
    }
    if (names.has(field.name)) {
      throw fail(`config field "${field.name}" is declared twice`);
    }
    if (field.required !== undefined && typeof field.required !== 'boolean') {
      throw fail(`config field "${field.name}": "required" must be a boolean`);
    }
    if (field.description !== undefined && typeof field.description !== 'string') {
      throw fail(`config field "${field.name}": "description" must be a string`);
    }
    names.add(field.name);

    return Object.freeze({ ...field, required: field.required ?? false });
  });

  return Object.freeze(normalized);
}

/** Tells whether `value` is a valid `timeoutMs`. */
export function isTimeout(value: unknown): value is number {
  return (
    typeof value === 'number' && Number.isFinite(value) && value >= 1 && value <= MAX_TIMEOUT_MS
  );
}
