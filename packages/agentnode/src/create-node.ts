import { randomUUID } from 'node:crypto';
import {
  type AttestationGate,
  type ConfigValues,
  type Logger,
  type RetryPolicy,
  ToolCoordinator,
  type ToolExecutor,
} from '@agentnode/core';
import {
  createMetricsRegistry,
  MetricsRegistry,
  type MetricsRegistryConfig,
} from '@agentnode/metrics';
import { AgentNode } from './agent-node';
import { NodeError } from './errors';
import { createFunctionExecutor } from './executors/function-executor';

/** What {@link createNode} takes. Every option is optional. */
export interface NodeConfig {
  /**
   * Identifies the node in logs and container labels.
   * @default `node-` and 8 random hex digits
   */
  nodeId?: string;
  /**
   * The registry every subsystem records into, or options for a new one.
   * A registry passed in is left open by `close()`.
   * @default a new registry with system metrics on
   */
  metrics?: MetricsRegistry | MetricsRegistryConfig;
  /** Where caught errors and lifecycle events are reported. @default errors to stderr */
  logger?: Logger;
  /** Calls of one batch running at once. @default 32 */
  concurrency?: number;
  /** Time limit of one attempt when neither the call nor the tool sets one. @default 60_000 */
  defaultTimeoutMs?: number;
  /** Retry policy of tools and calls that set none. @default no retry */
  retry?: RetryPolicy;
  /** Node-wide config values by router key without version, merged over tool defaults. */
  toolConfig?: Readonly<Record<string, ConfigValues>>;
  /** Executors for extra tool kinds; `function` is built in. */
  executors?: readonly ToolExecutor[];
  /** Decides whether tools of tier `cpu_tee` and above may run; without one they are refused. */
  attestationGate?: AttestationGate;
}

const CONFIG_KEYS = new Set<keyof NodeConfig>([
  'nodeId',
  'metrics',
  'logger',
  'concurrency',
  'defaultTimeoutMs',
  'retry',
  'toolConfig',
  'executors',
  'attestationGate',
]);

/**
 * Creates an agent node. Needs no configuration: `await createNode()` gives
 * a node that runs `function` tools with its own metrics registry.
 *
 * @example
 * import { createNode } from 'agentnode';
 * const node = await createNode();
 * node.tools.register({ key: 'local:::demo:::echo', kind: 'function', handler: (params) => params });
 * const result = await node.execute('local:::demo:::echo', { text: 'hi' });
 * await node.close();
 */
export async function createNode(config: NodeConfig = {}): Promise<AgentNode> {
  checkConfig(config);
  const nodeId = config.nodeId ?? `node-${randomUUID().slice(0, 8)}`;
  const ownsMetrics = !(config.metrics instanceof MetricsRegistry);
  const metrics =
    config.metrics instanceof MetricsRegistry
      ? config.metrics
      : createMetricsRegistry(config.metrics);

  try {
    const coordinator = new ToolCoordinator({
      metrics,
      executors: [createFunctionExecutor(), ...(config.executors ?? [])],
      ...(config.logger !== undefined && { logger: config.logger }),
      ...(config.concurrency !== undefined && { concurrency: config.concurrency }),
      ...(config.defaultTimeoutMs !== undefined && { defaultTimeoutMs: config.defaultTimeoutMs }),
      ...(config.retry !== undefined && { retry: config.retry }),
      ...(config.attestationGate !== undefined && { attestationGate: config.attestationGate }),
    });
    for (const [key, values] of Object.entries(config.toolConfig ?? {})) {
      coordinator.configStore.setNodeConfig(key, values);
    }

    return new AgentNode({ nodeId, coordinator, metrics, ownsMetrics });
  } catch (error) {
    if (ownsMetrics) {
      metrics.close();
    }
    throw error;
  }
}

function checkConfig(config: NodeConfig): void {
  if (typeof config !== 'object' || config === null || Array.isArray(config)) {
    throw new NodeError(
      'INVALID_CONFIG',
      `createNode() takes an options object, got ${String(config)}.`,
    );
  }
  for (const key of Object.keys(config)) {
    if (!CONFIG_KEYS.has(key as keyof NodeConfig)) {
      throw new NodeError(
        'INVALID_CONFIG',
        `Unknown createNode() option "${key}"; known options are ${[...CONFIG_KEYS].join(', ')}.`,
      );
    }
  }
  if (
    config.nodeId !== undefined &&
    (typeof config.nodeId !== 'string' || !/^[A-Za-z0-9_.-]{1,64}$/.test(config.nodeId))
  ) {
    throw new NodeError(
      'INVALID_CONFIG',
      `Option "nodeId" must be 1 to 64 letters, digits, "_", "." or "-", got ${JSON.stringify(config.nodeId)}.`,
    );
  }
  if (
    config.toolConfig !== undefined &&
    (typeof config.toolConfig !== 'object' || config.toolConfig === null)
  ) {
    throw new NodeError(
      'INVALID_CONFIG',
      `Option "toolConfig" must map router keys to config objects, got ${String(config.toolConfig)}.`,
    );
  }
  if (config.executors !== undefined && !Array.isArray(config.executors)) {
    throw new NodeError(
      'INVALID_CONFIG',
      'Option "executors" must be an array of ToolExecutor objects.',
    );
  }
}
