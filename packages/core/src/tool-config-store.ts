import { describeValue, ToolError } from './errors';
import { routerKeyWithoutVersion } from './router-key';
import type { ConfigField, RegisteredTool } from './tool-definition';

/** Config values of one tool in one layer, by field name. */
export type ConfigValues = Readonly<Record<string, unknown>>;

/** Configuration of {@link ToolConfigStore}. */
export interface ToolConfigStoreConfig {
  /** Node-wide values per tool, keyed by router key (its version is ignored). @default {} */
  node?: Readonly<Record<string, ConfigValues>>;
  /** Per-agent values: agent id, then router key, then field name. @default {} */
  agents?: Readonly<Record<string, Readonly<Record<string, ConfigValues>>>>;
}

/** A tool's config after merging its layers. */
export interface ResolvedToolConfig {
  /** Merged values; frozen, shared between calls until a layer changes. */
  readonly values: ConfigValues;
  /** The tool's fields plus one required field for each key a layer adds. */
  readonly fields: readonly ConfigField[];
}

interface CachedView {
  readonly nodeLayer: ConfigValues | undefined;
  readonly agentLayer: ConfigValues | undefined;
  readonly result: ResolvedToolConfig | ToolError;
}

const NO_AGENT = '';

/**
 * Tool config in three layers: the tool's field defaults, then node-wide
 * values, then per-agent overrides. Layers are keyed by router key without
 * version, so an override holds for every version of a tool.
 *
 * In each layer, a key naming a declared field replaces its value and any
 * other key adds a new required field. Merging is copy-on-write: layers are
 * frozen and replaced, never edited, and the merged view of a (tool, agent)
 * pair is cached until one of its layers is replaced. A tool with no
 * overrides uses its defaults object as is.
 *
 * @example
 * import { ToolConfigStore } from '@agentnode/core';
 * const store = new ToolConfigStore({ node: { 'local:::acme:::search': { endpoint: 'http://127.0.0.1:8080' } } });
 * store.setAgentConfig('agent-7', 'local:::acme:::search', { maxResults: 5 });
 */
export class ToolConfigStore {
  readonly #nodeLayers = new Map<string, ConfigValues>();
  readonly #agentLayers = new Map<string, Map<string, ConfigValues>>();
  readonly #views = new WeakMap<RegisteredTool, Map<string, CachedView>>();

  constructor(config: ToolConfigStoreConfig = {}) {
    if (typeof config !== 'object' || config === null) {
      throw new ToolError(
        'INVALID_CONFIG',
        `Tool config store config must be an object, got ${describeValue(config)}.`,
      );
    }

    for (const [key, values] of Object.entries(config.node ?? {})) {
      this.setNodeConfig(key, values);
    }
    for (const [agentId, tools] of Object.entries(config.agents ?? {})) {
      for (const [key, values] of Object.entries(tools)) {
        this.setAgentConfig(agentId, key, values);
      }
    }
  }

  /**
   * Replaces the node-wide values of one tool; `undefined` removes them.
   *
   * @throws {ToolError} `INVALID_ROUTER_KEY` or `INVALID_CONFIG`.
   */
  setNodeConfig(key: string, values: ConfigValues | undefined): void {
    setLayer(this.#nodeLayers, routerKeyWithoutVersion(key), values, `node config of "${key}"`);
  }

  /** Merges `patch` into the node-wide values of one tool, as a new layer. */
  updateNodeConfig(key: string, patch: ConfigValues): void {
    const toolKey = routerKeyWithoutVersion(key);
    checkValues(patch, `node config patch of "${key}"`);
    this.setNodeConfig(toolKey, { ...this.#nodeLayers.get(toolKey), ...patch });
  }

  /** Returns the node-wide values of one tool, if any. */
  getNodeConfig(key: string): ConfigValues | undefined {
    return this.#nodeLayers.get(routerKeyWithoutVersion(key));
  }

  /**
   * Replaces one agent's values for one tool; `undefined` removes them.
   *
   * @throws {ToolError} `INVALID_ROUTER_KEY` or `INVALID_CONFIG`.
   */
  setAgentConfig(agentId: string, key: string, values: ConfigValues | undefined): void {
    checkAgentId(agentId);
    const toolKey = routerKeyWithoutVersion(key);

    let layers = this.#agentLayers.get(agentId);
    if (!layers) {
      if (values === undefined) {
        return;
      }
      layers = new Map();
      this.#agentLayers.set(agentId, layers);
    }

    setLayer(layers, toolKey, values, `config of agent "${agentId}" for "${key}"`);
    if (layers.size === 0) {
      this.#agentLayers.delete(agentId);
    }
  }

  /** Merges `patch` into one agent's values for one tool, as a new layer. */
  updateAgentConfig(agentId: string, key: string, patch: ConfigValues): void {
    checkAgentId(agentId);
    const toolKey = routerKeyWithoutVersion(key);
    checkValues(patch, `config patch of agent "${agentId}" for "${key}"`);
    this.setAgentConfig(agentId, toolKey, {
      ...this.#agentLayers.get(agentId)?.get(toolKey),
      ...patch,
    });
  }

  /** Returns one agent's values for one tool, if any. */
  getAgentConfig(agentId: string, key: string): ConfigValues | undefined {
    return this.#agentLayers.get(agentId)?.get(routerKeyWithoutVersion(key));
  }

  /** Removes every override of one agent. */
  clearAgent(agentId: string): void {
    this.#agentLayers.delete(agentId);
  }

  /**
   * Returns the merged config of `tool` for `agentId`, from cache when no
   * layer changed since the last call.
   *
   * @throws {ToolError} `MISSING_CONFIG` naming the first required field without a value.
   */
  resolve(tool: RegisteredTool, agentId?: string): ResolvedToolConfig {
    const nodeLayer = this.#nodeLayers.get(tool.keyWithoutVersion);
    const agentLayer =
      agentId === undefined
        ? undefined
        : this.#agentLayers.get(agentId)?.get(tool.keyWithoutVersion);
    // Agents without an override of this tool share the node-level view.
    const viewKey = agentLayer === undefined ? NO_AGENT : (agentId as string);

    let views = this.#views.get(tool);
    if (!views) {
      views = new Map();
      this.#views.set(tool, views);
    }

    if (agentId !== undefined && agentLayer === undefined && views.size > 1) {
      // The agent's override was removed; drop its stale view so views of
      // agents that come and go do not pile up.
      views.delete(agentId);
    }

    let view = views.get(viewKey);
    if (!view || view.nodeLayer !== nodeLayer || view.agentLayer !== agentLayer) {
      view = { nodeLayer, agentLayer, result: merge(tool, nodeLayer, agentLayer) };
      views.set(viewKey, view);
    }

    if (view.result instanceof ToolError) {
      throw view.result;
    }

    return view.result;
  }
}

function merge(
  tool: RegisteredTool,
  nodeLayer: ConfigValues | undefined,
  agentLayer: ConfigValues | undefined,
): ResolvedToolConfig | ToolError {
  let values = tool.configDefaults;
  let fields = tool.config;

  for (const layer of [nodeLayer, agentLayer]) {
    if (layer === undefined) {
      continue;
    }

    values = { ...values, ...layer };
    const added = Object.keys(layer).filter((name) => !fields.some((field) => field.name === name));
    if (added.length > 0) {
      fields = [...fields, ...added.map((name) => Object.freeze({ name, required: true }))];
    }
  }

  const missing = fields.find(
    (field) => field.required === true && values[field.name] === undefined,
  );
  if (missing) {
    const hint = missing.description ? ` (${missing.description})` : '';
    return new ToolError(
      'MISSING_CONFIG',
      `Tool "${tool.key}" needs config field "${missing.name}"${hint}, but no layer sets it; set it with setNodeConfig() or setAgentConfig().`,
      { key: tool.key, field: missing.name },
    );
  }

  return Object.freeze({ values: Object.freeze(values), fields: Object.freeze(fields) });
}

function setLayer(
  layers: Map<string, ConfigValues>,
  toolKey: string,
  values: ConfigValues | undefined,
  owner: string,
): void {
  if (values === undefined) {
    layers.delete(toolKey);
    return;
  }

  checkValues(values, owner);
  // The one copy a layer ever gets: callers may keep editing their object.
  layers.set(toolKey, Object.freeze({ ...values }));
}

function checkValues(values: unknown, owner: string): void {
  if (typeof values !== 'object' || values === null || Array.isArray(values)) {
    throw new ToolError(
      'INVALID_CONFIG',
      `The ${owner} must be an object of field values, got ${describeValue(values)}.`,
    );
  }
}

function checkAgentId(agentId: unknown): void {
  if (typeof agentId !== 'string' || agentId === '') {
    throw new ToolError(
      'INVALID_CONFIG',
      `An agent id must be a non-empty string, got ${describeValue(agentId)}.`,
    );
  }
}
