import { hostname } from 'node:os';
import type { MetricsRegistry } from '@agentnode/metrics';
import type { DockerEngineConfig } from './engine';
import { invalidConfig } from './errors';
import type { Logger } from './logger';
import type { ContainerSpec } from './spec';

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
  /** Logger for scaling decisions, health failures and engine changes. */
  readonly logger?: Logger;
}

/** The config with every default applied. */
export type ResolvedPoolConfig = Required<Omit<ContainerPoolConfig, 'metrics' | 'logger'>> &
  Pick<ContainerPoolConfig, 'metrics' | 'logger'>;

/** Validates `config` and applies the defaults in one place. */
export function resolvePoolConfig(config: ContainerPoolConfig): Readonly<ResolvedPoolConfig> {
  const resolved: ResolvedPoolConfig = {
    name: config.name ?? 'default',
    nodeId: config.nodeId ?? hostname(),
    labels: config.labels ?? {},
    engines: config.engines ?? [{}],
    specs: config.specs ?? [],
    min: config.min ?? 0,
    max: config.max ?? 4,
    idleTtlMs: config.idleTtlMs ?? 60_000,
    timeoutMs: config.timeoutMs ?? 300_000,
    maxOutputBytes: config.maxOutputBytes ?? 1024 * 1024,
    maxInputBytes: config.maxInputBytes ?? 16 * 1024 * 1024,
    readyTimeoutMs: config.readyTimeoutMs ?? 30_000,
    livenessIntervalMs: config.livenessIntervalMs ?? 10_000,
    livenessTimeoutMs: config.livenessTimeoutMs ?? 2_000,
    engineTimeoutMs: config.engineTimeoutMs ?? 30_000,
    scaleWindowMs: config.scaleWindowMs ?? 10_000,
    scaleThreshold: config.scaleThreshold ?? 3,
    scaleIncrement: config.scaleIncrement ?? 1,
    oneShotAutoRemove: config.oneShotAutoRemove ?? true,
    handleSignals: config.handleSignals ?? false,
    metrics: config.metrics,
    logger: config.logger,
  };

  for (const option of ['name', 'nodeId'] as const) {
    const value = resolved[option];
    // Label values may hold anything, but these also appear in logs and filters.
    if (typeof value !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/.test(value)) {
      throw invalidConfig(
        option,
        value,
        'use 1-128 letters, digits, ".", "_" or "-", starting with a letter or digit',
      );
    }
  }
  for (const [name, value] of Object.entries(resolved.labels)) {
    if (name.startsWith('agentnode.') || typeof value !== 'string') {
      throw invalidConfig(
        `labels.${name}`,
        value,
        'use string values and names outside the reserved "agentnode." prefix',
      );
    }
  }
  if (!Array.isArray(resolved.engines) || resolved.engines.length === 0) {
    throw invalidConfig('engines', resolved.engines, 'list at least one engine');
  }
  const names = new Set<string>();
  resolved.engines.forEach((engine, index) => {
    const name = engine.name ?? (index === 0 ? 'local' : `engine-${index}`);
    if (names.has(name))
      throw invalidConfig(`engines[${index}].name`, name, 'engine names must be unique');
    names.add(name);
  });

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
    if (typeof resolved[option] !== 'boolean')
      throw invalidConfig(option, resolved[option], 'use true or false');
  }
  return Object.freeze(resolved);
}

function wholeNumber(option: string, value: unknown, minimum: number): void {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < minimum) {
    throw invalidConfig(option, value, `use a whole number of at least ${minimum}`);
  }
}
