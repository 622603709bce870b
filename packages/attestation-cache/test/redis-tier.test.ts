import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import {
  AttestationCache,
  type AttestationCacheConfig,
  AttestationError,
  isAttestationError,
} from '@agentnode/attestation-cache';
import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { acceptingVerifier, delay, evidenceOf, ManualClock, validResult } from './helpers';

const REDIS_URL = 'redis://127.0.0.1:6379';
const HOUR = 3_600_000;

/**
 * Tells whether Redis responds on 127.0.0.1:6379. Without it the suite skips,
 * unless `AGENTNODE_REQUIRE_SERVICES=1`, where a missing Redis fails the run.
 */
async function redisAvailable(): Promise<boolean> {
  const probe = new Redis(REDIS_URL, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  probe.on('error', () => {});
  try {
    await probe.connect();
    await probe.ping();
    return true;
  } catch (error) {
    if (process.env.AGENTNODE_REQUIRE_SERVICES === '1') {
      throw new Error(
        `AGENTNODE_REQUIRE_SERVICES=1 but Redis does not respond on ${REDIS_URL}: ${(error as Error).message}`,
      );
    }
    console.warn(
      `Skipping Redis tier tests: Redis does not respond on ${REDIS_URL} (${(error as Error).message}).`,
    );
    return false;
  } finally {
    probe.disconnect();
  }
}

/** Finds a port on 127.0.0.1 where nothing listens by binding one and releasing it. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const available = await redisAvailable();

describe.runIf(available)('AttestationCache Redis tier', () => {
  // One prefix per run, so parallel runs and leftovers never collide; afterAll deletes it.
  const prefix = `agentnode-test:attestation:${randomUUID()}:`;
  const redis = new Redis(REDIS_URL);
  const caches: AttestationCache[] = [];

  afterEach(async () => {
    await Promise.all(caches.splice(0).map((cache) => cache.close()));
  });

  afterAll(async () => {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) {
      await redis.del(...keys);
    }
    redis.disconnect();
  });

  function node(clock: ManualClock, config: Partial<AttestationCacheConfig> = {}) {
    const verifier = acceptingVerifier('nitro', clock);
    const cache = new AttestationCache({
      verifiers: [verifier],
      clock: clock.read,
      refresh: false,
      redis: { client: redis, keyPrefix: prefix },
      ...config,
    });
    caches.push(cache);

    return { cache, verifier };
  }

  it('serves a result verified by one node to another', async () => {
    const clock = new ManualClock(Date.now());
    const first = node(clock);
    const second = node(clock);
    const request = { tee: 'nitro', evidence: evidenceOf('shared'), key: `shared-${randomUUID()}` };

    const verified = await first.cache.get(request);
    const shared = await second.cache.get(request);

    expect(first.verifier.calls).toBe(1);
    expect(second.verifier.calls).toBe(0);
    expect(shared).toEqual(verified);
    expect(second.cache.stats().redis).toMatchObject({ hits: 1, errors: 0, malformed: 0 });
  });

  it('stores an entry with its remaining lifetime as the Redis expiry', async () => {
    const clock = new ManualClock(Date.now());
    const { cache } = node(clock, { ttlMs: 60_000 });
    const key = `ttl-${randomUUID()}`;

    await cache.get({ tee: 'nitro', evidence: evidenceOf('a'), key });
    const ttl = await redis.pttl(prefix + key);
    const stored = JSON.parse((await redis.get(prefix + key))!);

    expect(ttl).toBeGreaterThan(50_000);
    expect(ttl).toBeLessThanOrEqual(60_000);
    expect(stored).toMatchObject({ v: 1, key, tee: 'nitro', expiresAt: clock.now + 60_000 });
  });

  it('keeps a shared entry no longer than its stored expiry', async () => {
    const clock = new ManualClock(Date.now());
    const first = node(clock, { ttlMs: 10_000 });
    const second = node(clock, { ttlMs: HOUR });
    const request = { tee: 'nitro', evidence: evidenceOf('a'), key: `expiry-${randomUUID()}` };
    await first.cache.get(request);

    await second.cache.get(request);
    clock.advance(10_000);

    expect(second.cache.has(request.key)).toBe(false);
  });

  it('deletes the Redis copy on delete()', async () => {
    const clock = new ManualClock(Date.now());
    const { cache } = node(clock);
    const key = `delete-${randomUUID()}`;
    await cache.get({ tee: 'nitro', evidence: evidenceOf('a'), key });

    await cache.delete(key);

    expect(await redis.exists(prefix + key)).toBe(0);
  });

  describe('ignores and replaces a stored value that', () => {
    const now = Date.now();
    const good = (key: string) => ({
      v: 1,
      key,
      tee: 'nitro',
      expiresAt: now + HOUR,
      result: validResult('nitro', now, HOUR),
    });

    it.each<[string, (key: string) => string]>([
      ['is not JSON', () => '{"v":1,'],
      [
        'is larger than 64 KiB',
        (key) => JSON.stringify({ ...good(key), padding: 'x'.repeat(70_000) }),
      ],
      ['is a JSON array', () => '[]'],
      ['has another format version', (key) => JSON.stringify({ ...good(key), v: 2 })],
      ['names another key', (key) => JSON.stringify({ ...good(key), key: `${key}-other` })],
      ['names another TEE type', (key) => JSON.stringify({ ...good(key), tee: 'tdx' })],
      ['has expired', (key) => JSON.stringify({ ...good(key), expiresAt: now - 1 })],
      [
        'holds an expired result',
        (key) => JSON.stringify({ ...good(key), result: validResult('nitro', now - HOUR, 1_000) }),
      ],
      [
        'holds a result without claims',
        (key) => JSON.stringify({ ...good(key), result: { ...good(key).result, claims: 5 } }),
      ],
      [
        'holds measurements that are not lower-case hex',
        (key) =>
          JSON.stringify({
            ...good(key),
            result: { ...good(key).result, measurements: { PCR0: 'XYZ' } },
          }),
      ],
      [
        'holds a result for another TEE type',
        (key) => JSON.stringify({ ...good(key), result: validResult('tdx', now, HOUR) }),
      ],
    ])('%s', async (_name, value) => {
      const clock = new ManualClock(now);
      const { cache, verifier } = node(clock);
      const redisErrors: AttestationError[] = [];
      cache.on('redisError', ({ error }) => redisErrors.push(error as AttestationError));
      const key = `bad-${randomUUID()}`;
      await redis.set(prefix + key, value(key), 'PX', 60_000);

      const result = await cache.get({ tee: 'nitro', evidence: evidenceOf('a'), key });

      expect(verifier.calls).toBe(1);
      expect(result.claims.label).toBe('v1');
      expect(cache.stats().redis).toMatchObject({ malformed: 1, hits: 0 });
      expect(redisErrors.map((error) => error.code)).toEqual(['INVALID_REDIS_VALUE']);
      expect(JSON.parse((await redis.get(prefix + key))!).result.claims.label).toBe('v1');
    });
  });

  it.each<[string, (key: string) => string, (key: string) => string]>([
    [
      'another key',
      () =>
        JSON.stringify({
          v: 1,
          key: 'other',
          tee: 'nitro',
          expiresAt: Date.now() + HOUR,
          result: validResult('nitro', Date.now(), HOUR),
        }),
      (key) =>
        `Ignored the Redis value for ${key} because it names key "other" and tee "nitro", expected key "${key}" and tee "nitro".`,
    ],
    [
      'a result expiring before its verification',
      (key) =>
        JSON.stringify({
          v: 1,
          key,
          tee: 'nitro',
          expiresAt: Date.now() + HOUR,
          result: { ...validResult('nitro', Date.now(), HOUR), expiresAt: 5 },
        }),
      (key) =>
        `Ignored the Redis value for ${key} because its result is invalid: expiresAt must be an integer not before verifiedAt`,
    ],
  ])('explains a stored value for %s', async (_name, value, message) => {
    const clock = new ManualClock(Date.now());
    const { cache } = node(clock);
    const redisErrors: Error[] = [];
    cache.on('redisError', ({ error }) => redisErrors.push(error));
    const key = `explained-${randomUUID()}`;
    await redis.set(prefix + key, value(key), 'PX', 60_000);

    await cache.get({ tee: 'nitro', evidence: evidenceOf('a'), key });

    expect(redisErrors[0]?.message.startsWith(message(key))).toBe(true);
    expect(redisErrors[0]?.message).not.toContain('..');
  });

  it('names the key when an HMAC does not match', async () => {
    const clock = new ManualClock(Date.now());
    const hmacKey = 'a shared secret of enough length';
    const unsigned = node(clock);
    const signed = node(clock, { redis: { client: redis, keyPrefix: prefix, hmacKey } });
    const other = node(clock, {
      redis: { client: redis, keyPrefix: prefix, hmacKey: 'another secret of enough length' },
    });
    const messages: string[] = [];
    signed.cache.on('redisError', ({ error }) => messages.push(error.message));
    const plain = { tee: 'nitro', evidence: evidenceOf('a'), key: `plain-${randomUUID()}` };
    const forged = { tee: 'nitro', evidence: evidenceOf('a'), key: `forged-${randomUUID()}` };
    await unsigned.cache.get(plain);
    await other.cache.get(forged);

    await signed.cache.get(plain);
    await signed.cache.get(forged);

    expect(messages).toEqual([
      `Ignored the Redis value for ${plain.key} because it has no HMAC and redis.hmacKey is set.`,
      `Ignored the Redis value for ${forged.key} because its HMAC does not match redis.hmacKey.`,
    ]);
  });

  it('accepts values authenticated with the shared hmacKey', async () => {
    const clock = new ManualClock(Date.now());
    const hmacKey = 'a shared secret of enough length';
    const first = node(clock, { redis: { client: redis, keyPrefix: prefix, hmacKey } });
    const second = node(clock, { redis: { client: redis, keyPrefix: prefix, hmacKey } });
    const request = { tee: 'nitro', evidence: evidenceOf('a'), key: `hmac-${randomUUID()}` };

    await first.cache.get(request);
    await second.cache.get(request);

    expect(second.verifier.calls).toBe(0);
    expect(await redis.get(prefix + request.key)).toMatch(/^hmac-sha256:[0-9a-f]{64}:\{/);
  });

  it('rejects a value without a valid HMAC when hmacKey is set', async () => {
    const clock = new ManualClock(Date.now());
    const unsigned = node(clock);
    const signed = node(clock, {
      redis: { client: redis, keyPrefix: prefix, hmacKey: 'a shared secret of enough length' },
    });
    const request = { tee: 'nitro', evidence: evidenceOf('a'), key: `forged-${randomUUID()}` };
    await unsigned.cache.get(request);

    await signed.cache.get(request);

    expect(signed.verifier.calls).toBe(1);
    expect(signed.cache.stats().redis?.malformed).toBe(1);
  });

  it('rejects a value whose HMAC was made with another key', async () => {
    const clock = new ManualClock(Date.now());
    const other = node(clock, {
      redis: { client: redis, keyPrefix: prefix, hmacKey: 'another secret of enough length' },
    });
    const signed = node(clock, {
      redis: { client: redis, keyPrefix: prefix, hmacKey: 'a shared secret of enough length' },
    });
    const request = { tee: 'nitro', evidence: evidenceOf('a'), key: `other-${randomUUID()}` };
    await other.cache.get(request);

    await signed.cache.get(request);

    expect(signed.verifier.calls).toBe(1);
  });
});

describe('AttestationCache with Redis down', () => {
  function unreachableClient() {
    return closedPort().then((port) => {
      const client = new Redis({
        host: '127.0.0.1',
        port,
        enableOfflineQueue: false,
        lazyConnect: true,
      });
      client.on('error', () => {});
      return client;
    });
  }

  it('verifies locally, counts the failure and reports it', async () => {
    const port = await closedPort();
    const client = new Redis({ host: '127.0.0.1', port, lazyConnect: true });
    client.on('error', () => {});
    const clock = new ManualClock();
    const verifier = acceptingVerifier('nitro', clock);
    const failures: string[] = [];
    const cache = new AttestationCache({
      verifiers: [verifier],
      clock: clock.read,
      redis: { client, timeoutMs: 100 },
    });
    cache.on('redisError', ({ operation }) => failures.push(operation));

    try {
      const result = await cache.get({ tee: 'nitro', evidence: evidenceOf('a'), key: 'k' });

      expect(result.tee).toBe('nitro');
      expect(verifier.calls).toBe(1);
      expect(cache.stats().redis?.errors).toBe(1);
      expect(failures).toEqual(['get']);
    } finally {
      await cache.close();
      client.disconnect();
    }
  });

  it('reports a failed delete of the shared copy', async () => {
    const client = await unreachableClient();
    const clock = new ManualClock();
    const warnings: string[] = [];
    const failures: { operation: string; key: string }[] = [];
    const cache = new AttestationCache({
      verifiers: [acceptingVerifier('nitro', clock)],
      clock: clock.read,
      redis: { client, failureBackoffMs: 0 },
      logger: {
        debug() {},
        info() {},
        warn: (message: string) => warnings.push(message),
        error() {},
      },
    });
    cache.on('redisError', ({ operation, key }) => failures.push({ operation, key }));

    try {
      await cache.get({ tee: 'nitro', evidence: evidenceOf('a'), key: 'k' });
      const existed = await cache.delete('k');

      expect(existed).toBe(true);
      expect(cache.has('k')).toBe(false);
      expect(failures.at(-1)).toEqual({ operation: 'del', key: 'k' });
      expect(warnings.at(-1)).toBe(
        'Redis DEL of attestation k failed, so other nodes can still read its shared copy until the copy expires in Redis.',
      );
      expect(warnings[0]).toBe(
        'Redis GET of attestation k failed, so the cache verifies it locally.',
      );
    } finally {
      await cache.close();
      client.disconnect();
    }
  });

  it('still rejects evidence the verifier rejects', async () => {
    const port = await closedPort();
    const client = new Redis({
      host: '127.0.0.1',
      port,
      enableOfflineQueue: false,
      lazyConnect: true,
    });
    client.on('error', () => {});
    const clock = new ManualClock();
    const verifier = acceptingVerifier('nitro', clock);
    verifier.behaviour = async () => {
      throw new AttestationError('SIGNATURE_INVALID', 'bad signature');
    };
    const cache = new AttestationCache({
      verifiers: [verifier],
      clock: clock.read,
      redis: { client },
    });

    try {
      const error = await cache
        .get({ tee: 'nitro', evidence: evidenceOf('a') })
        .catch((caught: unknown) => caught);

      expect(isAttestationError(error, 'SIGNATURE_INVALID')).toBe(true);
      expect(cache.stats().redis?.errors).toBe(1);
    } finally {
      await cache.close();
      client.disconnect();
    }
  });

  it('skips Redis during the failure backoff', async () => {
    const client = await unreachableClient();
    const clock = new ManualClock();
    const cache = new AttestationCache({
      verifiers: [acceptingVerifier('nitro', clock)],
      clock: clock.read,
      redis: { client, failureBackoffMs: 60_000 },
    });

    try {
      await cache.get({ tee: 'nitro', evidence: evidenceOf('a') });
      await cache.get({ tee: 'nitro', evidence: evidenceOf('b') });
      // The backoff runs on real time, so moving the cache clock does not end it.
      clock.advance(120_000);
      await cache.get({ tee: 'nitro', evidence: evidenceOf('c') });

      // Skipped: the write of a, the read and write of b, and the read and write of c.
      expect(cache.stats().redis).toMatchObject({ errors: 1, skipped: 5 });
    } finally {
      await cache.close();
      client.disconnect();
    }
  });

  it('retries Redis after the backoff with a fixed clock', async () => {
    const client = await unreachableClient();
    const clock = new ManualClock();
    const failures: string[] = [];
    const cache = new AttestationCache({
      verifiers: [acceptingVerifier('nitro', clock)],
      clock: clock.read,
      redis: { client, failureBackoffMs: 20 },
    });
    cache.on('redisError', ({ operation }) => failures.push(operation));

    try {
      await cache.get({ tee: 'nitro', evidence: evidenceOf('a') });
      await delay(60);
      await cache.get({ tee: 'nitro', evidence: evidenceOf('b') });

      expect(failures).toEqual(['get', 'get']);
      expect(cache.stats().redis?.errors).toBe(2);
    } finally {
      await cache.close();
      client.disconnect();
    }
  });
});
