import { hashKey, requireEvidence, requireTeeType } from './attestation-key';
import {
  type AttestationResult,
  describe,
  parseAttestationResult,
  type TeeType,
} from './attestation-result';
import { BoundedLru } from './bounded-lru';
import {
  type AttestationCacheConfig,
  type AttestationCacheEvents,
  type AttestationRemoval,
  type Logger,
  MAX_TIMER_MS,
  type ResolvedCacheConfig,
  type ResolvedRefreshConfig,
  resolveCacheConfig,
} from './cache-config';
import { CacheEntry } from './cache-entry';
import { CacheMetrics, type CacheMetricsSource } from './cache-metrics';
import {
  AttestationError,
  isAttestationError,
  isEvidenceRejection,
  toAttestationError,
} from './errors';
import { type RedisCounters, type RedisOperation, RedisTier } from './redis-tier';
import { type RemovalCause, TeeCounters } from './tee-counters';
import { TypedEvents } from './typed-events';
import type { Verifier } from './verifier';

/** A request to verify: the platform, its evidence, and optionally the key to cache it under. */
export interface AttestationRequest {
  /** The TEE type; a verifier for it must be registered. */
  tee: TeeType;
  /** The raw evidence, for Nitro the COSE_Sign1 attestation document. */
  evidence: Uint8Array;
  /**
   * The cache key. Without it the key is `attestationKey(tee, evidence)`, which
   * hashes the evidence on every call; pass a precomputed key on hot paths. A
   * caller key is trusted to name the evidence: a hit serves the result cached
   * under it without comparing evidence.
   * @default attestationKey(tee, evidence)
   */
  key?: string;
}

/** Per-call options of {@link AttestationCache.get}. */
export interface AttestationGetOptions {
  /**
   * Stops this caller's wait with `ABORTED`. The shared verification goes on for
   * the other callers and still fills the cache.
   */
  signal?: AbortSignal;
}

/** Counts for one TEE type, or for all of them. */
export interface AttestationTeeStats {
  /** hits + misses + negativeHits. */
  readonly lookups: number;
  /** Lookups served a valid cached result, stale hits included. */
  readonly hits: number;
  /** Hits served past the entry's refresh point (and before its expiry). */
  readonly staleHits: number;
  /** Lookups that found no usable entry. */
  readonly misses: number;
  /** Lookups served a cached rejection. */
  readonly negativeHits: number;
  /** hits / lookups, 0 before the first lookup. */
  readonly hitRate: number;
  /** Background re-verifications started. */
  readonly refreshes: number;
  /** Background re-verifications that failed. */
  readonly refreshFailures: number;
  /** Entries removed to respect `maxEntries`. */
  readonly evictions: number;
  /** Entries removed because they expired. */
  readonly expirations: number;
  /** Removals by cause (evictions and expirations included). */
  readonly removals: Readonly<Record<RemovalCause, number>>;
  /** Verifier runs, whatever their outcome. */
  readonly verifications: number;
  /** Verifier runs that rejected the evidence. */
  readonly rejections: number;
  /** Verifier runs that failed without a verdict (error, timeout, bad result). */
  readonly verifierErrors: number;
  /** Entries currently cached. */
  readonly entries: number;
}

/** The counters {@link AttestationCache.stats} returns. */
export interface AttestationCacheStats extends AttestationTeeStats {
  readonly size: number;
  readonly maxEntries: number;
  /** Shared-tier counts, or undefined without a Redis tier. */
  readonly redis: Readonly<RedisCounters> | undefined;
  readonly byTee: Readonly<Record<string, AttestationTeeStats>>;
}

interface Flight {
  readonly tee: TeeType;
  /** The cache's clear() count at the start; a flight from before a clear stores nothing. */
  readonly epoch: number;
  promise: Promise<AttestationResult>;
}

type FlightReason = 'miss' | 'refresh';

const MAX_KEY_LENGTH = 1_024;
const NO_EVIDENCE = new Uint8Array(0);
const noop = () => {};

/**
 * A cache of verified TEE attestations that never serves an unverified or
 * expired result.
 *
 * - Entries live until the earlier of `ttlMs` and the result's own `expiresAt`,
 *   and are never served at or after that time.
 * - Concurrent misses for one key share one verification (single flight).
 * - Rejections are cached briefly (`negativeTtlMs`); verifier errors never are.
 * - Hot entries are re-verified in the background before they expire, while
 *   readers keep getting the current result. A failed refresh keeps that result
 *   only until its expiry and is reported through `refreshFailed`, stats and metrics.
 * - At most `maxEntries` entries, least recently used evicted first, and
 *   `onRemove` called once for every entry that leaves.
 * - An optional Redis tier shares verified results between nodes and is read on
 *   local misses; when Redis fails the cache verifies locally.
 *
 * @example
 * import { AttestationCache, createNitroVerifier } from '@agentnode/attestation-cache';
 * const cache = new AttestationCache({ verifiers: [createNitroVerifier()] });
 * const result = await cache.get({ tee: 'nitro', evidence: documentBytes });
 * console.log(result.measurements.PCR0, new Date(result.expiresAt));
 */
export class AttestationCache {
  readonly #config: ResolvedCacheConfig;
  readonly #refresh: ResolvedRefreshConfig | undefined;
  readonly #clock: () => number;
  readonly #lru: BoundedLru<CacheEntry>;
  readonly #events: TypedEvents<AttestationCacheEvents>;
  readonly #redis: RedisTier | undefined;
  readonly #metrics: CacheMetrics | undefined;
  readonly #metricsSource: CacheMetricsSource;
  readonly #sweepTimer: NodeJS.Timeout | undefined;
  readonly #counters = new Map<string, TeeCounters>();
  readonly #flights = new Map<string, Flight>();
  #epoch = 0;
  #refreshCount = 0;
  #closed = false;

  /** @throws {AttestationError} `INVALID_CONFIG` naming the first invalid option. */
  constructor(config: AttestationCacheConfig) {
    this.#config = resolveCacheConfig(config);
    this.#refresh = this.#config.refresh;
    this.#clock = this.#config.clock;
    this.#lru = new BoundedLru<CacheEntry>(this.#config.maxEntries, (_key, entry) => {
      this.#forget(entry, 'lru');
    });
    this.#events = new TypedEvents((event, error) => {
      this.#log(
        'error',
        `An attestation cache "${event}" listener threw; the error was ignored.`,
        error,
      );
    });
    this.#redis = this.#config.redis
      ? new RedisTier(this.#config.redis, (operation, key, error) => {
          this.#reportRedis(operation, key, error);
        })
      : undefined;

    this.#metricsSource = {
      teeCounters: () => this.#counters.values(),
      redisCounters: () => this.#redis?.counters,
    };
    this.#metrics = this.#config.metrics ? CacheMetrics.of(this.#config.metrics) : undefined;
    this.#metrics?.attach(this.#metricsSource);

    if (this.#config.sweepIntervalMs > 0) {
      this.#sweepTimer = setInterval(() => this.#sweep(), this.#config.sweepIntervalMs);
      this.#sweepTimer.unref();
    }
  }

  /** Number of entries, valid and negative; never more than {@link maxEntries}. */
  get size(): number {
    return this.#lru.size;
  }

  get maxEntries(): number {
    return this.#lru.maxSize;
  }

  /**
   * Adds a listener and returns a function that removes it. Listener errors are
   * logged and never reach the cache.
   *
   * @example
   * import { AttestationCache } from '@agentnode/attestation-cache';
   * const cache = new AttestationCache({ verifiers });
   * const stop = cache.on('refreshFailed', ({ key, error }) => console.warn(key, error.code));
   */
  on<E extends keyof AttestationCacheEvents>(
    event: E,
    listener: (payload: AttestationCacheEvents[E]) => void,
  ): () => void {
    return this.#events.on(event, listener);
  }

  /**
   * Returns the verified result for the request: from the cache when a live
   * entry exists, otherwise from Redis (if configured) or the verifier, shared
   * with every concurrent caller of the same key.
   *
   * @throws {AttestationError} the verifier's rejection (cached for
   * `negativeTtlMs`), `VERIFIER_ERROR`, `VERIFY_TIMEOUT`, `ABORTED`, `UNKNOWN_TEE`,
   * `INVALID_ARGUMENT` or `CACHE_CLOSED`. Never resolves with an unverified result.
   */
  get(
    request: AttestationRequest,
    options: AttestationGetOptions = {},
  ): Promise<AttestationResult> {
    let key: string;
    let verifier: Verifier;
    try {
      ({ key, verifier } = this.#resolveRequest(request));
    } catch (error) {
      return Promise.reject(error);
    }

    const tee = request.tee;
    const now = this.#clock();
    const entry = this.#lookup(key, tee, now);
    if (entry !== undefined) {
      if (entry.result !== undefined) {
        return Promise.resolve(this.#hit(entry, now));
      }
      entry.counters.negativeHits += 1;
      return Promise.reject(entry.error);
    }

    this.#countersFor(tee).misses += 1;
    const existing = this.#flights.get(key);
    const flight =
      existing !== undefined && existing.tee === tee
        ? existing
        : this.#startFlight(key, tee, verifier, copyBytes(request.evidence), 'miss');

    const signal = options.signal;
    return signal ? raceAbort(flight.promise, signal, () => abortedError(signal)) : flight.promise;
  }

  /**
   * Returns the cached valid result for `key` without verifying, or undefined.
   * Counts as a lookup (hit, miss or negative hit) and marks the entry used,
   * like {@link get}, but runs synchronously.
   *
   * @example
   * import { attestationKey } from '@agentnode/attestation-cache';
   * const key = attestationKey('nitro', documentBytes);
   * const cached = cache.getCached('nitro', key) ?? (await cache.get({ tee: 'nitro', evidence: documentBytes, key }));
   */
  getCached(tee: TeeType, key: string): AttestationResult | undefined {
    const now = this.#clock();
    const entry = this.#lru.get(key);
    if (
      entry !== undefined &&
      entry.result !== undefined &&
      entry.tee === tee &&
      now < entry.expiresAt
    ) {
      return this.#hit(entry, now);
    }

    const live = entry === undefined ? undefined : this.#lookup(key, tee, now);
    if (live !== undefined) {
      live.counters.negativeHits += 1;
    } else if (this.#config.verifiers.has(tee)) {
      this.#countersFor(tee).misses += 1;
    }

    return undefined;
  }

  /** Tells whether a live valid result is cached for `key`; counts nothing. */
  has(key: string): boolean {
    const entry = this.#lru.peek(key);
    return entry?.result !== undefined && this.#clock() < entry.expiresAt;
  }

  /**
   * Removes `key` (cause `deleted`), drops any verification in flight for it so
   * its result is not stored, and deletes it from Redis.
   *
   * Note: a failed Redis delete does not reject. It is reported through the
   * `redisError` event (operation `del`), and other nodes can read the shared
   * copy until it expires in Redis.
   * @returns a promise of whether a local entry existed; it rejects with
   * `INVALID_ARGUMENT` when `key` is not a string.
   */
  async delete(key: string): Promise<boolean> {
    if (typeof key !== 'string') {
      throw new AttestationError('INVALID_ARGUMENT', `key must be a string, got ${describe(key)}.`);
    }

    this.#flights.delete(key);
    const entry = this.#lru.peek(key);
    if (entry !== undefined) {
      this.#remove(entry, 'deleted');
    }
    await this.#redis?.delete(key);

    return entry !== undefined;
  }

  /**
   * Removes every local entry (cause `cleared`) and drops verifications in
   * flight from storing their results. Redis is left as it is, since other
   * nodes share it.
   */
  clear(): void {
    const entries = this.#lru.entries();
    this.#lru.clear();
    this.#epoch += 1;
    this.#flights.clear();
    for (const [, entry] of entries) {
      this.#forget(entry, 'cleared');
    }
  }

  /** Returns the counters since the cache was created, in total and by TEE type. */
  stats(): AttestationCacheStats {
    const total = new TeeCounters('all');
    const byTee: Record<string, AttestationTeeStats> = {};
    for (const counters of this.#counters.values()) {
      total.add(counters);
      byTee[counters.tee] = statsOf(counters);
    }

    return {
      ...statsOf(total),
      size: this.#lru.size,
      maxEntries: this.#lru.maxSize,
      redis: this.#redis ? { ...this.#redis.counters } : undefined,
      byTee,
    };
  }

  /**
   * Stops the timers, waits for verifications in flight, then removes every entry
   * (cause `cleared`). Later calls to {@link get} fail with `CACHE_CLOSED`. The
   * Redis client is left open: it belongs to the caller.
   */
  async close(): Promise<void> {
    if (this.#closed) {
      return;
    }

    this.#closed = true;
    clearInterval(this.#sweepTimer);
    await Promise.all([...this.#flights.values()].map((flight) => flight.promise.catch(noop)));
    this.clear();
    this.#metrics?.detach(this.#metricsSource);
  }

  #resolveRequest(request: AttestationRequest): { key: string; verifier: Verifier } {
    if (this.#closed) {
      throw new AttestationError(
        'CACHE_CLOSED',
        'The attestation cache is closed; create a new one.',
      );
    }
    if (typeof request !== 'object' || request === null) {
      throw new AttestationError(
        'INVALID_ARGUMENT',
        `request must be an object, got ${describe(request)}.`,
      );
    }

    const verifiers = this.#config.verifiers;
    if (!verifiers.has(request.tee)) {
      // Registered types are valid names, so only a miss needs the name check.
      requireTeeType(request.tee, 'request.tee', verifiers.types());
    }
    const verifier = verifiers.get(request.tee);
    const { evidence, key } = request;
    requireEvidence(evidence, 'request.evidence');
    if (key === undefined) {
      return { key: hashKey(request.tee, evidence), verifier };
    }
    if (typeof key !== 'string' || key.length === 0 || key.length > MAX_KEY_LENGTH) {
      throw new AttestationError(
        'INVALID_ARGUMENT',
        `request.key must be a string of 1 to ${MAX_KEY_LENGTH} characters, got ${describe(key)}.`,
      );
    }

    return { key, verifier };
  }

  /** Returns the live entry for `key` and `tee`, removing it first if it has expired. */
  #lookup(key: string, tee: TeeType, now: number): CacheEntry | undefined {
    const entry = this.#lru.get(key);
    if (entry === undefined) {
      return undefined;
    }
    if (now >= entry.expiresAt) {
      this.#remove(entry, 'expired');
      return undefined;
    }

    // A caller key reused for another TEE type is a miss; the new verdict replaces it.
    return entry.tee === tee ? entry : undefined;
  }

  #hit(entry: CacheEntry, now: number): AttestationResult {
    const counters = entry.counters;
    counters.hits += 1;
    if (now >= entry.refreshAt) {
      counters.staleHits += 1;
    }
    if (this.#refresh !== undefined) {
      this.#noteRead(entry, now, this.#refresh);
    }

    return entry.result!;
  }

  #startFlight(
    key: string,
    tee: TeeType,
    verifier: Verifier,
    evidence: Uint8Array,
    reason: FlightReason,
  ): Flight {
    const flight: Flight = { tee, epoch: this.#epoch, promise: Promise.resolve() as never };
    this.#flights.set(key, flight);
    flight.promise = this.#settle(key, tee, verifier, evidence, reason, flight).finally(() => {
      if (this.#flights.get(key) === flight) {
        this.#flights.delete(key);
      }
    });
    // Every caller may have stopped waiting (aborted); the rejection is theirs to see, not the process's.
    flight.promise.catch(noop);

    return flight;
  }

  /** Resolves one flight: Redis first on a miss, then the verifier; stores the verdict if still wanted. */
  async #settle(
    key: string,
    tee: TeeType,
    verifier: Verifier,
    evidence: Uint8Array,
    reason: FlightReason,
    flight: Flight,
  ): Promise<AttestationResult> {
    const counters = this.#countersFor(tee);
    if (reason === 'miss' && this.#redis !== undefined) {
      const shared = await this.#readShared(key, tee);
      if (shared !== undefined) {
        if (this.#isCurrent(key, flight)) {
          this.#storeValid(key, tee, evidence, shared.result, shared.expiresAt, counters);
        }
        return shared.result;
      }
    }

    const started = performance.now();
    let result: AttestationResult;
    try {
      result = await this.#runVerifier(verifier, tee, evidence);
    } catch (error) {
      const failure = toAttestationError(error, tee);
      const rejected = isEvidenceRejection(failure);
      if (rejected) {
        counters.rejected += 1;
      } else {
        counters.verifierErrors += 1;
      }
      this.#metrics?.observeVerification(
        tee,
        rejected ? 'rejected' : 'error',
        secondsSince(started),
      );

      // A failed refresh keeps the current valid entry, so only misses cache rejections.
      const negativeTtlMs = this.#config.negativeTtlMs;
      if (rejected && reason === 'miss' && negativeTtlMs > 0 && this.#isCurrent(key, flight)) {
        const expiresAt = this.#clock() + negativeTtlMs;
        this.#store(
          new CacheEntry(key, tee, NO_EVIDENCE, { error: failure }, expiresAt, expiresAt, counters),
        );
      }
      throw failure;
    }

    counters.verified += 1;
    this.#metrics?.observeVerification(tee, 'valid', secondsSince(started));
    if (this.#isCurrent(key, flight)) {
      const entry = this.#storeValid(key, tee, evidence, result, result.expiresAt, counters);
      // Awaited, so that other nodes can read the result once get() resolves. The
      // write never throws and is skipped during the Redis failure backoff.
      await this.#redis?.write(key, result, entry.expiresAt, this.#clock());
    }

    return result;
  }

  /** Runs the verifier under `verifyTimeoutMs` and checks what it returns. */
  async #runVerifier(
    verifier: Verifier,
    tee: TeeType,
    evidence: Uint8Array,
  ): Promise<AttestationResult> {
    const timeoutMs = this.#config.verifyTimeoutMs;
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), timeoutMs);
    timer.unref();

    try {
      const verification = Promise.resolve().then(() =>
        verifier.verify(evidence, { signal: controller.signal }),
      );
      const output = await raceAbort(verification, controller.signal, () => {
        return new AttestationError(
          'VERIFY_TIMEOUT',
          `The ${tee} verifier did not finish within verifyTimeoutMs (${timeoutMs} ms).`,
        );
      });

      const result = parseAttestationResult(output, `the ${tee} verifier`);
      if (result.tee !== tee) {
        throw new AttestationError(
          'VERIFIER_ERROR',
          `The ${tee} verifier returned a result for tee "${result.tee}".`,
        );
      }
      const now = this.#clock();
      if (result.expiresAt <= now) {
        throw new AttestationError(
          'VERIFIER_ERROR',
          `The ${tee} verifier returned a result that expired at ${isoTime(result.expiresAt)}, not after the cache clock (${isoTime(now)}). A verifier with its own clock needs the same clock on the cache.`,
        );
      }

      return result;
    } finally {
      clearTimeout(timer);
    }
  }

  async #readShared(
    key: string,
    tee: TeeType,
  ): Promise<{ result: AttestationResult; expiresAt: number } | undefined> {
    const read = await this.#redis!.read(key, tee, this.#clock());
    if (read.status === 'hit') {
      return read;
    }
    if (read.status === 'malformed') {
      this.#reportRedis('get', key, read.error);
    }

    return undefined;
  }

  #storeValid(
    key: string,
    tee: TeeType,
    evidence: Uint8Array,
    result: AttestationResult,
    expiresAt: number,
    counters: TeeCounters,
  ): CacheEntry {
    // The entry lives until the earlier of the configured TTL and the result's own validity.
    const now = this.#clock();
    const capped = Math.min(
      expiresAt,
      now + (this.#config.ttlMsByTee.get(tee) ?? this.#config.ttlMs),
    );
    const aheadRatio = this.#refresh?.aheadRatio ?? 0;
    const refreshAt = capped - Math.floor((capped - now) * aheadRatio);
    const entry = new CacheEntry(key, tee, evidence, { result }, capped, refreshAt, counters);
    this.#store(entry);

    return entry;
  }

  /** Inserts `entry`, replacing the current entry for its key and evicting down to the bound first. */
  #store(entry: CacheEntry): void {
    const now = this.#clock();
    const current = this.#lru.peek(entry.key);
    if (current !== undefined) {
      entry.inheritReads(current);
      this.#remove(current, 'replaced');
    }

    while (this.#lru.size >= this.#lru.maxSize) {
      const oldest = this.#lru.oldest();
      if (oldest === undefined) {
        break;
      }
      const [, victim] = oldest;
      this.#remove(victim, now >= victim.expiresAt ? 'expired' : 'lru');
    }

    this.#lru.insert(entry.key, entry);
    entry.counters.entries += 1;

    // The get that caused the verification is the new entry's first read.
    if (current === undefined && this.#refresh !== undefined) {
      this.#noteRead(entry, now, this.#refresh);
    }
  }

  #remove(entry: CacheEntry, cause: RemovalCause): void {
    if (this.#lru.peek(entry.key) !== entry) {
      return;
    }

    this.#lru.delete(entry.key);
    this.#forget(entry, cause);
  }

  /** Books the removal of an entry already out of the LRU and calls `onRemove` for it. */
  #forget(entry: CacheEntry, cause: RemovalCause): void {
    clearTimeout(entry.refreshTimer);
    entry.refreshTimer = undefined;
    entry.counters.entries -= 1;
    entry.counters.removals[cause] += 1;

    const onRemove = this.#config.onRemove;
    if (onRemove === undefined) {
      return;
    }
    const removal: AttestationRemoval =
      entry.result !== undefined
        ? { key: entry.key, tee: entry.tee, cause, kind: 'valid', result: entry.result }
        : { key: entry.key, tee: entry.tee, cause, kind: 'negative', error: entry.error! };
    try {
      onRemove(removal);
    } catch (error) {
      this.#log(
        'error',
        `onRemove threw for attestation ${entry.key} (${cause}); the error was ignored.`,
        error,
      );
    }
  }

  #noteRead(entry: CacheEntry, now: number, refresh: ResolvedRefreshConfig): void {
    if (now - entry.windowStart >= refresh.windowMs) {
      entry.windowStart = now;
      entry.windowReads = 0;
    }
    entry.windowReads += 1;
    if (entry.windowReads >= refresh.readThreshold) {
      entry.hotAt = now;
    }

    if (entry.refreshing || now - entry.hotAt > refresh.windowMs) {
      return;
    }
    if (now >= Math.max(entry.refreshAt, entry.retryAt)) {
      // Due on the cache clock. The timer runs on real time and cannot follow an
      // injected clock, so a read past the refresh point starts the refresh itself.
      clearTimeout(entry.refreshTimer);
      entry.refreshTimer = undefined;
      this.#refreshIfHot(entry);
    } else if (entry.refreshTimer === undefined) {
      this.#scheduleRefresh(entry, now);
    }
  }

  #scheduleRefresh(entry: CacheEntry, now: number): void {
    const due = Math.max(entry.refreshAt, entry.retryAt);
    if (due >= entry.expiresAt) {
      return;
    }

    const delayMs = Math.min(Math.max(0, due - now), MAX_TIMER_MS);
    entry.refreshTimer = setTimeout(() => {
      entry.refreshTimer = undefined;
      this.#refreshIfHot(entry);
    }, delayMs);
    entry.refreshTimer.unref();
  }

  #refreshIfHot(entry: CacheEntry): void {
    const refresh = this.#refresh;
    if (refresh === undefined || this.#closed || this.#lru.peek(entry.key) !== entry) {
      return;
    }

    const now = this.#clock();
    if (now >= entry.expiresAt || now - entry.hotAt > refresh.windowMs) {
      // Expired, or cooled down: a later hot read schedules again.
      return;
    }
    if (now < Math.max(entry.refreshAt, entry.retryAt)) {
      this.#scheduleRefresh(entry, now);
      return;
    }
    if (this.#flights.has(entry.key)) {
      return;
    }

    void this.#runRefresh(entry, refresh);
  }

  /** Re-verifies a hot entry; never rejects, failures become events, stats and a log line. */
  async #runRefresh(entry: CacheEntry, refresh: ResolvedRefreshConfig): Promise<void> {
    const { key, tee, counters } = entry;
    const id = ++this.#refreshCount;
    entry.refreshing = true;
    counters.refreshes += 1;
    this.#events.emit('refreshStart', { id, key, tee });

    try {
      const verifier = this.#config.verifiers.get(tee);
      const result = await this.#startFlight(key, tee, verifier, entry.evidence, 'refresh').promise;
      this.#events.emit('refreshed', { id, key, tee, result });
    } catch (cause) {
      const error = toAttestationError(cause, tee);
      counters.refreshFailures += 1;
      entry.retryAt = this.#clock() + refresh.retryDelayMs;
      this.#log(
        'warn',
        `Refreshing attestation ${key} (${tee}) failed; the cached result is served until it expires at ${new Date(entry.expiresAt).toISOString()}.`,
        error,
      );
      this.#events.emit('refreshFailed', { id, key, tee, error });
    } finally {
      entry.refreshing = false;
    }

    // After a failure the entry is still cached: try again at retryAt if it stays hot.
    if (this.#lru.peek(key) === entry && entry.refreshTimer === undefined) {
      this.#scheduleRefresh(entry, this.#clock());
    }
  }

  #sweep(): void {
    const now = this.#clock();
    for (const [, entry] of this.#lru.entries()) {
      if (now >= entry.expiresAt) {
        this.#remove(entry, 'expired');
      }
    }
  }

  #isCurrent(key: string, flight: Flight): boolean {
    return !this.#closed && flight.epoch === this.#epoch && this.#flights.get(key) === flight;
  }

  #countersFor(tee: TeeType): TeeCounters {
    let counters = this.#counters.get(tee);
    if (counters === undefined) {
      counters = new TeeCounters(tee);
      this.#counters.set(tee, counters);
    }

    return counters;
  }

  #reportRedis(operation: RedisOperation, key: string, error: Error): void {
    this.#log('warn', redisFailureMessage(operation, key, error), error);
    this.#events.emit('redisError', { operation, key, error });
  }

  #log(level: keyof Logger, message: string, detail: unknown): void {
    try {
      this.#config.logger?.[level](message, detail);
    } catch {
      // A broken logger must not break the cache.
    }
  }
}

function statsOf(counters: TeeCounters): AttestationTeeStats {
  const lookups = counters.lookups;
  return {
    lookups,
    hits: counters.hits,
    staleHits: counters.staleHits,
    misses: counters.misses,
    negativeHits: counters.negativeHits,
    hitRate: lookups === 0 ? 0 : counters.hits / lookups,
    refreshes: counters.refreshes,
    refreshFailures: counters.refreshFailures,
    evictions: counters.removals.lru,
    expirations: counters.removals.expired,
    removals: { ...counters.removals },
    verifications: counters.verified + counters.rejected + counters.verifierErrors,
    rejections: counters.rejected,
    verifierErrors: counters.verifierErrors,
    entries: counters.entries,
  };
}

/** Says what failed in Redis and what the cache does about it. */
function redisFailureMessage(operation: RedisOperation, key: string, error: Error): string {
  if (isAttestationError(error, 'INVALID_REDIS_VALUE')) {
    return `${error.message} The cache verifies it locally and replaces the value.`;
  }

  switch (operation) {
    case 'get':
      return `Redis GET of attestation ${key} failed, so the cache verifies it locally.`;
    case 'set':
      return `Redis SET of attestation ${key} failed, so other nodes cannot read this result and verify it themselves.`;
    case 'del':
      return `Redis DEL of attestation ${key} failed, so other nodes can still read its shared copy until the copy expires in Redis.`;
  }
}

/** Settles with `promise`, or rejects with `makeError()` as soon as `signal` aborts. */
function raceAbort<T>(
  promise: Promise<T>,
  signal: AbortSignal,
  makeError: () => Error,
): Promise<T> {
  if (signal.aborted) {
    promise.catch(noop);
    return Promise.reject(makeError());
  }

  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(makeError());
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

function abortedError(signal: AbortSignal): AttestationError {
  return new AttestationError(
    'ABORTED',
    'Stopped waiting for the attestation because the caller aborted.',
    {
      cause: signal.reason,
    },
  );
}

/** Copies `bytes`; `Buffer.prototype.slice` would return a view, so a plain Uint8Array is built. */
function copyBytes(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes);
}

/** Formats a time in ms for a message, without throwing on values Date cannot represent. */
function isoTime(ms: number): string {
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? String(ms) : date.toISOString();
}

function secondsSince(startedMs: number): number {
  return (performance.now() - startedMs) / 1_000;
}
