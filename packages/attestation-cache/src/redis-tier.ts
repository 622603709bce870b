import { createHmac, timingSafeEqual } from 'node:crypto';
import {
  type AttestationResult,
  describe,
  readAttestationResult,
  type TeeType,
} from './attestation-result';
import { AttestationError } from './errors';
import {
  invalidConfig,
  nonNegativeInteger,
  positiveInteger,
  rejectUnknownKeys,
  requireObject,
} from './validation';

/**
 * The three Redis commands the tier sends. An ioredis `Redis` or `Cluster`
 * instance fits as it is.
 */
export interface RedisClientLike {
  get(key: string): Promise<string | null>;
  set(key: string, value: string, expiryMode: 'PX', milliseconds: number): Promise<unknown>;
  del(key: string): Promise<number>;
}

/** The optional shared tier of an attestation cache. */
export interface RedisTierConfig {
  /**
   * The client to use; the cache never connects or closes it. For an ioredis
   * client, `enableOfflineQueue: false` makes commands fail at once while Redis is
   * down instead of waiting for `timeoutMs`.
   */
  client: RedisClientLike;
  /**
   * Prepended to every cache key to form the Redis key.
   * @default 'agentnode:attestation:'
   */
  keyPrefix?: string;
  /**
   * How long one Redis command may take before the tier counts a failure and
   * the cache goes on without Redis.
   * @default 200
   */
  timeoutMs?: number;
  /**
   * After a failure, Redis is skipped for this long so that a Redis outage does
   * not add `timeoutMs` to every miss. 0 retries Redis on every miss.
   *
   * Note: the backoff runs on real (monotonic) time, not on the cache's `clock`,
   * so a fixed or hand-moved clock neither ends it early nor holds it forever.
   * @default 1_000
   */
  failureBackoffMs?: number;
  /**
   * Secret for HMAC-SHA256 authentication of stored values, at least 16
   * characters or bytes. With it, a value written without the same key (by anyone
   * who can write to Redis) is rejected as malformed. Every node sharing the tier
   * needs the same secret. The option present but `undefined`, as from an unset
   * environment variable, is rejected with `INVALID_CONFIG`: leave it out to run
   * without authentication.
   * @default undefined (values are trusted as far as their shape and expiry check out)
   */
  hmacKey?: string | Uint8Array;
}

/** The outcome of a read from the tier. */
export type RedisRead =
  | { readonly status: 'hit'; readonly result: AttestationResult; readonly expiresAt: number }
  | { readonly status: 'miss' | 'skipped' }
  | { readonly status: 'error'; readonly error: Error }
  | { readonly status: 'malformed'; readonly error: AttestationError };

/** Counts of Redis outcomes, read by stats and metrics. */
export interface RedisCounters {
  hits: number;
  misses: number;
  writes: number;
  deletes: number;
  errors: number;
  malformed: number;
  skipped: number;
}

const FORMAT_VERSION = 1;
const MAC_PREFIX = 'hmac-sha256:';
const MAC_HEX_LENGTH = 64;
/** A stored result is a few kilobytes at most; anything far larger is not parsed. */
const MAX_VALUE_LENGTH = 65_536;

/**
 * Reads and writes verified results in Redis as JSON, each with a Redis expiry
 * equal to its remaining cache lifetime. Every read is checked for shape, key,
 * TEE type, expiry and (with `hmacKey`) authenticity before use, and every
 * command is bounded by `timeoutMs`. The tier never throws: failures come back
 * as a status, and the cache verifies locally instead.
 */
export class RedisTier {
  readonly counters: RedisCounters = {
    hits: 0,
    misses: 0,
    writes: 0,
    deletes: 0,
    errors: 0,
    malformed: 0,
    skipped: 0,
  };
  readonly #client: RedisClientLike;
  readonly #keyPrefix: string;
  readonly #timeoutMs: number;
  readonly #failureBackoffMs: number;
  readonly #hmacKey: Buffer | undefined;
  readonly #onError: (operation: RedisOperation, key: string, error: Error) => void;
  /** End of the failure backoff, in `performance.now()` milliseconds. */
  #skipUntil = Number.NEGATIVE_INFINITY;

  constructor(
    config: RedisTierConfig,
    onError: (operation: RedisOperation, key: string, error: Error) => void,
  ) {
    requireObject(config, 'redis');
    rejectUnknownKeys(config, REDIS_CONFIG_KEYS, 'redis');
    const client = config.client as Partial<RedisClientLike> | undefined;
    if (
      typeof client !== 'object' ||
      client === null ||
      typeof client.get !== 'function' ||
      typeof client.set !== 'function' ||
      typeof client.del !== 'function'
    ) {
      throw invalidConfig(
        `redis.client must have get, set and del methods (an ioredis client), got ${describe(client)}`,
      );
    }
    const keyPrefix = config.keyPrefix ?? 'agentnode:attestation:';
    if (typeof keyPrefix !== 'string') {
      throw invalidConfig(`redis.keyPrefix must be a string, got ${describe(keyPrefix)}`);
    }
    const hmacKey = resolveHmacKey(config);

    this.#client = config.client;
    this.#keyPrefix = keyPrefix;
    this.#timeoutMs = positiveInteger(config.timeoutMs ?? 200, 'redis.timeoutMs');
    this.#failureBackoffMs = nonNegativeInteger(
      config.failureBackoffMs ?? 1_000,
      'redis.failureBackoffMs',
    );
    this.#hmacKey = hmacKey;
    this.#onError = onError;
  }

  /** Reads the result stored for `key`, checked as described on the class. */
  async read(key: string, tee: TeeType, now: number): Promise<RedisRead> {
    if (this.#inBackoff()) {
      this.counters.skipped += 1;
      return { status: 'skipped' };
    }

    let value: string | null;
    try {
      value = await this.#bounded('get', key, () => this.#client.get(this.#keyPrefix + key));
    } catch (error) {
      return { status: 'error', error: error as Error };
    }

    if (value === null) {
      this.counters.misses += 1;
      return { status: 'miss' };
    }

    try {
      const stored = this.#decode(value, key, tee, now);
      this.counters.hits += 1;
      return { status: 'hit', ...stored };
    } catch (error) {
      this.counters.malformed += 1;
      return { status: 'malformed', error: error as AttestationError };
    }
  }

  /** Stores `result` for `key` until `expiresAt`; failures are counted and reported, never thrown. */
  async write(
    key: string,
    result: AttestationResult,
    expiresAt: number,
    now: number,
  ): Promise<void> {
    const ttlMs = expiresAt - now;
    if (ttlMs <= 0) {
      return;
    }
    if (this.#inBackoff()) {
      this.counters.skipped += 1;
      return;
    }

    try {
      const body = JSON.stringify({ v: FORMAT_VERSION, key, tee: result.tee, expiresAt, result });
      const value = this.#hmacKey ? `${MAC_PREFIX}${this.#mac(body)}:${body}` : body;
      await this.#bounded('set', key, () =>
        this.#client.set(this.#keyPrefix + key, value, 'PX', ttlMs),
      );
      this.counters.writes += 1;
    } catch {
      // Command failures are counted and reported by #bounded; a result always serializes.
    }
  }

  /** Deletes `key` from Redis; failures are counted and reported, never thrown. */
  async delete(key: string): Promise<void> {
    try {
      await this.#bounded('del', key, () => this.#client.del(this.#keyPrefix + key));
      this.counters.deletes += 1;
    } catch {
      // Counted and reported by #bounded.
    }
  }

  /** Runs one command under the timeout; on failure counts it, starts the backoff and rethrows. */
  async #bounded<T>(operation: RedisOperation, key: string, command: () => Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        reject(
          new Error(`Redis ${operation.toUpperCase()} timed out after ${this.#timeoutMs} ms.`),
        );
      }, this.#timeoutMs);
      timer.unref();
    });

    const pending = Promise.resolve().then(command);
    // The command may settle after the timeout won; its outcome is then ignored.
    pending.catch(() => {});
    try {
      return await Promise.race([pending, timeout]);
    } catch (cause) {
      const error = cause instanceof Error ? cause : new Error(String(cause));
      this.counters.errors += 1;
      this.#skipUntil = performance.now() + this.#failureBackoffMs;
      this.#onError(operation, key, error);
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  #inBackoff(): boolean {
    return performance.now() < this.#skipUntil;
  }

  #decode(
    value: string,
    key: string,
    tee: TeeType,
    now: number,
  ): { result: AttestationResult; expiresAt: number } {
    if (value.length > MAX_VALUE_LENGTH) {
      throw malformedValue(key, `it has ${value.length} characters, more than ${MAX_VALUE_LENGTH}`);
    }
    const body = this.#hmacKey ? this.#authenticate(value, key) : value;

    let stored: unknown;
    try {
      stored = JSON.parse(body);
    } catch (error) {
      throw malformedValue(key, 'it is not JSON', error);
    }

    if (typeof stored !== 'object' || stored === null) {
      throw malformedValue(key, 'it is not an object');
    }
    const record = stored as Record<string, unknown>;
    if (record.v !== FORMAT_VERSION) {
      throw malformedValue(
        key,
        `its format version is ${describe(record.v)}, expected ${FORMAT_VERSION}`,
      );
    }
    if (record.key !== key || record.tee !== tee) {
      throw malformedValue(
        key,
        `it names key ${describe(record.key)} and tee ${describe(record.tee)}, expected key ${describe(key)} and tee ${describe(tee)}`,
      );
    }
    if (typeof record.expiresAt !== 'number' || !Number.isSafeInteger(record.expiresAt)) {
      throw malformedValue(key, `its expiresAt is ${describe(record.expiresAt)}`);
    }

    const result = readAttestationResult(record.result, (rule) =>
      malformedValue(key, `its result is invalid: ${rule}`),
    );
    if (result.tee !== tee) {
      throw malformedValue(key, `its result is for tee ${describe(result.tee)}`);
    }

    const expiresAt = Math.min(record.expiresAt, result.expiresAt);
    if (expiresAt <= now) {
      throw malformedValue(key, `it expired at ${new Date(expiresAt).toISOString()}`);
    }

    return { result, expiresAt };
  }

  #authenticate(value: string, key: string): string {
    const macEnd = MAC_PREFIX.length + MAC_HEX_LENGTH;
    if (!value.startsWith(MAC_PREFIX) || value[macEnd] !== ':') {
      throw malformedValue(key, 'it has no HMAC and redis.hmacKey is set');
    }

    const body = value.slice(macEnd + 1);
    const stored = Buffer.from(value.slice(MAC_PREFIX.length, macEnd), 'hex');
    const expected = Buffer.from(this.#mac(body), 'hex');
    if (stored.length !== expected.length || !timingSafeEqual(stored, expected)) {
      throw malformedValue(key, 'its HMAC does not match redis.hmacKey');
    }

    return body;
  }

  #mac(body: string): string {
    return createHmac('sha256', this.#hmacKey!).update(body).digest('hex');
  }
}

const REDIS_CONFIG_KEYS: readonly (keyof RedisTierConfig)[] = [
  'client',
  'keyPrefix',
  'timeoutMs',
  'failureBackoffMs',
  'hmacKey',
];
const MIN_HMAC_KEY_LENGTH = 16;

/**
 * Checks `hmacKey`. A key that is present but undefined is rejected: it usually
 * comes from an unset environment variable, and silently running without
 * authentication would let anyone who can write to Redis plant results.
 */
function resolveHmacKey(config: RedisTierConfig): Buffer | undefined {
  if (!('hmacKey' in config)) {
    return undefined;
  }

  const hmacKey: unknown = config.hmacKey;
  if (hmacKey === undefined) {
    throw invalidConfig(
      'redis.hmacKey is present but undefined, which would turn value authentication off. Pass the secret (an unset environment variable reads as undefined), or leave the option out to run without authentication',
    );
  }
  if (typeof hmacKey !== 'string' && !(hmacKey instanceof Uint8Array)) {
    throw invalidConfig(`redis.hmacKey must be a string or a Uint8Array, got ${describe(hmacKey)}`);
  }

  const unit = typeof hmacKey === 'string' ? 'characters' : 'bytes';
  if (hmacKey.length < MIN_HMAC_KEY_LENGTH) {
    throw invalidConfig(
      `redis.hmacKey must have at least ${MIN_HMAC_KEY_LENGTH} ${unit}, got ${hmacKey.length} ${unit}`,
    );
  }

  return Buffer.from(hmacKey);
}

/** A Redis command the tier sends. */
export type RedisOperation = 'get' | 'set' | 'del';

function malformedValue(key: string, reason: string, cause?: unknown): AttestationError {
  return new AttestationError(
    'INVALID_REDIS_VALUE',
    `Ignored the Redis value for ${key} because ${reason}.`,
    {
      cause,
    },
  );
}
