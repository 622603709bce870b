import type {
  CoordinatorEvents,
  ExecuteManyOptions,
  ExecuteOptions,
  ToolCallRequest,
  ToolCallResult,
  ToolConfigStore,
  ToolCoordinator,
  ToolParams,
  ToolRegistry,
} from '@agentnode/core';
import {
  type MetricsRegistry,
  type MetricsServer,
  type MetricsServerConfig,
  serveMetrics,
} from '@agentnode/metrics';
import { NodeError } from './errors';

/** What an {@link AgentNode} is built from; `createNode()` assembles it. */
export interface AgentNodeParts {
  readonly nodeId: string;
  readonly coordinator: ToolCoordinator;
  readonly metrics: MetricsRegistry;
  /** Whether the node created the registry and so closes it. */
  readonly ownsMetrics: boolean;
}

/**
 * One agent node: a tool registry, the coordinator that runs calls, and the
 * node's metrics. Create it with `createNode()`.
 */
export class AgentNode {
  /** Identifies the node in metrics, logs and container labels. */
  readonly nodeId: string;
  /** The node's metrics registry; every subsystem registers here. */
  readonly metrics: MetricsRegistry;
  readonly #coordinator: ToolCoordinator;
  readonly #ownsMetrics: boolean;
  readonly #servers = new Set<MetricsServer>();
  #closing: Promise<void> | undefined;

  constructor(parts: AgentNodeParts) {
    this.nodeId = parts.nodeId;
    this.metrics = parts.metrics;
    this.#coordinator = parts.coordinator;
    this.#ownsMetrics = parts.ownsMetrics;
  }

  /** The tool registry: `register`, `unregister`, `get`, `list`. Safe to change while calls run. */
  get tools(): ToolRegistry {
    return this.#coordinator.registry;
  }

  /** Node-wide and per-agent config layers of the tools. */
  get toolConfig(): ToolConfigStore {
    return this.#coordinator.configStore;
  }

  /** Whether `close()` has been called. */
  get closed(): boolean {
    return this.#closing !== undefined;
  }

  /**
   * Runs one tool call. Resolves with `{ ok: true, value, durationMs, attempts }`
   * or `{ ok: false, error }`; it rejects only when the node is closed.
   */
  async execute<T = unknown>(
    key: string,
    params?: ToolParams,
    options?: ExecuteOptions,
  ): Promise<ToolCallResult<T>> {
    this.#assertOpen();
    return this.#coordinator.execute<T>(key, params, options);
  }

  /**
   * Runs a batch: independent calls in parallel, dependent calls once their
   * inputs succeeded. Resolves with one result per call, in input order.
   */
  async executeMany(
    calls: readonly ToolCallRequest[],
    options?: ExecuteManyOptions,
  ): Promise<ToolCallResult[]> {
    this.#assertOpen();
    return this.#coordinator.executeMany(calls, options);
  }

  /** Runs a batch and yields each result as it finishes. */
  stream(
    calls: readonly ToolCallRequest[],
    options?: ExecuteManyOptions,
  ): AsyncGenerator<ToolCallResult, void, undefined> {
    this.#assertOpen();
    return this.#coordinator.stream(calls, options);
  }

  /** Subscribes to `callStarted`, `callRetrying` or `callFinished`; returns the unsubscribe function. */
  on<E extends keyof CoordinatorEvents>(
    event: E,
    listener: (payload: CoordinatorEvents[E]) => void,
  ): () => void {
    return this.#coordinator.on(event, listener);
  }

  /**
   * Serves the node's metrics at `GET /metrics`.
   * @default port 3690 on 127.0.0.1
   */
  async serveMetrics(config?: MetricsServerConfig): Promise<MetricsServer> {
    this.#assertOpen();
    const server = await serveMetrics(this.metrics, config);
    this.#servers.add(server);

    return server;
  }

  /**
   * Stops the node: aborts calls still running, writes buffered records, stops
   * the metrics servers and the system collector. Idempotent; after it,
   * `execute` and `executeMany` reject with `NODE_CLOSED`.
   */
  close(): Promise<void> {
    this.#closing ??= this.#close();

    return this.#closing;
  }

  async #close(): Promise<void> {
    await this.#coordinator.close();
    await Promise.all([...this.#servers].map((server) => server.close()));
    this.#servers.clear();
    if (this.#ownsMetrics) {
      this.metrics.close();
    }
  }

  #assertOpen(): void {
    if (this.#closing !== undefined) {
      throw new NodeError(
        'NODE_CLOSED',
        `Node "${this.nodeId}" is closed; create a new node to run more calls.`,
      );
    }
  }
}
