import type { AttestationCache, AttestationCacheConfig } from '@agentnode/attestation-cache';
import type { ContainerPool, ContainerPoolConfig } from '@agentnode/container-pool';
import type {
  AttestationGate,
  ConfigValues,
  Logger,
  RetryPolicy,
  ToolExecutor,
} from '@agentnode/core';
import type { MetricsRegistry, MetricsRegistryConfig } from '@agentnode/metrics';
import type { WasmRuntime, WasmRuntimeConfig } from '@agentnode/wasm-runtime';
import type { EvidenceSource, TierRequirements } from './attestation-gate';
import { NodeError } from './errors';
import type { NodeStoreConfig } from './store';

/** Attestation settings of a node. */
export interface NodeAttestationConfig {
  /** A cache to share, or options for a new one. @default a cache with the AWS Nitro verifier */
  cache?: AttestationCache | Omit<AttestationCacheConfig, 'metrics'>;
  /**
   * Supplies the evidence for a gated call. Without it, tools of tier
   * `cpu_tee` and above are refused (fail closed).
   */
  evidence?: EvidenceSource;
  /** TEE types each privacy tier needs. @default DEFAULT_TIER_REQUIREMENTS */
  requirements?: TierRequirements;
}

/** Options of {@link createNode}; every one is optional. */
export interface NodeConfig {
  /**
   * Identifies the node in logs and container labels.
   * @default an id stored in `<dataDirectory>/node-id` (`node-` and 8 random hex
   * digits, created on first use), so a restarted node removes the containers
   * a crashed run left behind
   */
  nodeId?: string;
  /**
   * Directory of the node's files: the SQLite database and the WASM cache.
   * @default '.agentnode' under the working directory
   */
  dataDirectory?: string;
  /**
   * The node's SQLite store: a file path, `':memory:'`, options (with `path`), or
   * `false` for no store and no execution log.
   * @default `<dataDirectory>/agentnode.db`
   */
  database?: string | (NodeStoreConfig & { path?: string }) | false;
  /** Record every finished call in the store's `executions` table. @default true when there is a store */
  executionLog?: boolean;
  /**
   * The WASM runtime, options for a new one, or `false` for none (then `wasm` tools
   * cannot be registered).
   * @default a runtime caching under `<dataDirectory>/wasm-cache`
   */
  wasm?: WasmRuntime | Omit<WasmRuntimeConfig, 'metrics'> | false;
  /**
   * The container pool, options for a new one, or `false` for none. By default a
   * pool is created only when a Docker engine responds at start; otherwise the node
   * logs that once and `container` tools fail with a clear error.
   * @default a pool on the local engine, when it responds
   */
  containers?: ContainerPool | Omit<ContainerPoolConfig, 'metrics' | 'nodeId'> | false;
  /** Attestation cache and gate, or `false` for none (tiers `cpu_tee` and above are then refused). */
  attestation?: NodeAttestationConfig | false;
  /**
   * The registry every subsystem records into, or options for a new one.
   * A registry passed in is left open by `close()`.
   * @default a new registry with system metrics on
   */
  metrics?: MetricsRegistry | MetricsRegistryConfig;
  /** Receiver of caught errors and lifecycle events. @default warnings and errors to stderr */
  logger?: Logger;
  /** Calls of one batch running at once. @default 32 */
  concurrency?: number;
  /** Time limit of one attempt when neither the call nor the tool sets one. @default 60_000 */
  defaultTimeoutMs?: number;
  /** Retry policy of tools and calls that set none. @default no retry */
  retry?: RetryPolicy;
  /** Node-wide config values by router key without version, merged over tool defaults. */
  toolConfig?: Readonly<Record<string, ConfigValues>>;
  /** Executors for extra tool kinds; `function`, `wasm` and `container` are built in. */
  executors?: readonly ToolExecutor[];
  /** A gate of your own; replaces the one built from `attestation`. */
  attestationGate?: AttestationGate;
  /** Time `close()` lets running calls finish before aborting them. @default 10_000 */
  drainTimeoutMs?: number;
  /** Close the node on SIGINT and SIGTERM, then re-raise the signal. @default false */
  handleSignals?: boolean;
}

const CONFIG_KEYS: ReadonlySet<string> = new Set<keyof NodeConfig>([
  'nodeId',
  'dataDirectory',
  'database',
  'executionLog',
  'wasm',
  'containers',
  'attestation',
  'metrics',
  'logger',
  'concurrency',
  'defaultTimeoutMs',
  'retry',
  'toolConfig',
  'executors',
  'attestationGate',
  'drainTimeoutMs',
  'handleSignals',
]);
const ATTESTATION_KEYS: ReadonlySet<string> = new Set(['cache', 'evidence', 'requirements']);
/** Pattern a node id must match. */
export const NODE_ID = /^[A-Za-z0-9_.-]{1,64}$/;
const LOGGER_METHODS = ['debug', 'info', 'warn', 'error'] as const;

/**
 * Checks the options `createNode()` handles itself; the subsystems check
 * their own options when they are built.
 */
export function checkNodeConfig(config: NodeConfig): void {
  if (typeof config !== 'object' || config === null || Array.isArray(config)) {
    invalid(`createNode() takes an options object, got ${describe(config)}.`);
  }
  for (const key of Object.keys(config)) {
    if (!CONFIG_KEYS.has(key)) {
      invalid(
        `Unknown createNode() option "${key}"; known options are ${[...CONFIG_KEYS].join(', ')}.`,
      );
    }
  }

  const { nodeId, dataDirectory, database, executionLog, toolConfig, executors } = config;
  if (nodeId !== undefined && (typeof nodeId !== 'string' || !NODE_ID.test(nodeId))) {
    invalid(
      `Option "nodeId" must be 1 to 64 letters, digits, "_", "." or "-", got ${describe(nodeId)}.`,
    );
  }
  if (dataDirectory !== undefined && (typeof dataDirectory !== 'string' || dataDirectory === '')) {
    invalid(`Option "dataDirectory" must be a non-empty path, got ${describe(dataDirectory)}.`);
  }
  if (
    database !== undefined &&
    database !== false &&
    !(typeof database === 'string' && database !== '') &&
    !(typeof database === 'object' && database !== null && !Array.isArray(database))
  ) {
    invalid(
      `Option "database" must be a path, ':memory:', an options object or false, got ${describe(database)}.`,
    );
  }
  if (executionLog !== undefined && typeof executionLog !== 'boolean') {
    invalid(`Option "executionLog" must be a boolean, got ${describe(executionLog)}.`);
  }
  if (executionLog === true && database === false) {
    invalid(
      'Option "executionLog" is true but "database" is false; the execution log needs the store.',
    );
  }
  if (toolConfig !== undefined && (typeof toolConfig !== 'object' || toolConfig === null)) {
    invalid(
      `Option "toolConfig" must map router keys to config objects, got ${describe(toolConfig)}.`,
    );
  }
  if (executors !== undefined && !Array.isArray(executors)) {
    invalid(
      `Option "executors" must be an array of ToolExecutor objects, got ${describe(executors)}.`,
    );
  }
  const { logger } = config;
  if (
    logger !== undefined &&
    (typeof logger !== 'object' ||
      logger === null ||
      LOGGER_METHODS.some((method) => typeof logger[method] !== 'function'))
  ) {
    invalid(
      `Option "logger" must have ${LOGGER_METHODS.join(', ')} methods (console works), got ${describe(logger)}.`,
    );
  }
  checkOptionalObject('wasm', config.wasm);
  checkOptionalObject('containers', config.containers);
  checkAttestation(config.attestation);
  checkDrainTimeout(config.drainTimeoutMs);
  if (config.handleSignals !== undefined && typeof config.handleSignals !== 'boolean') {
    invalid(`Option "handleSignals" must be a boolean, got ${describe(config.handleSignals)}.`);
  }
}

function checkOptionalObject(name: string, value: unknown): void {
  if (
    value !== undefined &&
    value !== false &&
    (typeof value !== 'object' || value === null || Array.isArray(value))
  ) {
    invalid(
      `Option "${name}" must be an options object, an instance or false, got ${describe(value)}.`,
    );
  }
}

function checkAttestation(attestation: NodeConfig['attestation']): void {
  checkOptionalObject('attestation', attestation);
  if (attestation === undefined || attestation === false) {
    return;
  }
  for (const key of Object.keys(attestation)) {
    if (!ATTESTATION_KEYS.has(key)) {
      invalid(
        `Unknown option "attestation.${key}"; known options are ${[...ATTESTATION_KEYS].join(', ')}.`,
      );
    }
  }
  if (attestation.evidence !== undefined && typeof attestation.evidence !== 'function') {
    invalid(
      `Option "attestation.evidence" must be a function, got ${describe(attestation.evidence)}.`,
    );
  }
}

function checkDrainTimeout(value: unknown): void {
  if (
    value !== undefined &&
    !(typeof value === 'number' && Number.isInteger(value) && value >= 0)
  ) {
    invalid(`Option "drainTimeoutMs" must be an integer >= 0, got ${describe(value)}.`);
  }
}

function invalid(message: string): never {
  throw new NodeError('INVALID_CONFIG', message);
}

function describe(value: unknown): string {
  if (typeof value === 'string') {
    return JSON.stringify(value);
  }
  if (value === null || Array.isArray(value)) {
    return value === null ? 'null' : 'an array';
  }
  return typeof value === 'object' ? 'an object' : `${String(value)} (${typeof value})`;
}
