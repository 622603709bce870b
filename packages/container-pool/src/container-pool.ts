import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { callWithDeadline, type PreparedCall, withinCall } from './call';
import { closeBeforeExit } from './close-before-exit';
import { closeOnSignals } from './close-on-signals';
import { type ContainerPoolConfig, type ResolvedPoolConfig, resolvePoolConfig } from './config';
import { removeContainer } from './container-launcher';
import { Engine, isEngineFailure, withEngineTimeout } from './engine';
import { ContainerPoolError, invalidConfig, isContainerPoolError } from './errors';
import { type Logger, SILENT_LOGGER } from './logger';
import { runOneShot } from './one-shot';
import { type ContainerPoolEvents, type ContainerPoolListener, PoolEvents } from './pool-events';
import { PoolMetrics } from './pool-metrics';
import type { PoolRuntime, RuntimeSettings } from './pool-runtime';
import { RunnerGone, type RunnerResult } from './runner-connection';
import { type ContainerSpec, LABELS, type ResolvedSpec, resolveSpec } from './spec';
import { abortedError, closedError, SpecPool, type SpecPoolStats, short } from './spec-pool';
import { checkKeys, wholeNumber } from './validate';

/**
 * Per-call options of {@link ContainerPool.run}.
 *
 * @example
 * import type { RunOptions } from '@agentnode/container-pool';
 *
 * const options: RunOptions = { code: 'wc -c', input: 'hello', timeoutMs: 2_000, signal: AbortSignal.timeout(5_000) };
 */
export interface RunOptions {
  /** Code for the runner: a shell script for `sh`, a function body for `node`. */
  readonly code: string | Uint8Array;
  /** Bytes on the code's stdin (`sh`) or in `input` (`node`). @default '' */
  readonly input?: string | Uint8Array;
  /** Deadline for the whole call, waiting for a container included. @default the pool's `timeoutMs` */
  readonly timeoutMs?: number;
  /**
   * Aborts the call in any phase with `ABORTED`; a running call's container is killed and
   * replaced.
   */
  readonly signal?: AbortSignal;
  /** Stdout bytes allowed before the call fails with `OUTPUT_LIMIT`. @default the pool's `maxOutputBytes` */
  readonly maxOutputBytes?: number;
  /** `warm` reuses pool containers; `one-shot` runs in a fresh container removed afterwards. @default 'warm' */
  readonly mode?: 'warm' | 'one-shot';
}

/** Result of a call. A non-zero exit code is a result, not an error. */
export interface RunResult {
  /** Stdout, decoded as UTF-8. */
  readonly output: string;
  /** Stderr, decoded as UTF-8, cut at `maxOutputBytes`. */
  readonly stderr: string;
  readonly exitCode: number;
  /** Wall time of the call, waiting for a container included. */
  readonly durationMs: number;
  /** True when stderr was longer than `maxOutputBytes` and was cut. */
  readonly stderrTruncated: boolean;
  /** Container the call ran in. */
  readonly containerId: string;
  /** Engine the container ran on. */
  readonly engine: string;
}

/** Sizes of the pool: per spec and per engine. */
export interface ContainerPoolStats {
  readonly specs: readonly SpecPoolStats[];
  readonly engines: readonly {
    readonly name: string;
    readonly up: boolean;
    readonly containers: number;
  }[];
}

/**
 * Warm Docker containers, each running a runner that executes calls sent over its attached
 * stdio. One pool serves many specs; each spec gets its own set of containers.
 *
 * @example
 * import { createContainerPool } from '@agentnode/container-pool';
 *
 * const pool = createContainerPool({ handleSignals: true });
 * const spec = { image: 'busybox:1.36', runner: 'sh', min: 1 } as const;
 * const result = await pool.run(spec, { code: 'sha256sum', input: 'hello', timeoutMs: 5_000 });
 * console.log(result.output); // "2cf24dba5fb0a30e...  -"
 * await pool.close();
 */
export class ContainerPool {
  readonly #config: Readonly<ResolvedPoolConfig>;
  readonly #engines: readonly Engine[];
  readonly #logger: Logger;
  readonly #metrics: PoolMetrics;
  readonly #events: PoolEvents;
  readonly #runtime: PoolRuntime;
  readonly #instance = randomUUID();
  readonly #pools = new Map<string, SpecPool>();
  /** Every container this pool created and has not yet seen removed. */
  readonly #live = new Map<string, Engine>();
  /** Removals under way, by container id, so a container is removed once. */
  readonly #removals = new Map<string, Promise<void>>();
  /** Container launches under way; `close()` waits for them so none escapes it. */
  readonly #launches = new Set<Promise<unknown>>();
  /** Pools per spec object, so a warm call skips validating and hashing a spec it has seen. */
  readonly #poolsBySpec = new WeakMap<ContainerSpec, SpecPool>();
  #started: Promise<void> | undefined;
  /** True once the orphan sweep finished, so calls skip waiting for it. */
  #swept = false;
  #closing: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #maintaining = false;
  #unregisterSignals: (() => void) | undefined;
  #unregisterExit: (() => void) | undefined;

  constructor(config: ContainerPoolConfig = {}) {
    this.#config = resolvePoolConfig(config);
    this.#engines = this.#config.engines.map((engine, index) => new Engine(engine, index));
    this.#logger = this.#config.logger ?? SILENT_LOGGER;
    this.#events = new PoolEvents(this.#logger);
    this.#metrics = new PoolMetrics(this.#config.metrics, {
      sizes: () => this.#sizes(),
      engines: () =>
        this.#engines.map((engine) => ({
          engine: engine.name,
          up: engine.up,
          containers: engine.load,
        })),
    });
    this.#runtime = this.#createRuntime();
    for (const spec of this.#config.specs) this.#poolFor(spec);
    if (this.#config.handleSignals) this.#unregisterSignals = closeOnSignals(this);
  }

  /** Pool name, as written to the `agentnode.pool` label. */
  get name(): string {
    return this.#config.name;
  }

  /** Node id, as written to the `agentnode.node` label. */
  get nodeId(): string {
    return this.#config.nodeId;
  }

  /**
   * Removes containers an earlier run of this pool (same name and node) left behind, starts
   * the maintenance timer, then warms the configured specs. The cleanup runs once, and `run`
   * and `warm` wait for it on first use; a failed warm-up rejects this call only.
   */
  async start(): Promise<void> {
    await this.#ready();
    await Promise.all(this.#config.specs.map((spec) => this.#poolFor(spec).warm()));
  }

  /** Starts `min` containers of `spec` and resolves when their runners reply to the readiness ping. */
  async warm(spec: ContainerSpec): Promise<void> {
    await this.#ready();
    await this.#poolFor(spec).warm();
  }

  /**
   * Runs `options.code` in a container of `spec` and returns its output and exit code.
   *
   * Errors (all {@link ContainerPoolError}): `INVALID_CONFIG` for a bad spec or option,
   * `TIMEOUT` and `ABORTED` (the container is killed and replaced), `OUTPUT_LIMIT`,
   * `CONTAINER_UNHEALTHY` when the runner dies mid-call, `CONTAINER_START_FAILED`,
   * `ENGINE_UNAVAILABLE`, `POOL_CLOSED`.
   *
   * @example
   * import { createContainerPool } from '@agentnode/container-pool';
   *
   * const pool = createContainerPool();
   * const node = { image: 'node:20-slim', runner: 'node' } as const;
   * const { output } = await pool.run(node, { code: 'return input.length', input: 'abc' }); // '3'
   */
  async run(spec: ContainerSpec, options: RunOptions): Promise<RunResult> {
    const started = performance.now();
    const pool = this.#poolFor(spec);
    const call = this.#prepare(options, started);
    const mode = options.mode ?? 'warm';
    try {
      if (call.signal?.aborted) throw abortedError(pool.spec, 'starting');
      if (!this.#swept) {
        const phase = () => 'removing containers of an earlier run';
        await withinCall(this.#ready(), pool.spec, call, phase);
      }

      const { result, containerId, engine, release } =
        mode === 'one-shot'
          ? await this.#runOneShot(pool.spec, call)
          : await this.#runWarm(pool, call);
      let output: RunResult;
      try {
        output = this.#finish(pool.spec, result, call, containerId, engine);
      } finally {
        release();
      }
      this.#metrics.callFinished(pool.spec.name, mode, 'ok', (performance.now() - started) / 1000);
      return output;
    } catch (error) {
      const outcome = isContainerPoolError(error) ? error.code.toLowerCase() : 'error';
      this.#metrics.callFinished(
        pool.spec.name,
        mode,
        outcome,
        (performance.now() - started) / 1000,
      );
      throw error;
    }
  }

  /**
   * Adds a listener for one of the pool's events; returns the function that removes it.
   * Listeners run synchronously inside the pool, so keep them short; one that throws is
   * logged and ignored.
   *
   * @example
   * import { createContainerPool } from '@agentnode/container-pool';
   *
   * const pool = createContainerPool();
   * const stop = pool.on('healthCheckFailed', ({ spec, check, reason }) => console.warn(spec, check, reason));
   */
  on<E extends keyof ContainerPoolEvents>(name: E, listener: ContainerPoolListener<E>): () => void {
    return this.#events.on(name, listener);
  }

  /** Current sizes, for dashboards and tests. */
  stats(): ContainerPoolStats {
    return {
      specs: [...this.#pools.values()].map((pool) => pool.stats()),
      engines: this.#engines.map((engine) => ({
        name: engine.name,
        up: engine.up,
        containers: engine.load,
      })),
    };
  }

  /**
   * Rejects waiting calls, removes every container the pool created and stops its timers.
   * Idempotent; later calls fail with `POOL_CLOSED`.
   *
   * Note: idle containers do not keep the process alive, and a pool still open when the
   * event loop empties closes itself on `beforeExit`. That event is not emitted on
   * `process.exit()` or a signal, so call `close()` (or set `handleSignals`) where the
   * program can end that way.
   */
  close(): Promise<void> {
    this.#closing ??= this.#closeOnce();
    return this.#closing;
  }

  /** Runs the orphan sweep once and starts the timer; never rejects except with `POOL_CLOSED`. */
  #ready(): Promise<void> {
    if (this.#closing) return Promise.reject(this.#closedError());

    this.#started ??= this.#startOnce();
    return this.#started;
  }

  async #startOnce(): Promise<void> {
    this.#unregisterExit = closeBeforeExit(this);
    await Promise.all(this.#engines.map((engine) => this.#removeOrphans(engine)));
    this.#swept = true;
    if (this.#closing) return;

    this.#timer = setInterval(
      () => void this.#maintain(),
      Math.min(1_000, this.#config.livenessIntervalMs),
    );
    this.#timer.unref();
  }

  async #closeOnce(): Promise<void> {
    clearInterval(this.#timer);
    this.#unregisterSignals?.();
    this.#unregisterExit?.();
    for (const pool of this.#pools.values()) pool.close();

    // Containers are tracked from creation, so those still starting are removed too. A
    // launch that finishes meanwhile finds the pool closed and removes its own container.
    while (this.#live.size > 0 || this.#launches.size > 0 || this.#removals.size > 0) {
      for (const [id, engine] of this.#live) void this.#remove(id, engine);
      await Promise.allSettled([...this.#launches, ...this.#removals.values()]);
    }
    this.#logger.info(`container-pool: pool "${this.name}" closed`);
  }

  async #runWarm(pool: SpecPool, call: PreparedCall) {
    for (;;) {
      const container = await pool.acquire(call);
      try {
        const result = await callWithDeadline(
          container.connection,
          pool.spec,
          call,
          container.id,
          (reason) => pool.discard(container, reason),
        );
        return {
          result,
          containerId: container.id,
          engine: container.engine.name,
          release: () => pool.release(container),
        };
      } catch (error) {
        if (!(error instanceof RunnerGone)) throw error;

        if (this.#closing) {
          pool.discard(container, 'closed');
          throw closedError(pool.spec);
        }

        // The runner died mid-call. If its engine stopped responding, the call moves to
        // another engine; sandboxed code has no network, so running it again is safe.
        const engineDown = await this.#engineIsDown(container.engine);
        pool.discard(container, engineDown ? 'engine' : 'exited');
        if (engineDown && Date.now() < call.deadline) continue;

        pool.healthFailed(
          'exited',
          container.engine,
          container.id,
          `runner failed during a call: ${error.message}`,
        );
        throw new ContainerPoolError(
          'CONTAINER_UNHEALTHY',
          `Runner in container ${short(container.id)} of spec "${pool.spec.name}" failed during a call: ${error.message}`,
          {
            cause: error,
            details: {
              spec: pool.spec.name,
              engine: container.engine.name,
              containerId: container.id,
            },
          },
        );
      }
    }
  }

  async #runOneShot(spec: ResolvedSpec, call: PreparedCall) {
    try {
      // A one-shot call that gives up while its container starts returns at once. The start
      // goes on, meets the passed deadline or the fired signal, and removes its container.
      let phase = 'starting a container';
      const result = await withinCall(
        runOneShot(this.#runtime, spec, call, this.#config.oneShotAutoRemove, () => {
          phase = 'running';
        }),
        spec,
        call,
        () => phase,
      );
      return { result, containerId: result.containerId, engine: result.engine, release: () => {} };
    } catch (error) {
      if (!(error instanceof RunnerGone)) throw error;
      if (this.#closing) throw closedError(spec);
      throw new ContainerPoolError(
        'CONTAINER_UNHEALTHY',
        `Runner of a one-shot container of spec "${spec.name}" failed: ${error.message}`,
        {
          cause: error,
          details: { spec: spec.name },
        },
      );
    }
  }

  /** Turns a runner result into a {@link RunResult}; an over-long stdout becomes `OUTPUT_LIMIT`. */
  #finish(
    spec: ResolvedSpec,
    raw: RunnerResult,
    call: PreparedCall,
    containerId: string,
    engine: string,
  ): RunResult {
    if (raw.stdoutTruncated) {
      throw new ContainerPoolError(
        'OUTPUT_LIMIT',
        `Call on spec "${spec.name}" wrote more than ${call.maxOutputBytes} bytes to stdout.`,
        {
          details: {
            spec: spec.name,
            engine,
            containerId,
            partialOutput: raw.stdout.toString('utf8'),
          },
        },
      );
    }
    return {
      output: raw.stdout.toString('utf8'),
      stderr: raw.stderr.toString('utf8'),
      exitCode: raw.exitCode,
      durationMs: performance.now() - call.started,
      stderrTruncated: raw.stderrTruncated,
      containerId,
      engine,
    };
  }

  #prepare(input: RunOptions, started: number): PreparedCall {
    const options = checkKeys<RunOptions>('options', input, RUN_OPTION_KEYS);
    if (this.#closing) throw this.#closedError();

    const code = toBuffer('options.code', options.code);
    const stdin = toBuffer('options.input', options.input ?? '');
    const timeoutMs = options.timeoutMs ?? this.#config.timeoutMs;
    const maxOutputBytes = options.maxOutputBytes ?? this.#config.maxOutputBytes;
    wholeNumber('options.timeoutMs', timeoutMs, 1);
    wholeNumber('options.maxOutputBytes', maxOutputBytes, 1);
    if (options.signal !== undefined && !isAbortSignal(options.signal)) {
      throw invalidConfig(
        'options.signal',
        options.signal,
        'pass an AbortSignal, for example AbortSignal.timeout(5_000) or controller.signal',
      );
    }
    if (code.length + stdin.length > this.#config.maxInputBytes) {
      throw invalidConfig(
        'options.input',
        `${code.length + stdin.length} bytes of code and input`,
        `the pool allows ${this.#config.maxInputBytes} bytes (maxInputBytes)`,
      );
    }
    if (options.mode !== undefined && options.mode !== 'warm' && options.mode !== 'one-shot') {
      throw invalidConfig('options.mode', options.mode, 'use "warm" or "one-shot"');
    }
    return {
      code,
      input: stdin,
      maxOutputBytes,
      timeoutMs,
      deadline: Date.now() + timeoutMs,
      signal: options.signal,
      started,
    };
  }

  /**
   * Finds or creates the pool of `spec`. Note: a spec object is read once; changing its fields
   * afterwards has no effect, so pass a new object for a different spec.
   */
  #poolFor(spec: ContainerSpec): SpecPool {
    const known =
      typeof spec === 'object' && spec !== null ? this.#poolsBySpec.get(spec) : undefined;
    if (known) return known;

    const resolved = resolveSpec(spec, this.#config);
    let pool = this.#pools.get(resolved.key);
    if (pool === undefined) {
      pool = new SpecPool(resolved, this.#runtime);
      this.#pools.set(resolved.key, pool);
    }
    this.#poolsBySpec.set(spec, pool);
    return pool;
  }

  async #maintain(): Promise<void> {
    if (this.#maintaining || this.#closing) return;

    this.#maintaining = true;
    try {
      const now = Date.now();
      const retries = this.#engines.filter((engine) => !engine.up && engine.available(now));
      await Promise.all(retries.map((engine) => this.#probeEngine(engine)));
      await Promise.all([...this.#pools.values()].map((pool) => pool.maintain(now)));
    } catch (error) {
      this.#logger.error(`container-pool: maintenance pass failed: ${(error as Error).message}`);
    } finally {
      this.#maintaining = false;
    }
  }

  async #removeOrphans(engine: Engine): Promise<void> {
    let containers: { Id: string; Labels: Record<string, string>; State: string }[];
    try {
      containers = await withEngineTimeout(this.#config.engineTimeoutMs, (abortSignal) =>
        engine.docker.listContainers({
          all: true,
          filters: { label: [`${LABELS.pool}=${this.name}`, `${LABELS.node}=${this.nodeId}`] },
          abortSignal,
        } as Parameters<typeof engine.docker.listContainers>[0]),
      );
    } catch (error) {
      this.#logger.warn(
        `container-pool: could not list containers on engine "${engine.name}" to remove orphans: ${(error as Error).message}`,
      );
      if (isEngineFailure(error)) this.#engineFailed(engine, error);
      return;
    }

    const orphans = containers.filter((container) => this.#isOrphan(container.Labels));
    if (orphans.length === 0) return;

    this.#logger.info(
      `container-pool: removing ${orphans.length} container(s) of pool "${this.name}" left behind on engine "${engine.name}" by an earlier run`,
    );
    await Promise.all(
      orphans.map((container) =>
        removeContainer(engine, container.Id, this.#config.engineTimeoutMs).catch(
          (error: Error) => {
            this.#logger.warn(
              `container-pool: could not remove orphan ${short(container.Id)}: ${error.message}`,
            );
          },
        ),
      ),
    );
  }

  /** An orphan carries this pool's labels but belongs to no live pool on this host. */
  #isOrphan(labels: Record<string, string>): boolean {
    if (labels[LABELS.instance] === this.#instance) return false;
    if (labels[LABELS.ownerHost] !== hostname()) return true;

    const pid = Number(labels[LABELS.ownerPid]);
    if (!(Number.isSafeInteger(pid) && pid > 0 && processIsAlive(pid))) return true;

    // A live process with a recycled id started at another time than the owner did.
    const started = labels[LABELS.ownerStarted];
    const current = started === undefined ? undefined : processStartTime(pid);
    return current !== undefined && current !== started;
  }

  /**
   * Removes a container once. A failed removal is logged and the container forgotten: the
   * next start's orphan sweep removes it, and `close()` does not wait on an engine that is down.
   */
  #remove(id: string, engine: Engine): Promise<void> {
    const pending = this.#removals.get(id);
    if (pending) return pending;

    const removal = removeContainer(engine, id, this.#config.engineTimeoutMs)
      .catch((error: Error) => {
        this.#logger.warn(
          `container-pool: could not remove container ${short(id)} on engine "${engine.name}"; the next start removes it: ${error.message}`,
        );
        if (isEngineFailure(error)) this.#engineFailed(engine, error);
      })
      .finally(() => {
        this.#live.delete(id);
        this.#removals.delete(id);
      });
    this.#removals.set(id, removal);
    return removal;
  }

  #engineResponded(engine: Engine): void {
    if (!engine.markUp()) return;

    this.#logger.info(`container-pool: engine "${engine.name}" is responding again`);
    this.#events.emit('engineUp', { engine: engine.name });
  }

  #engineFailed(engine: Engine, error: unknown): void {
    const wasUp = engine.markDown(error as Error, Date.now());
    if (!wasUp) return;

    this.#events.emit('engineDown', { engine: engine.name, error: error as Error });
    this.#logger.warn(
      `container-pool: engine "${engine.name}" stopped responding and is out of rotation: ${(error as Error).message}`,
    );
    for (const pool of this.#pools.values()) pool.dropEngine(engine);
  }

  /** Pings an engine that is out of rotation and puts it back when it responds. */
  async #probeEngine(engine: Engine): Promise<void> {
    if (!(await this.#engineIsDown(engine))) this.#engineResponded(engine);
  }

  async #engineIsDown(engine: Engine): Promise<boolean> {
    try {
      await withEngineTimeout(Math.min(this.#config.engineTimeoutMs, 5_000), (abortSignal) =>
        (engine.docker as unknown as PingableDocker).ping({ abortSignal }),
      );
      return false;
    } catch (error) {
      this.#engineFailed(engine, error);
      return true;
    }
  }

  #createRuntime(): PoolRuntime {
    const config = this.#config;
    const settings: RuntimeSettings = {
      engineTimeoutMs: config.engineTimeoutMs,
      readyTimeoutMs: config.readyTimeoutMs,
      maxSectionBytes: Math.max(config.maxOutputBytes, 1),
      livenessIntervalMs: config.livenessIntervalMs,
      livenessTimeoutMs: config.livenessTimeoutMs,
      scaleWindowMs: config.scaleWindowMs,
      scaleThreshold: config.scaleThreshold,
      scaleIncrement: config.scaleIncrement,
    };
    const pool = this;
    return {
      engines: this.#engines,
      settings,
      metrics: this.#metrics,
      events: this.#events,
      logger: this.#logger,
      get closed() {
        return pool.#closing !== undefined;
      },
      labelsFor: (spec, mode) => ({
        ...config.labels,
        [LABELS.pool]: this.name,
        [LABELS.node]: this.nodeId,
        [LABELS.spec]: spec.key,
        [LABELS.instance]: this.#instance,
        [LABELS.ownerHost]: hostname(),
        [LABELS.ownerPid]: String(process.pid),
        ...(OWN_START_TIME !== undefined && { [LABELS.ownerStarted]: OWN_START_TIME }),
        [LABELS.mode]: mode,
      }),
      track: (id, engine) => {
        this.#live.set(id, engine);
      },
      forget: (id) => {
        this.#live.delete(id);
      },
      remove: (id, engine) => this.#remove(id, engine),
      trackLaunch: (launch) => {
        this.#launches.add(launch);
        void launch.then(
          () => this.#launches.delete(launch),
          () => this.#launches.delete(launch),
        );
        return launch;
      },
      engineFailed: (engine, error) => this.#engineFailed(engine, error),
      engineResponded: (engine) => this.#engineResponded(engine),
    };
  }

  *#sizes() {
    for (const pool of this.#pools.values()) {
      const waiting = pool.stats().waiting;
      for (const size of pool.sizes()) yield { spec: pool.spec.name, ...size, waiting };
    }
  }

  #closedError(): ContainerPoolError {
    return new ContainerPoolError('POOL_CLOSED', `Container pool "${this.name}" is closed.`);
  }
}

/**
 * Creates a {@link ContainerPool}. Nothing touches Docker until `start`, `warm` or `run`.
 *
 * @example
 * import { createContainerPool } from '@agentnode/container-pool';
 *
 * const pool = createContainerPool({ name: 'tools', max: 8 });
 */
export function createContainerPool(config?: ContainerPoolConfig): ContainerPool {
  return new ContainerPool(config);
}

const RUN_OPTION_KEYS = {
  code: true,
  input: true,
  timeoutMs: true,
  signal: true,
  maxOutputBytes: true,
  mode: true,
} as const satisfies Record<keyof RunOptions, true>;

/** Accepts any object shaped like an `AbortSignal`, so signals from polyfills work too. */
function isAbortSignal(value: unknown): value is AbortSignal {
  if (value instanceof AbortSignal) return true;

  const candidate = value as Partial<AbortSignal> | null;
  return (
    typeof candidate === 'object' &&
    candidate !== null &&
    typeof candidate.aborted === 'boolean' &&
    typeof candidate.addEventListener === 'function' &&
    typeof candidate.removeEventListener === 'function'
  );
}

function toBuffer(option: string, value: unknown): Buffer {
  if (typeof value === 'string') return Buffer.from(value, 'utf8');
  if (value instanceof Uint8Array)
    return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  throw invalidConfig(option, value, 'use a string or a Uint8Array');
}

/** dockerode's `ping` takes an abort signal, though its type declarations omit the options. */
interface PingableDocker {
  ping(options: { abortSignal: AbortSignal }): Promise<unknown>;
}

/**
 * Returns the start time of process `pid` in clock ticks after boot, from field 22 of
 * `/proc/<pid>/stat`. Returns undefined where that file cannot be read (not Linux).
 */
function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    // Field 2, the command name, is in parentheses and may hold spaces, so split after it.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[22 - 3];
  } catch {
    return undefined;
  }
}

const OWN_START_TIME = processStartTime(process.pid);

function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
