import type { Counter, Histogram, MetricsRegistry } from '@agentnode/metrics';

/** Container states counted by `agentnode_container_pool_containers`. */
export type ContainerState = 'starting' | 'idle' | 'busy' | 'stopping';

/** Kind of health check that failed. */
export type HealthCheckKind = 'readiness' | 'liveness' | 'docker_health' | 'exited';

/** Reason the pool changed size. */
export type ScaleReason = 'demand' | 'min' | 'idle' | 'replace';

/** A source of current pool sizes, read on every scrape. */
export interface PoolStateSource {
  sizes(): Iterable<{ spec: string; state: ContainerState; count: number; waiting: number }>;
  engines(): Iterable<{ engine: string; up: boolean; containers: number }>;
}

const START_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30];
const CALL_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5, 30];

/** The pool's metrics; every method is a no-op when the pool has no registry. */
export class PoolMetrics {
  readonly #startSeconds: Histogram<'spec' | 'engine' | 'outcome'> | undefined;
  readonly #callSeconds: Histogram<'spec' | 'mode' | 'outcome'> | undefined;
  readonly #healthFailures: Counter<'spec' | 'check'> | undefined;
  readonly #scaleEvents: Counter<'spec' | 'direction' | 'reason'> | undefined;
  readonly #acquireWaits: Counter<'spec'> | undefined;
  readonly #coldStarts: Counter<'spec'> | undefined;

  constructor(registry: MetricsRegistry | undefined, state: PoolStateSource) {
    if (registry === undefined) return;

    this.#startSeconds = registry.histogram({
      name: 'agentnode_container_start_duration_seconds',
      help: 'Time from create request to the runner replying to its readiness ping (cold start).',
      labelNames: ['spec', 'engine', 'outcome'],
      buckets: START_BUCKETS,
    });
    this.#callSeconds = registry.histogram({
      name: 'agentnode_container_call_duration_seconds',
      help: 'Duration of pool.run calls, waiting for a container included.',
      labelNames: ['spec', 'mode', 'outcome'],
      buckets: CALL_BUCKETS,
    });
    this.#healthFailures = registry.counter({
      name: 'agentnode_container_health_failures_total',
      help: 'Containers removed because a health check failed or the runner exited.',
      labelNames: ['spec', 'check'],
    });
    this.#scaleEvents = registry.counter({
      name: 'agentnode_container_scale_events_total',
      help: 'Containers started or removed by a scaling decision.',
      labelNames: ['spec', 'direction', 'reason'],
    });
    this.#acquireWaits = registry.counter({
      name: 'agentnode_container_acquire_waits_total',
      help: 'Calls that found no idle container and had to wait.',
      labelNames: ['spec'],
    });
    this.#coldStarts = registry.counter({
      name: 'agentnode_container_cold_starts_total',
      help: 'Calls that had to start a container because none was idle.',
      labelNames: ['spec'],
    });
    registry.gauge({
      name: 'agentnode_container_pool_containers',
      help: 'Pool containers by state.',
      labelNames: ['spec', 'state'],
      collect() {
        this.reset();
        for (const size of state.sizes())
          this.set({ spec: size.spec, state: size.state }, size.count);
      },
    });
    registry.gauge({
      name: 'agentnode_container_acquire_waiting',
      help: 'Calls waiting for a container right now.',
      labelNames: ['spec'],
      collect() {
        this.reset();
        for (const size of state.sizes())
          if (size.state === 'idle') this.set({ spec: size.spec }, size.waiting);
      },
    });
    registry.gauge({
      name: 'agentnode_container_engine_up',
      help: 'Whether each Docker engine is in rotation (1) or out of it (0).',
      labelNames: ['engine'],
      collect() {
        this.reset();
        for (const engine of state.engines())
          this.set({ engine: engine.engine }, engine.up ? 1 : 0);
      },
    });
  }

  /** Records a cold start, from create request to ready, or its failure. */
  containerStarted(spec: string, engine: string, outcome: 'ok' | 'error', seconds: number): void {
    this.#startSeconds?.observe({ spec, engine, outcome }, seconds);
  }

  /** Records a finished call. `outcome` is `ok` or a lower-case error code. */
  callFinished(spec: string, mode: 'warm' | 'one-shot', outcome: string, seconds: number): void {
    this.#callSeconds?.observe({ spec, mode, outcome }, seconds);
  }

  healthFailed(spec: string, check: HealthCheckKind): void {
    this.#healthFailures?.inc({ spec, check });
  }

  scaled(spec: string, direction: 'up' | 'down', reason: ScaleReason, containers = 1): void {
    this.#scaleEvents?.inc({ spec, direction, reason }, containers);
  }

  acquireWaited(spec: string): void {
    this.#acquireWaits?.inc({ spec });
  }

  coldStarted(spec: string): void {
    this.#coldStarts?.inc({ spec });
  }
}
