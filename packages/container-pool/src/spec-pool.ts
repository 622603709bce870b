import type Docker from 'dockerode';
import { launchContainer } from './container-launcher';
import { type Engine, isEngineFailure, leastLoaded, withEngineTimeout } from './engine';
import { ContainerPoolError, isContainerPoolError } from './errors';
import type { RemovalReason } from './pool-events';
import type { ContainerState, HealthCheckKind, ScaleReason } from './pool-metrics';
import type { PoolRuntime } from './pool-runtime';
import type { RunnerConnection } from './runner-connection';
import type { ResolvedSpec } from './spec';

/** A warm container owned by a spec pool. */
export interface PooledContainer {
  readonly id: string;
  readonly engine: Engine;
  readonly container: Docker.Container;
  readonly connection: RunnerConnection;
  state: 'idle' | 'busy' | 'stopping';
  /** Time the container last finished a call; a liveness ping does not count as use. */
  idleSince: number;
  /** True while a liveness probe runs; the container stays idle but no call may take it. */
  probing: boolean;
  /** Whether Docker runs a health check in it; unknown until the first liveness pass. */
  dockerHealth: boolean | undefined;
}

interface Waiter {
  readonly resolve: (container: PooledContainer) => void;
  readonly reject: (error: unknown) => void;
}

/** Sizes of one spec pool at a moment. */
export interface SpecPoolStats {
  readonly spec: string;
  readonly key: string;
  readonly starting: number;
  readonly idle: number;
  readonly busy: number;
  readonly stopping: number;
  readonly waiting: number;
}

/**
 * The warm containers of one spec: hands idle containers to calls, starts more up to `max`
 * when none is idle, pre-starts extra ones when demand crosses the scaling threshold, and
 * removes idle ones above `min` after `idleTtlMs`.
 */
export class SpecPool {
  readonly spec: ResolvedSpec;
  readonly #runtime: PoolRuntime;
  readonly #containers = new Set<PooledContainer>();
  /** Idle containers, most recently used last, so the least used ones age out first. */
  #idle: PooledContainer[] = [];
  #starting = 0;
  #stopping = 0;
  #waiters: Waiter[] = [];
  /** Times of acquires that found no idle container, within the scaling window. */
  #misses: number[] = [];
  #lastLiveness = 0;
  #lastStartError: unknown;

  constructor(spec: ResolvedSpec, runtime: PoolRuntime) {
    this.spec = spec;
    this.#runtime = runtime;
  }

  /** Containers counted against `max`: starting, idle and busy, not those being removed. */
  get size(): number {
    return this.#starting + this.#containers.size - this.#stopping;
  }

  stats(): SpecPoolStats {
    const busy = [...this.#containers].filter((container) => container.state === 'busy').length;
    return {
      spec: this.spec.name,
      key: this.spec.key,
      starting: this.#starting,
      idle: this.#idle.length,
      busy,
      stopping: this.#stopping,
      waiting: this.#waiters.length,
    };
  }

  /** Counts by state for the pool-size gauge. */
  *sizes(): Iterable<{ state: ContainerState; count: number }> {
    const stats = this.stats();
    yield { state: 'starting', count: stats.starting };
    yield { state: 'idle', count: stats.idle };
    yield { state: 'busy', count: stats.busy };
    yield { state: 'stopping', count: stats.stopping };
  }

  /**
   * Takes an idle container, or waits for one. Rejects with `TIMEOUT` at the call's deadline,
   * `ABORTED` when its signal fires, `POOL_CLOSED` when the pool closes.
   */
  acquire(call: CallLimits): Promise<PooledContainer> {
    const { deadline, signal } = call;
    const idle = this.#takeIdle();
    if (idle) return Promise.resolve(idle);
    if (signal?.aborted) return Promise.reject(abortedError(this.spec, 'waiting for a container'));

    this.#recordMiss();
    return new Promise((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const cleanup = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.#waiters = this.#waiters.filter((entry) => entry !== waiter);
      };
      const waiter: Waiter = {
        resolve: (container) => {
          cleanup();
          resolve(container);
        },
        reject: (error) => {
          cleanup();
          reject(error);
        },
      };
      const onAbort = () => waiter.reject(abortedError(this.spec, 'waiting for a container'));

      this.#waiters.push(waiter);
      signal?.addEventListener('abort', onAbort, { once: true });
      timer = setTimeout(
        () => waiter.reject(timeoutError(this.spec, call.timeoutMs, 'waiting for a container')),
        Math.max(0, deadline - Date.now()),
      );
      // Referenced like the call's other timers: a waiting call keeps the process alive.
    });
  }

  /** Puts a container back in the pool after a successful call. */
  release(container: PooledContainer): void {
    if (container.state !== 'busy') return;
    if (this.#runtime.closed || container.connection.failure) {
      this.discard(container, 'exited');
      return;
    }
    this.#offer(container);
  }

  /**
   * Kills and removes a container (after a timeout, an abort or a failed check) and starts a
   * replacement when the pool falls below `min` or calls are waiting.
   */
  discard(container: PooledContainer, reason: RemovalReason): void {
    if (container.state === 'stopping' || !this.#containers.has(container)) return;

    container.state = 'stopping';
    this.#idle = this.#idle.filter((entry) => entry !== container);
    this.#stopping += 1;
    container.connection.destroy(`Container removed by the pool (${reason}).`);
    const { logger, events } = this.#runtime;
    logger.debug(
      `container-pool: removing container ${short(container.id)} of "${this.spec.name}" (${reason})`,
    );
    events.emit('containerRemoved', {
      spec: this.spec.name,
      engine: container.engine.name,
      containerId: container.id,
      reason,
    });

    void this.#runtime.remove(container.id, container.engine).finally(() => {
      this.#stopping -= 1;
      this.#containers.delete(container);
      container.engine.load -= 1;
    });
    if (reason !== 'idle' && reason !== 'closed') this.#replenish('replace');
  }

  /** Starts containers until `min` are present; resolves when they are ready. */
  async warm(): Promise<void> {
    const missing = this.spec.min - this.size;
    if (missing <= 0) return;

    this.#scaleLog('up', 'min', missing);
    const starts = Array.from({ length: missing }, () => this.#start());
    const outcomes = await Promise.allSettled(starts);
    const failure = outcomes.find((outcome) => outcome.status === 'rejected');
    if (failure) throw (failure as PromiseRejectedResult).reason;
  }

  /** Counts, logs and emits a failed health check of a container of this spec. */
  healthFailed(
    check: HealthCheckKind,
    engine: Engine,
    containerId: string | undefined,
    reason: string,
  ): void {
    const { metrics, logger, events } = this.#runtime;
    metrics.healthFailed(this.spec.name, check);
    const which = containerId === undefined ? 'a new container' : `container ${short(containerId)}`;
    logger.warn(
      `container-pool: ${which} of "${this.spec.name}" ${HEALTH_FAILURES[check]}; it is removed: ${reason}`,
    );
    events.emit('healthCheckFailed', {
      spec: this.spec.name,
      engine: engine.name,
      containerId,
      check,
      reason,
    });
  }

  /** Periodic work: idle expiry, liveness and Docker health checks, keeping `min`. */
  async maintain(now: number): Promise<void> {
    this.#expireIdle(now);
    if (now - this.#lastLiveness >= this.#runtime.settings.livenessIntervalMs) {
      this.#lastLiveness = now;
      await this.#checkLiveness();
    }
    this.#replenish('min');
  }

  /** Rejects every waiter and removes every container. */
  close(): void {
    for (const waiter of [...this.#waiters]) waiter.reject(closedError(this.spec));
    for (const container of [...this.#containers]) this.discard(container, 'closed');
  }

  /** Drops the containers on `engine`, which stopped responding. */
  dropEngine(engine: Engine): void {
    for (const container of [...this.#containers]) {
      if (container.engine === engine && container.state === 'idle')
        this.discard(container, 'engine');
    }
  }

  #takeIdle(): PooledContainer | undefined {
    // Take the most recently used container (at the end), so the least used ones age out.
    for (let index = this.#idle.length - 1; index >= 0; index -= 1) {
      const container = this.#idle[index]!;
      if (container.probing) continue;

      this.#idle.splice(index, 1);
      if (container.connection.failure || !container.engine.up) {
        this.discard(container, container.engine.up ? 'exited' : 'engine');
        continue;
      }
      container.state = 'busy';
      return container;
    }
    return undefined;
  }

  #offer(container: PooledContainer): void {
    const waiter = this.#waiters[0];
    if (waiter) {
      container.state = 'busy';
      waiter.resolve(container);
      return;
    }
    container.state = 'idle';
    container.idleSince = Date.now();
    this.#idle.push(container);
  }

  /** Records a miss, starts a container for it if below `max`, and pre-starts on a surge. */
  #recordMiss(): void {
    const { metrics, settings } = this.#runtime;
    const now = Date.now();
    this.#misses.push(now);
    while ((this.#misses[0] ?? now) < now - settings.scaleWindowMs) this.#misses.shift();

    // A start already under way will serve this call unless more calls wait than are starting.
    if (this.size < this.spec.max && this.#waiters.length >= this.#starting) {
      metrics.coldStarted(this.spec.name);
      void this.#start().catch(() => {});
    } else {
      metrics.acquireWaited(this.spec.name);
    }

    // Reactive pre-start, after OpenWhisk's prewarm cells: every `scaleThreshold` misses in
    // the window buy `scaleIncrement` extra warm containers, up to `max`.
    if (this.#misses.length >= settings.scaleThreshold) {
      const wanted =
        settings.scaleIncrement * Math.floor(this.#misses.length / settings.scaleThreshold);
      const extra = Math.min(wanted, this.spec.max - this.size);
      const seen = this.#misses.length;
      this.#misses = [];
      if (extra > 0) {
        this.#scaleLog(
          'up',
          'demand',
          extra,
          `${seen} calls found no idle container within ${settings.scaleWindowMs} ms`,
        );
        for (let index = 0; index < extra; index += 1) void this.#start().catch(() => {});
      }
    }
  }

  #replenish(reason: ScaleReason): void {
    if (this.#runtime.closed) return;

    const belowMin = this.spec.min - this.size;
    const needed = Math.max(
      belowMin,
      Math.min(this.#waiters.length - this.#starting, this.spec.max - this.size),
    );
    if (needed <= 0) return;

    // Above min, what the periodic top-up starts is for calls waiting, not for min.
    this.#scaleLog('up', reason === 'min' && belowMin <= 0 ? 'demand' : reason, needed);
    for (let index = 0; index < needed; index += 1) void this.#start().catch(() => {});
  }

  /** Starts one container on the least-loaded engine, failing over to the others. */
  async #start(): Promise<PooledContainer> {
    const { engines, metrics } = this.#runtime;
    if (this.#runtime.closed) throw closedError(this.spec);

    this.#starting += 1;
    const tried = new Set<Engine>();
    let lastError: unknown;
    try {
      for (;;) {
        const engine = leastLoaded(engines, Date.now(), tried);
        if (engine === undefined) {
          throw (
            lastError ??
            new ContainerPoolError(
              'ENGINE_UNAVAILABLE',
              `No Docker engine is available for spec "${this.spec.name}": ${describeEngines(engines)}.`,
              { cause: firstEngineError(engines), details: { spec: this.spec.name } },
            )
          );
        }
        tried.add(engine);
        const began = performance.now();
        engine.load += 1;
        try {
          const container = await this.#launch(engine);
          const durationMs = performance.now() - began;
          metrics.containerStarted(this.spec.name, engine.name, 'ok', durationMs / 1000);
          this.#runtime.events.emit('containerStarted', {
            spec: this.spec.name,
            engine: engine.name,
            containerId: container.id,
            durationMs,
          });
          this.#runtime.engineResponded(engine);
          this.#lastStartError = undefined;
          return container;
        } catch (caught) {
          engine.load -= 1;
          // A launch cut short by close() fails in whatever step it was in. That is no fault
          // of the container or the engine, so it is neither logged nor counted as one.
          const error = this.#runtime.closed ? closedError(this.spec) : caught;
          metrics.containerStarted(
            this.spec.name,
            engine.name,
            'error',
            (performance.now() - began) / 1000,
          );
          lastError = error;
          if (isContainerPoolError(error, 'POOL_CLOSED')) throw error;
          if (isContainerPoolError(error, 'ENGINE_UNAVAILABLE'))
            this.#runtime.engineFailed(engine, error);
          if (isContainerPoolError(error, 'CONTAINER_UNHEALTHY')) {
            // The error's own message repeats "failed its readiness probe"; log the cause.
            const reason = error.cause instanceof Error ? error.cause.message : error.message;
            this.healthFailed('readiness', engine, error.details.containerId, reason);
          }
        }
      }
    } catch (error) {
      this.#startFailed(error);
      throw error;
    } finally {
      this.#starting -= 1;
    }
  }

  async #launch(engine: Engine): Promise<PooledContainer> {
    const runtime = this.#runtime;
    let createdId: string | undefined;
    try {
      const launched = await runtime.trackLaunch(
        launchContainer(engine, this.spec, runtime.labelsFor(this.spec, 'warm'), runtime.settings, {
          autoRemove: false,
          ready: true,
          onCreated: (id) => {
            createdId = id;
            runtime.track(id, engine);
          },
        }),
      );
      if (runtime.closed) throw closedError(this.spec);

      const container: PooledContainer = {
        ...launched,
        state: 'busy',
        idleSince: Date.now(),
        probing: false,
        dockerHealth: undefined,
      };
      this.#containers.add(container);
      launched.connection.onGone((error) => {
        if (container.state !== 'idle') return;
        this.healthFailed(
          'exited',
          engine,
          container.id,
          `runner exited while idle: ${error.message}`,
        );
        this.discard(container, 'exited');
      });
      this.#offer(container);
      return container;
    } catch (error) {
      if (createdId !== undefined) void runtime.remove(createdId, engine);
      throw error;
    }
  }

  #startFailed(error: unknown): void {
    const { logger } = this.#runtime;
    if (!isContainerPoolError(error, 'POOL_CLOSED')) {
      const repeated = this.#lastStartError !== undefined;
      this.#lastStartError = error;
      const log = repeated ? logger.debug : logger.warn;
      log.call(
        logger,
        `container-pool: starting a container for "${this.spec.name}" failed: ${(error as Error).message}`,
      );
    }

    // Without this, calls waiting for the failed start would wait until their deadline.
    const unserved = this.#waiters.length - (this.#starting - 1);
    for (const waiter of this.#waiters.slice(0, Math.max(unserved, 0))) waiter.reject(error);
  }

  #expireIdle(now: number): void {
    const expired = this.#idle.filter(
      (container) => now - container.idleSince >= this.spec.idleTtlMs,
    );
    const removable = Math.min(expired.length, this.size - this.spec.min);
    if (removable <= 0) return;

    // The least recently used idle containers sit at the front of the stack.
    this.#scaleLog('down', 'idle', removable);
    for (const container of expired.slice(0, removable)) this.discard(container, 'idle');
  }

  /**
   * Probes every idle container. A probed container stays in the idle list with its
   * `idleSince` unchanged, so probes never postpone its idle expiry. Calls skip it until the
   * probe ends.
   */
  async #checkLiveness(): Promise<void> {
    const { settings } = this.#runtime;
    const checks = this.#idle
      .filter((container) => !container.probing)
      .map(async (container) => {
        container.probing = true;
        const failure = await this.#probe(container, settings.livenessTimeoutMs);
        container.probing = false;
        // Removed meanwhile: expired, dropped with its engine, or the pool closed.
        if (container.state !== 'idle') return;

        if (failure !== undefined) {
          this.healthFailed(failure.check, container.engine, container.id, failure.reason);
          this.discard(container, failure.check === 'docker_health' ? 'docker_health' : 'liveness');
          return;
        }

        // A call that arrived during the probe found no free container and waits.
        if (this.#waiters.length > 0) {
          this.#idle = this.#idle.filter((entry) => entry !== container);
          this.#offer(container);
        }
      });
    await Promise.all(checks);
  }

  /** Pings the runner and reads Docker's health status; returns the failure, if any. */
  async #probe(
    container: PooledContainer,
    timeoutMs: number,
  ): Promise<{ check: 'liveness' | 'docker_health'; reason: string } | undefined> {
    try {
      await withEngineTimeout(timeoutMs, () => container.connection.ping());
    } catch (error) {
      return {
        check: 'liveness',
        reason: `no reply to a ping within ${timeoutMs} ms (${(error as Error).message})`,
      };
    }

    if (container.dockerHealth === false) return undefined;
    try {
      const info = await withEngineTimeout(timeoutMs, (abortSignal) =>
        container.container.inspect({ abortSignal }),
      );
      container.dockerHealth = info.State.Health !== undefined;
      if (info.State.Health?.Status === 'unhealthy') {
        const last = info.State.Health.Log?.at(-1)?.Output?.trim();
        return {
          check: 'docker_health',
          reason: `Docker reports it unhealthy${last ? ` (${last})` : ''}`,
        };
      }
    } catch (error) {
      if (isEngineFailure(error)) this.#runtime.engineFailed(container.engine, error);
    }
    return undefined;
  }

  #scaleLog(direction: 'up' | 'down', reason: ScaleReason, containers: number, why?: string): void {
    const { metrics, logger, events } = this.#runtime;
    metrics.scaled(this.spec.name, direction, reason, containers);
    events.emit('scaled', { spec: this.spec.name, direction, reason, containers });
    const verb = direction === 'up' ? 'starting' : 'removing';
    logger.info(
      `container-pool: ${verb} ${containers} container(s) for "${this.spec.name}" (${reason}${why ? `: ${why}` : ''}); size ${this.size}, min ${this.spec.min}, max ${this.spec.max}`,
    );
  }
}

/** Shortens a container id to 12 characters, as `docker ps` shows it. */
export function short(id: string): string {
  return id.slice(0, 12);
}

/** Describes each engine for an `ENGINE_UNAVAILABLE` message: full, or down and why. */
export function describeEngines(engines: readonly Engine[]): string {
  return engines
    .map(
      (engine) =>
        `${engine.name} ${engine.up ? `full (${engine.load}/${engine.maxContainers})` : `down (${oneLine(engine.lastError?.message ?? 'unknown error')})`}`,
    )
    .join('; ');
}

/** Returns the error of the first engine that is down, the cause of an `ENGINE_UNAVAILABLE`. */
export function firstEngineError(engines: readonly Engine[]): Error | undefined {
  return engines.find((engine) => !engine.up)?.lastError;
}

/** Joins the lines of an error message (OpenSSL's end in a newline) into one. */
function oneLine(text: string): string {
  return text.trim().replace(/\s*\n\s*/g, ' ');
}

/** The time limits of one call, as `acquire` needs them. */
export interface CallLimits {
  readonly deadline: number;
  readonly timeoutMs: number;
  readonly signal: AbortSignal | undefined;
}

/** Log wording of each kind of failed health check. */
const HEALTH_FAILURES: Readonly<Record<HealthCheckKind, string>> = {
  readiness: 'failed its readiness probe',
  liveness: 'failed its liveness probe',
  docker_health: 'is unhealthy according to Docker',
  exited: 'lost its runner',
};

export function timeoutError(
  spec: ResolvedSpec,
  timeoutMs: number,
  phase: string,
  containerId?: string,
): ContainerPoolError {
  return new ContainerPoolError(
    'TIMEOUT',
    `Call on spec "${spec.name}" timed out after ${timeoutMs} ms (timeoutMs) while ${phase}.`,
    {
      details: { spec: spec.name, ...(containerId && { containerId }) },
    },
  );
}

export function abortedError(
  spec: ResolvedSpec,
  phase: string,
  containerId?: string,
): ContainerPoolError {
  return new ContainerPoolError(
    'ABORTED',
    `Call on spec "${spec.name}" was aborted while ${phase}.`,
    {
      details: { spec: spec.name, ...(containerId && { containerId }) },
    },
  );
}

export function closedError(spec: ResolvedSpec): ContainerPoolError {
  return new ContainerPoolError(
    'POOL_CLOSED',
    `Container pool closed; call on spec "${spec.name}" was not run.`,
    {
      details: { spec: spec.name },
    },
  );
}
