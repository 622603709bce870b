import type { Logger } from './logger';
import type { HealthCheckKind, ScaleReason } from './pool-metrics';

/** Reason a warm container was removed. */
export type RemovalReason =
  | 'timeout'
  | 'aborted'
  | 'exited'
  | 'liveness'
  | 'docker_health'
  | 'engine'
  | 'idle'
  | 'closed';

/**
 * Events of a pool, by name, with their payloads. A warm container's id ties its
 * `containerStarted` to its `containerRemoved`; one-shot containers emit neither.
 */
export interface ContainerPoolEvents {
  /** A warm container passed its readiness probe. */
  readonly containerStarted: {
    readonly spec: string;
    readonly engine: string;
    readonly containerId: string;
    readonly durationMs: number;
  };
  /** A warm container is being removed. */
  readonly containerRemoved: {
    readonly spec: string;
    readonly engine: string;
    readonly containerId: string;
    readonly reason: RemovalReason;
  };
  /** The pool decided to start or remove containers. */
  readonly scaled: {
    readonly spec: string;
    readonly direction: 'up' | 'down';
    readonly reason: ScaleReason;
    readonly containers: number;
  };
  /** A container failed a health check or its runner exited; it is removed. */
  readonly healthCheckFailed: {
    readonly spec: string;
    readonly engine: string;
    readonly containerId: string | undefined;
    readonly check: HealthCheckKind;
    readonly reason: string;
  };
  /** An engine stopped responding and left the rotation. */
  readonly engineDown: { readonly engine: string; readonly error: Error };
  /** An engine responded again and rejoined the rotation. */
  readonly engineUp: { readonly engine: string };
}

/** Listener of one pool event. */
export type ContainerPoolListener<E extends keyof ContainerPoolEvents> = (
  event: ContainerPoolEvents[E],
) => void;

/**
 * A typed event emitter for one pool. A listener that throws is logged and does not stop
 * the other listeners or the pool.
 */
export class PoolEvents {
  readonly #logger: Logger;
  readonly #listeners = new Map<keyof ContainerPoolEvents, Set<(event: never) => void>>();

  constructor(logger: Logger) {
    this.#logger = logger;
  }

  /** Adds `listener` for `name`; returns the function that removes it. */
  on<E extends keyof ContainerPoolEvents>(name: E, listener: ContainerPoolListener<E>): () => void {
    let listeners = this.#listeners.get(name);
    if (listeners === undefined) {
      listeners = new Set();
      this.#listeners.set(name, listeners);
    }
    listeners.add(listener);
    return () => {
      listeners.delete(listener);
    };
  }

  /** Calls every listener of `name` with `event`. */
  emit<E extends keyof ContainerPoolEvents>(name: E, event: ContainerPoolEvents[E]): void {
    const listeners = this.#listeners.get(name);
    if (listeners === undefined) return;

    for (const listener of listeners) {
      try {
        (listener as ContainerPoolListener<E>)(event);
      } catch (error) {
        this.#logger.error(
          `container-pool: a "${name}" listener threw: ${(error as Error).message}`,
        );
      }
    }
  }
}
