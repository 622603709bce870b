import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { AttestationCache, createNitroVerifier } from '@agentnode/attestation-cache';
import { ContainerPool, createContainerPool } from '@agentnode/container-pool';
import {
  type AttestationGate,
  type Logger,
  ToolCoordinator,
  type ToolExecutor,
} from '@agentnode/core';
import { createMetricsRegistry, MetricsRegistry } from '@agentnode/metrics';
import { createWasmRuntime, WasmRuntime } from '@agentnode/wasm-runtime';
import { AgentNode, type NodeResource } from './agent-node';
import { createAttestationGate } from './attestation-gate';
import { createContainerExecutor } from './executors/container-executor';
import { createFunctionExecutor } from './executors/function-executor';
import { createWasmExecutor } from './executors/wasm-executor';
import { checkNodeConfig, NODE_ID, type NodeConfig } from './node-config';
import { type NodeStore, openNodeStore } from './store';

/** Time the Docker engine has to respond at start before the node goes on without containers. */
const ENGINE_PROBE_TIMEOUT_MS = 5_000;

/** Warnings and errors to stderr; the default when no logger is given. */
const STDERR_LOGGER: Logger = Object.freeze({
  debug: () => {},
  info: () => {},
  warn: (message: string, context?: Record<string, unknown>) => {
    console.warn(...logLine(message, context));
  },
  error: (message: string, context?: Record<string, unknown>) => {
    console.error(...logLine(message, context));
  },
});

function logLine(message: string, context: Record<string, unknown> | undefined): unknown[] {
  return context === undefined ? [`[agentnode] ${message}`] : [`[agentnode] ${message}`, context];
}

/**
 * Creates an agent node. Needs no configuration: `await createNode()` gives
 * a node with a SQLite store and execution log under `./.agentnode/`, a WASM
 * runtime, an attestation cache, its own metrics registry and, when a Docker
 * engine responds, a warm container pool.
 *
 * @example
 * import { createNode } from 'agentnode';
 * const node = await createNode({ database: ':memory:' });
 * node.tools.register({ key: 'local:::demo:::echo', kind: 'function', handler: (params) => params });
 * const result = await node.execute('local:::demo:::echo', { text: 'hi' });
 * await node.close();
 */
export async function createNode(config: NodeConfig = {}): Promise<AgentNode> {
  checkNodeConfig(config);
  const logger = config.logger ?? STDERR_LOGGER;
  const dataDirectory = resolve(config.dataDirectory ?? '.agentnode');
  const nodeId = config.nodeId ?? persistentNodeId(dataDirectory, logger);
  const owned: NodeResource[] = [];

  try {
    const metrics = resolveMetrics(config, owned);
    const store = await openStore(config, dataDirectory, metrics, logger, owned);
    const wasm = resolveWasm(config, dataDirectory, metrics, logger, owned);
    const containers = await resolveContainers(config, nodeId, metrics, logger, owned);
    const attestations = resolveAttestationCache(config, metrics, logger, owned);
    const attestationGate = config.attestationGate ?? buildGate(config, attestations, metrics);

    const executors: ToolExecutor[] = [
      createFunctionExecutor(),
      createContainerExecutor(() => containers.pool, containers.unavailableReason),
      ...(wasm ? [createWasmExecutor(wasm)] : []),
      ...(config.executors ?? []),
    ];
    const coordinator = new ToolCoordinator({
      metrics,
      logger,
      executors,
      ...(store && config.executionLog !== false && { executionLog: store.executionLog }),
      ...(attestationGate !== undefined && { attestationGate }),
      ...(config.concurrency !== undefined && { concurrency: config.concurrency }),
      ...(config.defaultTimeoutMs !== undefined && { defaultTimeoutMs: config.defaultTimeoutMs }),
      ...(config.retry !== undefined && { retry: config.retry }),
    });
    for (const [key, values] of Object.entries(config.toolConfig ?? {})) {
      coordinator.configStore.setNodeConfig(key, values);
    }

    return new AgentNode({
      nodeId,
      coordinator,
      metrics,
      logger,
      store,
      wasm,
      containers: containers.pool,
      attestations,
      owned,
      drainTimeoutMs: config.drainTimeoutMs ?? 10_000,
      handleSignals: config.handleSignals ?? false,
    });
  } catch (error) {
    // Undo in reverse order of creation; a failure there must not hide the first error.
    for (const resource of owned.reverse()) {
      await resource.close().catch(() => {});
    }
    throw error;
  }
}

/**
 * Reads the node id stored in the data directory, or stores a new one. A node
 * restarted on the same directory keeps its id, so its container pool finds
 * and removes the containers a crashed earlier run left behind.
 */
function persistentNodeId(dataDirectory: string, logger: Logger): string {
  const path = join(dataDirectory, 'node-id');
  try {
    const stored = readFileSync(path, 'utf8').trim();
    if (NODE_ID.test(stored)) {
      return stored;
    }
  } catch {
    // No id stored yet; one is created below.
  }

  const nodeId = `node-${randomUUID().slice(0, 8)}`;
  try {
    mkdirSync(dataDirectory, { recursive: true });
    writeFileSync(path, `${nodeId}\n`);
  } catch (error) {
    logger.warn(
      'Could not store the node id; orphaned containers of this node will not be found after a crash',
      {
        path,
        error: (error as Error).message,
      },
    );
  }
  return nodeId;
}

function resolveMetrics(config: NodeConfig, owned: NodeResource[]): MetricsRegistry {
  if (config.metrics instanceof MetricsRegistry) {
    return config.metrics;
  }

  const metrics = createMetricsRegistry(config.metrics);
  owned.push({ name: 'metrics', close: async () => metrics.close() });
  return metrics;
}

async function openStore(
  config: NodeConfig,
  dataDirectory: string,
  metrics: MetricsRegistry,
  logger: Logger,
  owned: NodeResource[],
): Promise<NodeStore | undefined> {
  if (config.database === false) {
    return undefined;
  }

  const options = typeof config.database === 'object' ? config.database : {};
  const { path: configuredPath, ...storeConfig } = options;
  const path =
    (typeof config.database === 'string' ? config.database : configuredPath) ??
    join(dataDirectory, 'agentnode.db');
  if (path !== ':memory:') {
    mkdirSync(resolve(path, '..'), { recursive: true });
  }

  const store = await openNodeStore(path, { metrics, logger, ...storeConfig });
  owned.push({ name: 'store', close: () => store.close() });
  return store;
}

function resolveWasm(
  config: NodeConfig,
  dataDirectory: string,
  metrics: MetricsRegistry,
  logger: Logger,
  owned: NodeResource[],
): WasmRuntime | undefined {
  if (config.wasm === false) {
    return undefined;
  }
  if (config.wasm instanceof WasmRuntime) {
    return config.wasm;
  }

  const runtime = createWasmRuntime({
    cacheDirectory: join(dataDirectory, 'wasm-cache'),
    metrics,
    logger,
    ...config.wasm,
  });
  owned.push({ name: 'wasm', close: () => runtime.close() });
  return runtime;
}

interface ContainerSetup {
  pool: ContainerPool | undefined;
  /** Reason container tools cannot run, when `pool` is undefined. */
  unavailableReason: string;
}

async function resolveContainers(
  config: NodeConfig,
  nodeId: string,
  metrics: MetricsRegistry,
  logger: Logger,
  owned: NodeResource[],
): Promise<ContainerSetup> {
  if (config.containers === false) {
    return { pool: undefined, unavailableReason: 'the node was created with containers: false.' };
  }
  if (config.containers instanceof ContainerPool) {
    return { pool: config.containers, unavailableReason: '' };
  }

  const pool = createContainerPool({ nodeId, metrics, logger, ...config.containers });
  try {
    // start() removes orphans of an earlier run, so it doubles as the engine probe.
    await withTimeout(pool.start(), ENGINE_PROBE_TIMEOUT_MS, 'the Docker engine did not answer');
  } catch (error) {
    await pool.close().catch(() => {});
    const reason = `no Docker engine responded at node start (${(error as Error).message}).`;
    logger.warn(`Container tools are disabled: ${reason}`, { nodeId });
    return { pool: undefined, unavailableReason: reason };
  }

  owned.push({ name: 'containers', close: () => pool.close() });
  return { pool, unavailableReason: '' };
}

function resolveAttestationCache(
  config: NodeConfig,
  metrics: MetricsRegistry,
  logger: Logger,
  owned: NodeResource[],
): AttestationCache | undefined {
  if (config.attestation === false) {
    return undefined;
  }
  const cacheConfig = config.attestation?.cache;
  if (cacheConfig instanceof AttestationCache) {
    return cacheConfig;
  }

  const cache = new AttestationCache({
    verifiers: [createNitroVerifier()],
    metrics,
    logger,
    ...cacheConfig,
  });
  owned.push({ name: 'attestations', close: () => cache.close() });
  return cache;
}

/** Builds the gate from `attestation.evidence`; without evidence there is no gate, so gated tiers are refused. */
function buildGate(
  config: NodeConfig,
  cache: AttestationCache | undefined,
  metrics: MetricsRegistry,
): AttestationGate | undefined {
  const attestation = config.attestation === false ? undefined : config.attestation;
  if (cache === undefined || attestation?.evidence === undefined) {
    return undefined;
  }

  return createAttestationGate({
    cache,
    evidence: attestation.evidence,
    metrics,
    ...(attestation.requirements !== undefined && { requirements: attestation.requirements }),
  });
}

async function withTimeout<T>(promise: Promise<T>, timeoutMs: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${message} within ${timeoutMs} ms`)), timeoutMs);
    timer.unref();
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
