import type { AttestationCache } from '@agentnode/attestation-cache';
import type { ContainerPool } from '@agentnode/container-pool';
import type {
  CoordinatorEvents,
  ExecuteManyOptions,
  ExecuteOptions,
  Logger,
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
import type { WasmRuntime } from '@agentnode/wasm-runtime';
import { NodeError } from './errors';
import type { NodeStore } from './store';

/** Something the node created and so closes. */
export interface NodeResource {
  readonly name: string;
  close(): Promise<void>;
}

/** Parts an {@link AgentNode} is built from; `createNode()` assembles them. */
export interface AgentNodeParts {
  readonly nodeId: string;
  readonly coordinator: ToolCoordinator;
  readonly metrics: MetricsRegistry;
  readonly logger: Logger;
  readonly store: NodeStore | undefined;
  readonly wasm: WasmRuntime | undefined;
  readonly containers: ContainerPool | undefined;
  readonly attestations: AttestationCache | undefined;
  /** Resources the node created, in creation order; closed in reverse. */
  readonly owned: readonly NodeResource[];
  readonly drainTimeoutMs: number;
  readonly handleSignals: boolean;
}

const SIGNALS = ['SIGINT', 'SIGTERM'] as const;

/**
 * One agent node: a tool registry, the coordinator that runs calls, and the
 * subsystems behind its tool kinds. Create it with `createNode()`.
 */
export class AgentNode {
  /** Identifies the node in metrics, logs and container labels. */
  readonly nodeId: string;
  /** The node's metrics registry; every subsystem registers here. */
  readonly metrics: MetricsRegistry;
  /** The SQLite store (tools, executions), unless created with `database: false`. */
  readonly store: NodeStore | undefined;
  /** The WASM runtime behind `wasm` tools, unless created with `wasm: false`. */
  readonly wasm: WasmRuntime | undefined;
  /** The container pool behind `container` tools, when a Docker engine responded at start. */
  readonly containers: ContainerPool | undefined;
  /** The attestation cache the gate consults, unless created with `attestation: false`. */
  readonly attestations: AttestationCache | undefined;
  readonly #coordinator: ToolCoordinator;
  readonly #logger: Logger;
  readonly #owned: readonly NodeResource[];
  readonly #drainTimeoutMs: number;
  readonly #servers = new Set<MetricsServer>();
  readonly #running = new Set<Promise<unknown>>();
  readonly #signalHandlers = new Map<NodeJS.Signals, () => void>();
  #closing: Promise<void> | undefined;

  constructor(parts: AgentNodeParts) {
    this.nodeId = parts.nodeId;
    this.metrics = parts.metrics;
    this.store = parts.store;
    this.wasm = parts.wasm;
    this.containers = parts.containers;
    this.attestations = parts.attestations;
    this.#coordinator = parts.coordinator;
    this.#logger = parts.logger;
    this.#owned = parts.owned;
    this.#drainTimeoutMs = parts.drainTimeoutMs;
    if (parts.handleSignals) {
      this.#installSignalHandlers();
    }
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
    return this.#track(this.#coordinator.execute<T>(key, params, options));
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
    return this.#track(this.#coordinator.executeMany(calls, options));
  }

  /** Runs a batch and yields each result as it finishes. */
  async *stream(
    calls: readonly ToolCallRequest[],
    options?: ExecuteManyOptions,
  ): AsyncGenerator<ToolCallResult, void, undefined> {
    this.#assertOpen();
    let finished: () => void = () => {};
    this.#track(new Promise<void>((resolve) => (finished = resolve)));
    try {
      yield* this.#coordinator.stream(calls, options);
    } finally {
      finished();
    }
  }

  /** Subscribes to `callStarted`, `callRetrying` or `callFinished`; returns the unsubscribe function. */
  on<E extends keyof CoordinatorEvents>(
    event: E,
    listener: (payload: CoordinatorEvents[E]) => void,
  ): () => void {
    return this.#coordinator.on(event, listener);
  }

  /**
   * Serves the metrics of every subsystem at `GET /metrics`.
   * @default port 3690 on 127.0.0.1
   */
  async serveMetrics(config?: MetricsServerConfig): Promise<MetricsServer> {
    this.#assertOpen();
    const server = await serveMetrics(this.metrics, { logger: this.#logger, ...config });
    this.#servers.add(server);

    return server;
  }

  /**
   * Stops the node: new calls reject with `NODE_CLOSED`, running calls get
   * `drainTimeoutMs` to finish and are then aborted, buffered execution records
   * are written, the node's containers removed, the database, WASM runtime and
   * metrics servers closed. Idempotent.
   */
  close(): Promise<void> {
    this.#closing ??= this.#close();

    return this.#closing;
  }

  async #close(): Promise<void> {
    this.#removeSignalHandlers();
    await this.#drain();
    await this.#coordinator.close();
    await Promise.all([...this.#servers].map((server) => server.close()));
    this.#servers.clear();

    const failures: unknown[] = [];
    for (const resource of [...this.#owned].reverse()) {
      try {
        await resource.close();
      } catch (error) {
        failures.push(error);
        this.#logger.error(`Closing the node's ${resource.name} failed`, {
          nodeId: this.nodeId,
          error: error instanceof Error ? error.message : String(error),
        });
      }
    }
    if (failures.length > 0) {
      throw new AggregateError(
        failures,
        `Node "${this.nodeId}" closed with ${failures.length} failure(s).`,
      );
    }
  }

  /** Waits for running calls, at most `drainTimeoutMs`. */
  async #drain(): Promise<void> {
    if (this.#running.size === 0) {
      return;
    }

    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), this.#drainTimeoutMs);
    });
    const outcome = await Promise.race([Promise.allSettled([...this.#running]), deadline]);
    clearTimeout(timer);
    if (outcome === 'timeout') {
      this.#logger.warn('Calls still running at the drain deadline are being aborted', {
        nodeId: this.nodeId,
        running: this.#running.size,
        drainTimeoutMs: this.#drainTimeoutMs,
      });
    }
  }

  #track<T>(work: Promise<T>): Promise<T> {
    this.#running.add(work);
    const forget = () => this.#running.delete(work);
    work.then(forget, forget);

    return work;
  }

  #assertOpen(): void {
    if (this.#closing !== undefined) {
      throw new NodeError(
        'NODE_CLOSED',
        `Node "${this.nodeId}" is closed; create a new node to run more calls.`,
      );
    }
  }

  #installSignalHandlers(): void {
    for (const signal of SIGNALS) {
      const handler = () => {
        this.#logger.info(`Received ${signal}; closing the node`, { nodeId: this.nodeId });
        this.close()
          .catch((error: unknown) => {
            this.#logger.error('Closing the node on a signal failed', {
              nodeId: this.nodeId,
              error: error instanceof Error ? error.message : String(error),
            });
          })
          .finally(() => {
            // Re-raise, so the host's default (exit with 128 + signal) or its other handlers apply.
            process.kill(process.pid, signal);
          });
      };
      this.#signalHandlers.set(signal, handler);
      process.once(signal, handler);
    }
  }

  #removeSignalHandlers(): void {
    for (const [signal, handler] of this.#signalHandlers) {
      process.off(signal, handler);
    }
    this.#signalHandlers.clear();
  }
}
