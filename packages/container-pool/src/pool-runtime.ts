import type { LaunchSettings } from './container-launcher';
import type { Engine } from './engine';
import type { Logger } from './logger';
import type { PoolEvents } from './pool-events';
import type { PoolMetrics } from './pool-metrics';
import type { ResolvedSpec } from './spec';

/** Settings shared by every spec pool of one container pool. */
export interface RuntimeSettings extends LaunchSettings {
  readonly livenessIntervalMs: number;
  readonly livenessTimeoutMs: number;
  readonly scaleWindowMs: number;
  readonly scaleThreshold: number;
  readonly scaleIncrement: number;
}

/** Services a spec pool and a one-shot call use from the container pool that owns them. */
export interface PoolRuntime {
  readonly engines: readonly Engine[];
  readonly settings: RuntimeSettings;
  readonly metrics: PoolMetrics;
  readonly events: PoolEvents;
  readonly logger: Logger;
  readonly closed: boolean;
  /** Labels for a new container: pool, node, spec, owner. */
  labelsFor(spec: ResolvedSpec, mode: 'warm' | 'one-shot'): Record<string, string>;
  /** Records a container the engine created, so `close()` can remove it. */
  track(id: string, engine: Engine): void;
  /** Forgets a container that removed itself (auto-remove). */
  forget(id: string): void;
  /** Registers a container launch that `close()` must wait for; returns `launch`. */
  trackLaunch<T>(launch: Promise<T>): Promise<T>;
  /** Removes a container and stops tracking it. Failures are logged, never thrown. */
  remove(id: string, engine: Engine): Promise<void>;
  /** Takes an engine out of rotation after `error`; its warm containers are dropped. */
  engineFailed(engine: Engine, error: unknown): void;
  /** Puts an engine back in rotation after a request to it succeeded. */
  engineResponded(engine: Engine): void;
}
