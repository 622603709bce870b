import type { MetricsRegistry } from '@agentnode/metrics';
import { type AttestationResult, describe, isTeeType, type TeeType } from './attestation-result';
import type { AttestationError } from './errors';
import type { RedisOperation, RedisTierConfig } from './redis-tier';
import type { RemovalCause } from './tee-counters';
import {
  fraction,
  invalidConfig,
  nonNegativeInteger,
  positiveInteger,
  rejectUnknownKeys,
  requireObject,
  resolveClock,
  resolveFunction,
} from './validation';
import { type Verifier, VerifierRegistry } from './verifier';

/** A console-compatible logger. */
export interface Logger {
  debug(message: string, ...details: unknown[]): void;
  info(message: string, ...details: unknown[]): void;
  warn(message: string, ...details: unknown[]): void;
  error(message: string, ...details: unknown[]): void;
}

/** When and how hot entries are re-verified in the background. */
export interface RefreshConfig {
  /**
   * Reads within `windowMs` that make an entry hot.
   * @default 10
   */
  readThreshold?: number;
  /**
   * Length of the read-counting window; an entry stays hot for this long after
   * its last read that reached the threshold.
   * @default 60_000
   */
  windowMs?: number;
  /**
   * Share of an entry's lifetime left when a hot entry is re-verified: 0.2 means
   * at 80% of the way from its verification to its expiry.
   * @default 0.2
   */
  aheadRatio?: number;
  /**
   * Wait after a failed refresh before a hot entry is tried again.
   * @default 5_000
   */
  retryDelayMs?: number;
}

/** Options of `new AttestationCache()`; only `verifiers` is required. */
export interface AttestationCacheConfig {
  /** The verifiers, one per TEE type. Evidence of any other type is rejected. */
  verifiers: VerifierRegistry | readonly Verifier[];
  /**
   * Maximum number of entries, valid and negative together. The bound is exact:
   * the cache never contains more.
   *
   * Note: eviction follows quick-lru's approximation of least recently used, in
   * which reads of an entry already in its recent generation do not reorder it.
   * @default 1_000
   */
  maxEntries?: number;
  /**
   * Maximum time a result stays cached. An entry expires at the earlier of this
   * and the result's own `expiresAt`.
   * @default 3_600_000 (1 hour)
   */
  ttlMs?: number;
  /**
   * `ttlMs` overrides by TEE type, merged over the default, which gives GPU
   * TEE-IO results 30 minutes instead of the one-hour `ttlMs`.
   * @default { 'gpu-tee-io': 1_800_000 }
   */
  ttlMsByTee?: Readonly<Record<string, number>>;
  /**
   * How long a rejection (a verdict against the evidence, see
   * `isEvidenceRejection`) is cached, so that a broken platform does not call the
   * verifier on every request. Verifier errors and timeouts are never cached.
   * 0 turns negative caching off.
   * @default 5_000
   */
  negativeTtlMs?: number;
  /**
   * Maximum time one verifier run may take. The run is then aborted through its
   * signal and fails with `VERIFY_TIMEOUT`.
   * @default 10_000
   */
  verifyTimeoutMs?: number;
  /**
   * Background re-verification of hot entries, or `false` to turn it off.
   * @default { readThreshold: 10, windowMs: 60_000, aheadRatio: 0.2, retryDelayMs: 5_000 }
   */
  refresh?: RefreshConfig | false;
  /**
   * Interval of the sweep that removes expired entries (cause `expired`) even if
   * no lookup reads them again. 0 turns the sweep off; expired entries are then
   * removed when read or evicted.
   * @default 60_000
   */
  sweepIntervalMs?: number;
  /** The optional shared tier in Redis. @default undefined (local only) */
  redis?: RedisTierConfig;
  /**
   * Called once for every entry that leaves the cache, with the cause. Called
   * synchronously; errors it throws are logged and ignored.
   * @default undefined
   */
  onRemove?: (removal: AttestationRemoval) => void;
  /** Registry for the cache's metrics. @default undefined (no metrics) */
  metrics?: MetricsRegistry;
  /** Receives warnings (refresh and Redis failures) and errors. @default undefined (silent) */
  logger?: Logger;
  /**
   * The cache's time source in milliseconds since the Unix epoch. It drives every
   * time decision: entry and negative-entry expiry, the refresh point, the hot-read
   * window, the refresh retry delay, and the check that a fresh result has not
   * expired. Timers run on real time: the sweep, `verifyTimeoutMs`, the Redis
   * timeout and failure backoff, and the refresh timer. Under a clock that does not
   * follow real time, a read of a hot entry at or past its refresh point starts
   * the refresh.
   *
   * Note: a verifier with its own clock (`createNitroVerifier({ clock })`) needs
   * the same clock here, or its results count as expired (`VERIFIER_ERROR`).
   * @default Date.now
   */
  clock?: () => number;
}

/** An entry that left the cache, as passed to `onRemove`. */
export type AttestationRemoval = {
  readonly key: string;
  readonly tee: TeeType;
  readonly cause: RemovalCause;
} & (
  | { readonly kind: 'valid'; readonly result: AttestationResult }
  | { readonly kind: 'negative'; readonly error: AttestationError }
);

/** Events of an attestation cache; refresh events share an `id` from start to end. */
export interface AttestationCacheEvents {
  refreshStart: { readonly id: number; readonly key: string; readonly tee: TeeType };
  refreshed: {
    readonly id: number;
    readonly key: string;
    readonly tee: TeeType;
    readonly result: AttestationResult;
  };
  refreshFailed: {
    readonly id: number;
    readonly key: string;
    readonly tee: TeeType;
    readonly error: AttestationError;
  };
  /**
   * A Redis command failed or timed out, or a stored value was ignored (`error`
   * is then an `AttestationError` with `INVALID_REDIS_VALUE`, and `operation` is
   * `get`). `key` is the cache key, without `keyPrefix`.
   */
  redisError: { readonly operation: RedisOperation; readonly key: string; readonly error: Error };
}

export interface ResolvedRefreshConfig {
  readonly readThreshold: number;
  readonly windowMs: number;
  readonly aheadRatio: number;
  readonly retryDelayMs: number;
}

export interface ResolvedCacheConfig {
  readonly verifiers: VerifierRegistry;
  readonly maxEntries: number;
  readonly ttlMs: number;
  readonly ttlMsByTee: ReadonlyMap<string, number>;
  readonly negativeTtlMs: number;
  readonly verifyTimeoutMs: number;
  readonly refresh: ResolvedRefreshConfig | undefined;
  readonly sweepIntervalMs: number;
  readonly redis: RedisTierConfig | undefined;
  readonly onRemove: ((removal: AttestationRemoval) => void) | undefined;
  readonly metrics: MetricsRegistry | undefined;
  readonly logger: Logger | undefined;
  readonly clock: () => number;
}

const DEFAULT_TTL_MS_BY_TEE: Readonly<Record<string, number>> = Object.freeze({
  'gpu-tee-io': 1_800_000,
});

const CACHE_CONFIG_KEYS: readonly (keyof AttestationCacheConfig)[] = [
  'verifiers',
  'maxEntries',
  'ttlMs',
  'ttlMsByTee',
  'negativeTtlMs',
  'verifyTimeoutMs',
  'refresh',
  'sweepIntervalMs',
  'redis',
  'onRemove',
  'metrics',
  'logger',
  'clock',
];
const REFRESH_CONFIG_KEYS: readonly (keyof RefreshConfig)[] = [
  'readThreshold',
  'windowMs',
  'aheadRatio',
  'retryDelayMs',
];

/** setTimeout fires at once for delays above 2^31 - 1 ms, so longer waits are refused. */
export const MAX_TIMER_MS = 2_147_483_647;

/** Applies defaults and checks every option; throws `INVALID_CONFIG` naming the first bad one. */
export function resolveCacheConfig(config: AttestationCacheConfig): ResolvedCacheConfig {
  requireObject(config, 'The attestation cache config');
  rejectUnknownKeys(config, CACHE_CONFIG_KEYS, 'attestation cache');

  return Object.freeze({
    verifiers: resolveVerifiers(config.verifiers),
    maxEntries: positiveInteger(config.maxEntries ?? 1_000, 'maxEntries'),
    ttlMs: positiveInteger(config.ttlMs ?? 3_600_000, 'ttlMs'),
    ttlMsByTee: resolveTtlByTee({
      ...DEFAULT_TTL_MS_BY_TEE,
      ...requireObject(config.ttlMsByTee ?? {}, 'ttlMsByTee'),
    }),
    negativeTtlMs: nonNegativeInteger(config.negativeTtlMs ?? 5_000, 'negativeTtlMs'),
    verifyTimeoutMs: boundedTimer(config.verifyTimeoutMs ?? 10_000, 'verifyTimeoutMs'),
    refresh: resolveRefresh(config.refresh ?? {}),
    sweepIntervalMs: nonNegativeInteger(config.sweepIntervalMs ?? 60_000, 'sweepIntervalMs'),
    redis: config.redis,
    onRemove: resolveFunction<(removal: AttestationRemoval) => void>(config.onRemove, 'onRemove'),
    metrics: resolveMetrics(config.metrics),
    logger: resolveLogger(config.logger),
    clock: resolveClock(config.clock),
  });
}

function resolveVerifiers(verifiers: unknown): VerifierRegistry {
  if (verifiers instanceof VerifierRegistry) {
    return verifiers;
  }
  if (!Array.isArray(verifiers)) {
    throw invalidConfig(
      `verifiers must be a VerifierRegistry or an array of verifiers, got ${describe(verifiers)}`,
    );
  }

  return new VerifierRegistry(verifiers as Verifier[]);
}

function resolveTtlByTee(ttlMsByTee: unknown): ReadonlyMap<string, number> {
  requireObject(ttlMsByTee, 'ttlMsByTee');

  const resolved = new Map<string, number>();
  for (const [tee, ttlMs] of Object.entries(ttlMsByTee as Record<string, unknown>)) {
    if (!isTeeType(tee)) {
      throw invalidConfig(`ttlMsByTee keys must be TEE type names, got ${describe(tee)}`);
    }
    resolved.set(tee, positiveInteger(ttlMs, `ttlMsByTee.${tee}`));
  }

  return resolved;
}

function resolveRefresh(refresh: RefreshConfig | false): ResolvedRefreshConfig | undefined {
  if (refresh === false) {
    return undefined;
  }
  requireObject(refresh, 'refresh');
  rejectUnknownKeys(refresh, REFRESH_CONFIG_KEYS, 'refresh');

  return Object.freeze({
    readThreshold: positiveInteger(refresh.readThreshold ?? 10, 'refresh.readThreshold'),
    windowMs: boundedTimer(refresh.windowMs ?? 60_000, 'refresh.windowMs'),
    aheadRatio: fraction(refresh.aheadRatio ?? 0.2, 'refresh.aheadRatio'),
    retryDelayMs: boundedTimer(refresh.retryDelayMs ?? 5_000, 'refresh.retryDelayMs'),
  });
}

function resolveMetrics(metrics: unknown): MetricsRegistry | undefined {
  const candidate = metrics as Partial<MetricsRegistry> | undefined;
  if (
    candidate !== undefined &&
    (typeof candidate !== 'object' ||
      candidate === null ||
      typeof candidate.counter !== 'function' ||
      typeof candidate.histogram !== 'function')
  ) {
    throw invalidConfig(
      `metrics must be a MetricsRegistry from @agentnode/metrics, got ${describe(metrics)}`,
    );
  }

  return candidate as MetricsRegistry | undefined;
}

function resolveLogger(logger: unknown): Logger | undefined {
  if (logger === undefined) {
    return undefined;
  }

  const candidate = logger as Partial<Logger> | null;
  const complete =
    typeof candidate === 'object' &&
    candidate !== null &&
    (['debug', 'info', 'warn', 'error'] as const).every(
      (level) => typeof candidate[level] === 'function',
    );
  if (!complete) {
    throw invalidConfig(
      `logger must have debug, info, warn and error methods (console fits), got ${describe(logger)}`,
    );
  }

  return candidate as Logger;
}

function boundedTimer(value: unknown, option: string): number {
  const ms = positiveInteger(value, option);
  if (ms > MAX_TIMER_MS) {
    throw invalidConfig(
      `${option} must be at most ${MAX_TIMER_MS} ms (about 24.8 days), got ${ms}`,
    );
  }

  return ms;
}
