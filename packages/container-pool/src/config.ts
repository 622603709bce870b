import { hostname } from 'node:os';
import type { MetricsRegistry } from '@agentnode/metrics';
import type { DockerEngineConfig } from './engine';
import { invalidConfig } from './errors';
import type { Logger } from './logger';
import type { ContainerSpec } from './spec';
import { booleanOption, checkKeys, wholeNumber, withMethods } from './validate';

/**
 * Configuration of `createContainerPool`. Every field is optional.
 *
 * @example
 * import { createContainerPool } from '@agentnode/container-pool';
 *
 * const pool = createContainerPool({ name: 'tools', min: 1, max: 4, handleSignals: true });
 */
export interface ContainerPoolConfig {
  /** Pool name, written to each container's `agentnode.pool` label. @default 'default' */
  readonly name?: string;
  /** Owning node, written to the `agentnode.node` label. @default the host name */
  readonly nodeId?: string;
  /** Extra labels on every container, for example for cost attribution. @default {} */
  readonly labels?: Readonly<Record<string, string>>;
  /** Docker engines to place containers on, least-loaded first. @default one local engine */
  readonly engines?: readonly DockerEngineConfig[];
  /** Specs to warm up in `start()`. @default [] */
  readonly specs?: readonly ContainerSpec[];
  /** Warm containers kept per spec, unless the spec says otherwise. @default 0 */
  readonly min?: number;
  /** Containers at most per spec, unless the spec says otherwise. @default 4 */
  readonly max?: number;
  /** Idle time after which a container above `min` is removed. @default 60_000 */
  readonly idleTtlMs?: number;
  /** Deadline of a call when its options name none. @default 300_000 */
  readonly timeoutMs?: number;
  /** Stdout bytes a call may produce; stderr is cut at the same size. @default 1_048_576 */
  readonly maxOutputBytes?: number;
  /** Bytes of `code` plus `input` a call may send. @default 16_777_216 */
  readonly maxInputBytes?: number;
  /** Time a new container's runner has to reply to its first ping. @default 30_000 */
  readonly readyTimeoutMs?: number;
  /** Interval of liveness pings and Docker health reads on idle containers. @default 10_000 */
  readonly livenessIntervalMs?: number;
  /** Time a liveness ping may take. @default 2_000 */
  readonly livenessTimeoutMs?: number;
  /** Time any single Docker API request may take before its engine counts as down. @default 30_000 */
  readonly engineTimeoutMs?: number;
  /** Window in which calls that found no idle container are counted. @default 10_000 */
  readonly scaleWindowMs?: number;
  /** Misses within the window that trigger a pre-start. @default 3 */
  readonly scaleThreshold?: number;
  /** Containers pre-started per threshold crossed. @default 1 */
  readonly scaleIncrement?: number;
  /** Let Docker remove one-shot containers as they exit. @default true */
  readonly oneShotAutoRemove?: boolean;
  /**
   * Close the pool on SIGINT and SIGTERM, then re-raise the signal when no other listener
   * handles it. Without this, Docker still stops the containers when the host exits (their
   * stdin closes), but leaves them for the next start to remove.
   * @default false
   */
  readonly handleSignals?: boolean;
  /** Registry for the pool's metrics; without it nothing is recorded. */
  readonly metrics?: MetricsRegistry;
  /**
   * Logger for scaling decisions, health failures and engine changes: an object with
   * `debug`, `info`, `warn` and `error`, such as `console`. Without it nothing is logged.
   */
  readonly logger?: Logger;
}

/** The config with every default applied. */
export type ResolvedPoolConfig = Required<Omit<ContainerPoolConfig, 'metrics' | 'logger'>> &
  Pick<ContainerPoolConfig, 'metrics' | 'logger'>;

const CONFIG_KEYS = {
  name: true,
  nodeId: true,
  labels: true,
  engines: true,
  specs: true,
  min: true,
  max: true,
  idleTtlMs: true,
  timeoutMs: true,
  maxOutputBytes: true,
  maxInputBytes: true,
  readyTimeoutMs: true,
  livenessIntervalMs: true,
  livenessTimeoutMs: true,
  engineTimeoutMs: true,
  scaleWindowMs: true,
  scaleThreshold: true,
  scaleIncrement: true,
  oneShotAutoRemove: true,
  handleSignals: true,
  metrics: true,
  logger: true,
} as const satisfies Record<keyof ContainerPoolConfig, true>;

const ENGINE_KEYS = {
  name: true,
  connection: true,
  maxContainers: true,
} as const satisfies Record<keyof DockerEngineConfig, true>;

/** dockerode connection options that are easy to put one level too high. */
const DOCKERODE_KEYS = new Set(['socketPath', 'host', 'port', 'protocol', 'ca', 'cert', 'key']);

const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;
const NAME_RULE = 'use 1-128 letters, digits, ".", "_" or "-", starting with a letter or digit';

/** Validates `config` and applies the defaults in one place. */
export function resolvePoolConfig(config: unknown): Readonly<ResolvedPoolConfig> {
  const given = (
    config === undefined ? {} : checkKeys('config', config, CONFIG_KEYS)
  ) as Readonly<ContainerPoolConfig>;
  const resolved: ResolvedPoolConfig = {
    name: given.name ?? 'default',
    nodeId: given.nodeId ?? hostname(),
    labels: given.labels ?? {},
    engines: given.engines ?? [{}],
    specs: given.specs ?? [],
    min: given.min ?? 0,
    max: given.max ?? 4,
    idleTtlMs: given.idleTtlMs ?? 60_000,
    timeoutMs: given.timeoutMs ?? 300_000,
    maxOutputBytes: given.maxOutputBytes ?? 1024 * 1024,
    maxInputBytes: given.maxInputBytes ?? 16 * 1024 * 1024,
    readyTimeoutMs: given.readyTimeoutMs ?? 30_000,
    livenessIntervalMs: given.livenessIntervalMs ?? 10_000,
    livenessTimeoutMs: given.livenessTimeoutMs ?? 2_000,
    engineTimeoutMs: given.engineTimeoutMs ?? 30_000,
    scaleWindowMs: given.scaleWindowMs ?? 10_000,
    scaleThreshold: given.scaleThreshold ?? 3,
    scaleIncrement: given.scaleIncrement ?? 1,
    oneShotAutoRemove: given.oneShotAutoRemove ?? true,
    handleSignals: given.handleSignals ?? false,
    metrics: given.metrics,
    logger: given.logger,
  };

  for (const option of ['name', 'nodeId'] as const) {
    const value = resolved[option];
    // Label values may hold anything, but these also appear in logs and filters.
    if (typeof value !== 'string' || !NAME_PATTERN.test(value)) {
      throw invalidConfig(option, value, NAME_RULE, 'string');
    }
  }
  checkLabels(resolved.labels);
  checkEngines(resolved.engines);
  if (!Array.isArray(resolved.specs)) {
    throw invalidConfig('specs', resolved.specs, 'list container specs', 'array');
  }

  wholeNumber('min', resolved.min, 0);
  wholeNumber('max', resolved.max, 1);
  if (resolved.min > resolved.max)
    throw invalidConfig('min', resolved.min, `it must not exceed max (${resolved.max})`);
  for (const option of [
    'idleTtlMs',
    'timeoutMs',
    'maxOutputBytes',
    'maxInputBytes',
    'readyTimeoutMs',
    'livenessIntervalMs',
    'livenessTimeoutMs',
    'engineTimeoutMs',
    'scaleWindowMs',
    'scaleThreshold',
    'scaleIncrement',
  ] as const) {
    wholeNumber(option, resolved[option], 1);
  }
  for (const option of ['oneShotAutoRemove', 'handleSignals'] as const) {
    booleanOption(option, resolved[option]);
  }
  if (resolved.logger !== undefined) {
    withMethods<Logger>('logger', resolved.logger, ['debug', 'info', 'warn', 'error']);
  }
  if (resolved.metrics !== undefined) {
    withMethods<MetricsRegistry>('metrics', resolved.metrics, ['counter', 'histogram', 'gauge']);
  }
  return Object.freeze(resolved);
}

function checkLabels(labels: unknown): void {
  if (typeof labels !== 'object' || labels === null || Array.isArray(labels)) {
    throw invalidConfig(
      'labels',
      labels,
      'pass an object of label names to string values',
      'object',
    );
  }
  for (const [name, value] of Object.entries(labels)) {
    if (name.startsWith('agentnode.')) {
      throw invalidConfig(`labels.${name}`, value, 'names starting with "agentnode." are reserved');
    }
    if (typeof value !== 'string') {
      throw invalidConfig(`labels.${name}`, value, 'use a string value', 'string');
    }
  }
}

function checkEngines(engines: unknown): void {
  if (!Array.isArray(engines) || engines.length === 0) {
    throw invalidConfig('engines', engines, 'list at least one engine', 'array');
  }

  const names = new Set<string>();
  engines.forEach((engine: unknown, index) => {
    const option = `engines[${index}]`;
    const given = checkKeys<DockerEngineConfig>(option, engine, ENGINE_KEYS, (key) =>
      DOCKERODE_KEYS.has(key) ? `dockerode options go inside "connection"` : undefined,
    );
    const name = given.name ?? (index === 0 ? 'local' : `engine-${index}`);
    if (typeof name !== 'string' || !NAME_PATTERN.test(name)) {
      throw invalidConfig(`${option}.name`, name, NAME_RULE, 'string');
    }
    if (names.has(name)) throw invalidConfig(`${option}.name`, name, 'engine names must be unique');
    names.add(name);

    const { connection, maxContainers } = given;
    if (
      connection !== undefined &&
      (typeof connection !== 'object' || connection === null || Array.isArray(connection))
    ) {
      throw invalidConfig(
        `${option}.connection`,
        connection,
        'pass dockerode connection options, for example { socketPath: "/var/run/docker.sock" }',
        'object',
      );
    }
    if (maxContainers !== undefined && maxContainers !== Number.POSITIVE_INFINITY) {
      wholeNumber(`${option}.maxContainers`, maxContainers, 1);
    }
  });
}
