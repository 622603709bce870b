import { createHash } from 'node:crypto';
import type Docker from 'dockerode';
import { invalidConfig } from './errors';
import { NODE_RUNNER_SOURCE } from './runners/node-runner';
import { SH_RUNNER_SOURCE } from './runners/sh-runner';
import { booleanOption, checkKeys, nonEmptyString, wholeNumber } from './validate';

/** A runner started as the container's main process; see the protocol in the docs. */
export type RunnerSpec = 'sh' | 'node' | { readonly command: readonly string[] };

/** A host path or named volume mounted into the container. */
export interface ContainerMount {
  /** Host path (`bind`) or volume name (`volume`). */
  readonly source: string;
  /** Absolute path inside the container. */
  readonly target: string;
  /** @default 'bind' */
  readonly type?: 'bind' | 'volume';
  /** @default true (writable only when set to false) */
  readonly readOnly?: boolean;
}

/** A Docker health check run by the engine inside the container. */
export interface ContainerHealthcheck {
  /** Docker's test form, for example `['CMD', 'test', '-f', '/tmp/ok']`. */
  readonly test: readonly string[];
  /** @default 30_000 */
  readonly intervalMs?: number;
  /** @default 5_000 */
  readonly timeoutMs?: number;
  /** Consecutive failures before Docker reports `unhealthy`. @default 3 */
  readonly retries?: number;
  /** @default 0 */
  readonly startPeriodMs?: number;
}

/**
 * A container spec: what to run and under which limits. Calls with equal specs share one pool
 * of warm containers; every field, sizing included, is part of the pool's key.
 *
 * Sandbox defaults (each loosened only by setting its field): no network, all capabilities
 * dropped, `no-new-privileges`, 512 MiB memory without swap, 1 CPU, 128 processes, read-only
 * root file system, writable tmpfs at `workdir` and `/tmp`, user 65534 (nobody).
 *
 * @example
 * import type { ContainerSpec } from '@agentnode/container-pool';
 *
 * const shell: ContainerSpec = { image: 'busybox:1.36', runner: 'sh', min: 1, max: 4 };
 */
export interface ContainerSpec {
  /** Image reference; it must already be present on each engine (the pool never pulls). */
  readonly image: string;
  /** Name in metric labels and logs. @default `${image} ${runner}` */
  readonly name?: string;
  /** @default 'sh' */
  readonly runner?: RunnerSpec;
  readonly env?: Readonly<Record<string, string>>;
  readonly mounts?: readonly ContainerMount[];
  /** Working directory of the code, a tmpfs. @default '/workspace' */
  readonly workdir?: string;
  /** User (`uid[:gid]` or name) the runner runs as. @default '65534:65534' */
  readonly user?: string;
  /** Memory limit, swap included. @default 536_870_912 (512 MiB) */
  readonly memoryBytes?: number;
  /**
   * CPU quota in CPUs; fractions allowed.
   * Note: Docker rejects a quota above the engine's CPU count, which is why the default is 1.
   * @default 1
   */
  readonly cpus?: number;
  /** Maximum number of processes in the container. @default 128 */
  readonly pidsLimit?: number;
  /** Size of each tmpfs (`workdir` and `/tmp`). @default 67_108_864 (64 MiB) */
  readonly tmpfsBytes?: number;
  /** Docker network mode, for example `bridge`. @default 'none' */
  readonly network?: string;
  /** Capabilities added back after dropping all. @default [] */
  readonly capAdd?: readonly string[];
  /** @default true */
  readonly readOnlyRootfs?: boolean;
  /** @default true */
  readonly noNewPrivileges?: boolean;
  /** A Docker health check; an image's own `HEALTHCHECK` is honoured without it. */
  readonly healthcheck?: ContainerHealthcheck;
  /** Warm containers kept ready. @default the pool's `min` */
  readonly min?: number;
  /** Containers at most, warm or busy. @default the pool's `max` */
  readonly max?: number;
  /** Idle time after which a container above `min` is removed. @default the pool's `idleTtlMs` */
  readonly idleTtlMs?: number;
}

/** Pool-wide defaults a spec falls back on. */
export interface SpecDefaults {
  readonly min: number;
  readonly max: number;
  readonly idleTtlMs: number;
}

/** A validated spec with every default applied. */
export interface ResolvedSpec {
  readonly key: string;
  readonly name: string;
  readonly image: string;
  readonly runner: RunnerSpec;
  readonly command: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly mounts: readonly Required<ContainerMount>[];
  readonly workdir: string;
  readonly user: string;
  readonly memoryBytes: number;
  readonly cpus: number;
  readonly pidsLimit: number;
  readonly tmpfsBytes: number;
  readonly network: string;
  readonly capAdd: readonly string[];
  readonly readOnlyRootfs: boolean;
  readonly noNewPrivileges: boolean;
  readonly healthcheck: ContainerHealthcheck | undefined;
  readonly min: number;
  readonly max: number;
  readonly idleTtlMs: number;
}

const SPEC_KEYS = {
  image: true,
  name: true,
  runner: true,
  env: true,
  mounts: true,
  workdir: true,
  user: true,
  memoryBytes: true,
  cpus: true,
  pidsLimit: true,
  tmpfsBytes: true,
  network: true,
  capAdd: true,
  readOnlyRootfs: true,
  noNewPrivileges: true,
  healthcheck: true,
  min: true,
  max: true,
  idleTtlMs: true,
} as const satisfies Record<keyof ContainerSpec, true>;

const MOUNT_KEYS = {
  source: true,
  target: true,
  type: true,
  readOnly: true,
} as const satisfies Record<keyof ContainerMount, true>;

const HEALTHCHECK_KEYS = {
  test: true,
  intervalMs: true,
  timeoutMs: true,
  retries: true,
  startPeriodMs: true,
} as const satisfies Record<keyof ContainerHealthcheck, true>;

/** Validates `spec`, applies the defaults and computes the pool key. */
export function resolveSpec(input: ContainerSpec, defaults: SpecDefaults): ResolvedSpec {
  const spec = checkKeys<ContainerSpec>('spec', input, SPEC_KEYS);
  const image = nonEmptyString(
    'spec.image',
    spec.image,
    'name an image, for example "busybox:1.36"',
  );

  const runner = spec.runner ?? 'sh';
  const workdir = spec.workdir ?? '/workspace';
  const resolved = {
    name:
      spec.name === undefined
        ? `${image} ${typeof runner === 'string' ? runner : 'custom'}`
        : nonEmptyString('spec.name', spec.name, 'use a name that is not blank'),
    image,
    runner,
    command: runnerCommand(runner),
    env: validateEnv(spec.env ?? {}),
    mounts: validateMounts(spec.mounts ?? []),
    workdir: absolutePath('spec.workdir', workdir),
    user: nonEmptyString(
      'spec.user',
      spec.user ?? '65534:65534',
      'use "uid[:gid]" or a user name of the image',
    ),
    memoryBytes: positiveInteger('spec.memoryBytes', spec.memoryBytes ?? 512 * 1024 * 1024),
    cpus: positiveNumber('spec.cpus', spec.cpus ?? 1),
    pidsLimit: positiveInteger('spec.pidsLimit', spec.pidsLimit ?? 128),
    tmpfsBytes: positiveInteger('spec.tmpfsBytes', spec.tmpfsBytes ?? 64 * 1024 * 1024),
    network: nonEmptyString(
      'spec.network',
      spec.network ?? 'none',
      'name a Docker network mode, for example "none" or "bridge"',
    ),
    capAdd: validateCapabilities(spec.capAdd ?? []),
    readOnlyRootfs: booleanOption('spec.readOnlyRootfs', spec.readOnlyRootfs ?? true),
    noNewPrivileges: booleanOption('spec.noNewPrivileges', spec.noNewPrivileges ?? true),
    healthcheck: spec.healthcheck,
    min: nonNegativeInteger('spec.min', spec.min ?? defaults.min),
    max: positiveInteger('spec.max', spec.max ?? defaults.max),
    idleTtlMs: positiveInteger('spec.idleTtlMs', spec.idleTtlMs ?? defaults.idleTtlMs),
  };
  if (resolved.min > resolved.max) {
    throw invalidConfig('spec.min', resolved.min, `it must not exceed max (${resolved.max})`);
  }
  if (resolved.healthcheck !== undefined) validateHealthcheck(resolved.healthcheck);

  const key = createHash('sha256').update(stableJson(resolved)).digest('hex').slice(0, 12);
  return Object.freeze({ key, ...resolved });
}

/**
 * Labels every pool container carries, so orphans can be found after a crash.
 *
 * @example
 * import { LABELS } from '@agentnode/container-pool';
 *
 * const filters = { label: [`${LABELS.pool}=tools`, `${LABELS.node}=node-1`] }; // for docker.listContainers
 */
export const LABELS = {
  pool: 'agentnode.pool',
  node: 'agentnode.node',
  spec: 'agentnode.spec',
  instance: 'agentnode.instance',
  ownerHost: 'agentnode.owner-host',
  ownerPid: 'agentnode.owner-pid',
  ownerStarted: 'agentnode.owner-started',
  mode: 'agentnode.mode',
} as const;

/** Builds the Docker create request for `spec`, sandbox settings included. */
export function createOptions(
  spec: ResolvedSpec,
  labels: Readonly<Record<string, string>>,
  options: { autoRemove: boolean },
): Docker.ContainerCreateOptions {
  const tmpfsOptions = `rw,exec,nosuid,nodev,size=${spec.tmpfsBytes},mode=1777`;
  const [entrypoint, ...args] = spec.command;
  return {
    Image: spec.image,
    Entrypoint: [entrypoint!],
    Cmd: args,
    Env: [
      ...Object.entries(spec.env).map(([name, value]) => `${name}=${value}`),
      `AGENTNODE_WORKDIR=${spec.workdir}`,
    ],
    WorkingDir: spec.workdir,
    User: spec.user,
    Labels: { ...labels },
    AttachStdin: true,
    AttachStdout: true,
    AttachStderr: true,
    OpenStdin: true,
    // Docker closes stdin when the attached client goes away, so a runner ends (and its
    // container stops) even when the host process is killed without cleaning up.
    StdinOnce: true,
    Tty: false,
    NetworkDisabled: spec.network === 'none',
    ...(spec.healthcheck && { Healthcheck: healthcheckConfig(spec.healthcheck) }),
    HostConfig: {
      NetworkMode: spec.network,
      CapDrop: ['ALL'],
      CapAdd: [...spec.capAdd],
      SecurityOpt: spec.noNewPrivileges ? ['no-new-privileges'] : [],
      Memory: spec.memoryBytes,
      MemorySwap: spec.memoryBytes,
      NanoCpus: Math.round(spec.cpus * 1e9),
      PidsLimit: spec.pidsLimit,
      ReadonlyRootfs: spec.readOnlyRootfs,
      Tmpfs: {
        [spec.workdir]: tmpfsOptions,
        ...(spec.workdir !== '/tmp' && { '/tmp': tmpfsOptions }),
      },
      Mounts: spec.mounts.map((mount) => ({
        Type: mount.type,
        Source: mount.source,
        Target: mount.target,
        ReadOnly: mount.readOnly,
      })),
      // The runner's stdout carries the protocol; logging it would copy every frame to disk.
      LogConfig: { Type: 'none', Config: {} },
      AutoRemove: options.autoRemove,
    },
  };
}

function runnerCommand(runner: RunnerSpec): readonly string[] {
  if (runner === 'sh') return ['sh', '-c', SH_RUNNER_SOURCE];
  if (runner === 'node') return ['node', '-e', NODE_RUNNER_SOURCE];

  const rule = 'use "sh", "node" or { command: [program, ...args] }';
  if (typeof runner !== 'object' || runner === null)
    throw invalidConfig('spec.runner', runner, rule);
  const { command } = checkKeys('spec.runner', runner, { command: true });
  if (
    !Array.isArray(command) ||
    command.length === 0 ||
    !command.every((part) => typeof part === 'string')
  ) {
    throw invalidConfig(
      'spec.runner.command',
      command,
      'list a program and its arguments as strings',
    );
  }
  return [...command];
}

function healthcheckConfig(check: ContainerHealthcheck): Docker.HealthConfig {
  const nanos = (ms: number) => ms * 1_000_000;
  return {
    Test: [...check.test],
    Interval: nanos(check.intervalMs ?? 30_000),
    Timeout: nanos(check.timeoutMs ?? 5_000),
    Retries: check.retries ?? 3,
    StartPeriod: nanos(check.startPeriodMs ?? 0),
  };
}

function validateHealthcheck(input: ContainerHealthcheck): void {
  const check = checkKeys<ContainerHealthcheck>('spec.healthcheck', input, HEALTHCHECK_KEYS);
  if (!Array.isArray(check.test) || check.test.length === 0) {
    throw invalidConfig(
      'spec.healthcheck.test',
      check.test,
      'use Docker\'s form, for example ["CMD", "true"]',
      'array',
    );
  }
  if (!check.test.every((part) => typeof part === 'string')) {
    throw invalidConfig('spec.healthcheck.test', check.test, 'use strings only');
  }
  if (check.retries !== undefined) wholeNumber('spec.healthcheck.retries', check.retries, 0);
  for (const field of ['intervalMs', 'timeoutMs', 'startPeriodMs'] as const) {
    const value = check[field];
    if (value !== undefined && (!Number.isInteger(value) || value < 1)) {
      throw invalidConfig(
        `spec.healthcheck.${field}`,
        value,
        'use a whole number of milliseconds, at least 1',
        'number',
      );
    }
  }
}

function validateEnv(env: Readonly<Record<string, string>>): Readonly<Record<string, string>> {
  if (typeof env !== 'object' || env === null || Array.isArray(env)) {
    throw invalidConfig(
      'spec.env',
      env,
      'pass an object of variable names to string values',
      'object',
    );
  }
  for (const [name, value] of Object.entries(env)) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
      throw invalidConfig(
        'spec.env name',
        name,
        'use letters, digits and underscores, not starting with a digit',
      );
    }
    if (typeof value !== 'string') {
      throw invalidConfig(`spec.env.${name}`, value, 'use a string', 'string');
    }
  }
  return { ...env };
}

function validateMounts(mounts: readonly ContainerMount[]): Required<ContainerMount>[] {
  if (!Array.isArray(mounts)) {
    throw invalidConfig('spec.mounts', mounts, 'list mounts as { source, target }', 'array');
  }
  return mounts.map((input: unknown, index) => {
    const option = `spec.mounts[${index}]`;
    const mount = checkKeys<ContainerMount>(option, input, MOUNT_KEYS);
    const type = mount.type ?? 'bind';
    if (type !== 'bind' && type !== 'volume') {
      throw invalidConfig(`${option}.type`, type, 'use "bind" or "volume"');
    }
    return {
      source: nonEmptyString(`${option}.source`, mount.source, 'name a host path or a volume'),
      target: absolutePath(`${option}.target`, mount.target),
      type,
      readOnly: booleanOption(`${option}.readOnly`, mount.readOnly ?? true),
    };
  });
}

function validateCapabilities(capabilities: readonly string[]): string[] {
  if (
    !Array.isArray(capabilities) ||
    !capabilities.every((name) => typeof name === 'string' && name !== '')
  ) {
    throw invalidConfig(
      'spec.capAdd',
      capabilities,
      'list capability names, for example ["CHOWN"]',
    );
  }
  return [...capabilities];
}

function absolutePath(option: string, value: unknown): string {
  if (typeof value !== 'string' || !value.startsWith('/')) {
    throw invalidConfig(option, value, 'use an absolute path', 'string');
  }
  return value;
}

function positiveInteger(option: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw invalidConfig(option, value, 'use a whole number of at least 1', 'number');
  }
  return value;
}

function nonNegativeInteger(option: string, value: unknown): number {
  return wholeNumber(option, value, 0);
}

function positiveNumber(option: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw invalidConfig(option, value, 'use a number greater than 0', 'number');
  }
  return value;
}

function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value)
      .filter(([, entry]) => entry !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : 1));
    return `{${entries.map(([name, entry]) => `${JSON.stringify(name)}:${stableJson(entry)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
