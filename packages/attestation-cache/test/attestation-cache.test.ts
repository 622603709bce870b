import {
  AttestationCache,
  type AttestationCacheConfig,
  AttestationError,
  type AttestationRemoval,
  attestationKey,
  isAttestationError,
  VerifierRegistry,
} from '@agentnode/attestation-cache';
import { describe, expect, it } from 'vitest';
import { acceptingVerifier, delay, evidenceOf, ManualClock, settle, validResult } from './helpers';

const HOUR = 3_600_000;

function setup(config: Partial<AttestationCacheConfig> = {}, validForMs = HOUR) {
  const clock = new ManualClock();
  const verifier = acceptingVerifier('nitro', clock, validForMs);
  const removals: AttestationRemoval[] = [];
  const cache = new AttestationCache({
    verifiers: [verifier],
    clock: clock.read,
    refresh: false,
    sweepIntervalMs: 0,
    onRemove: (removal) => removals.push(removal),
    ...config,
  });

  return { cache, clock, verifier, removals };
}

describe('AttestationCache.get', () => {
  it('verifies on a miss and serves the next get from the cache', async () => {
    const { cache, verifier } = setup();
    const request = { tee: 'nitro', evidence: evidenceOf('doc-a') };

    const first = await cache.get(request);
    const second = await cache.get(request);

    expect(verifier.calls).toBe(1);
    expect(second).toBe(first);
    expect(cache.stats()).toMatchObject({ hits: 1, misses: 1, lookups: 2, hitRate: 0.5 });
  });

  it('keys by TEE type and the SHA-256 of the evidence', async () => {
    const { cache, verifier } = setup();

    await cache.get({ tee: 'nitro', evidence: evidenceOf('doc-a') });
    await cache.get({ tee: 'nitro', evidence: evidenceOf('doc-a') });
    await cache.get({ tee: 'nitro', evidence: evidenceOf('doc-b') });

    expect(verifier.calls).toBe(2);
    expect(cache.has(attestationKey('nitro', evidenceOf('doc-a')))).toBe(true);
    expect(attestationKey('nitro', evidenceOf('doc-a'))).toMatch(/^nitro:[0-9a-f]{64}$/);
  });

  it('uses the caller key when one is given', async () => {
    const { cache, verifier } = setup();

    await cache.get({ tee: 'nitro', evidence: evidenceOf('doc-a'), key: 'enclave-1' });
    await cache.get({ tee: 'nitro', evidence: evidenceOf('doc-b'), key: 'enclave-1' });

    expect(verifier.calls).toBe(1);
    expect(cache.has('enclave-1')).toBe(true);
  });

  it('verifies again when a caller key is reused for another TEE type', async () => {
    const clock = new ManualClock();
    const nitro = acceptingVerifier('nitro', clock);
    const tdx = acceptingVerifier('tdx', clock);
    const removals: AttestationRemoval[] = [];
    const cache = new AttestationCache({
      verifiers: [nitro, tdx],
      clock: clock.read,
      onRemove: (removal) => removals.push(removal),
    });

    await cache.get({ tee: 'nitro', evidence: evidenceOf('a'), key: 'node-1' });
    const result = await cache.get({ tee: 'tdx', evidence: evidenceOf('b'), key: 'node-1' });

    expect(result.tee).toBe('tdx');
    expect(tdx.calls).toBe(1);
    expect(removals.map((removal) => [removal.tee, removal.cause])).toEqual([
      ['nitro', 'replaced'],
    ]);
    await cache.close();
  });

  it.each([
    ['Uint8Array', evidenceOf('doc-a')],
    ['Buffer', Buffer.from('doc-a')],
  ])('passes the verifier a copy of a %s', async (_name, evidence) => {
    const { cache, verifier } = setup();

    await cache.get({ tee: 'nitro', evidence });
    const seen = Uint8Array.from(verifier.evidence[0]!);
    evidence[0] = 0;

    expect(verifier.evidence[0]!.buffer).not.toBe(evidence.buffer);
    expect(verifier.evidence[0]).toEqual(seen);
  });

  it('rejects an unknown TEE type without verifying', async () => {
    const { cache, verifier } = setup();

    const error = await cache
      .get({ tee: 'sev-snp', evidence: evidenceOf('x') })
      .catch((caught: unknown) => caught);

    expect(isAttestationError(error, 'UNKNOWN_TEE')).toBe(true);
    expect((error as Error).message).toContain('registered: nitro');
    expect(verifier.calls).toBe(0);
  });

  it.each([
    ['a missing request', undefined],
    ['empty evidence', { tee: 'nitro', evidence: new Uint8Array(0) }],
    ['evidence as a string', { tee: 'nitro', evidence: 'abc' }],
    ['an empty key', { tee: 'nitro', evidence: evidenceOf('x'), key: '' }],
    ['a numeric key', { tee: 'nitro', evidence: evidenceOf('x'), key: 7 }],
  ])('rejects %s with INVALID_ARGUMENT', async (_name, request) => {
    const { cache } = setup();

    const error = await cache.get(request as never).catch((caught: unknown) => caught);

    expect(isAttestationError(error, 'INVALID_ARGUMENT')).toBe(true);
  });

  it.each<[string, unknown, string]>([
    [
      'empty evidence',
      { tee: 'nitro', evidence: new Uint8Array(0) },
      'request.evidence must be a non-empty Uint8Array (a Buffer is one), got an empty Uint8Array.',
    ],
    [
      'an ArrayBuffer',
      { tee: 'nitro', evidence: new ArrayBuffer(3) },
      'request.evidence must be a non-empty Uint8Array (a Buffer is one), got an ArrayBuffer of 3 bytes. Pass a view of its bytes, such as new Uint8Array(buffer).',
    ],
    [
      'a DataView',
      { tee: 'nitro', evidence: new DataView(new ArrayBuffer(2)) },
      'request.evidence must be a non-empty Uint8Array (a Buffer is one), got a DataView of 2 bytes. Pass a view of its bytes, such as new Uint8Array(view.buffer, view.byteOffset, view.byteLength).',
    ],
    [
      'a missing tee',
      { evidence: evidenceOf('x') },
      'request.tee must be a TEE type name matching /^[a-z0-9][a-z0-9-]{0,31}$/ (registered: nitro), got undefined.',
    ],
    [
      'a tee that is not a type name',
      { tee: 'Bad Tee', evidence: evidenceOf('x') },
      'request.tee must be a TEE type name matching /^[a-z0-9][a-z0-9-]{0,31}$/ (registered: nitro), got "Bad Tee".',
    ],
  ])('explains %s with INVALID_ARGUMENT', async (_name, request, message) => {
    const { cache } = setup();

    const error = await cache.get(request as never).catch((caught: unknown) => caught);

    expect(isAttestationError(error, 'INVALID_ARGUMENT')).toBe(true);
    expect((error as Error).message).toBe(message);
  });

  it('rejects a result of the wrong shape and caches nothing', async () => {
    const { cache, verifier } = setup();
    verifier.behaviour = async () => ({ tee: 'nitro', verifiedAt: 1 }) as never;

    const error = await cache
      .get({ tee: 'nitro', evidence: evidenceOf('x') })
      .catch((caught: unknown) => caught);

    expect(isAttestationError(error, 'VERIFIER_ERROR')).toBe(true);
    expect(cache.size).toBe(0);
  });

  it.each([
    ['upper-case hex', { PCR0: 'ABCD' }],
    ['letters that are not hex', { PCR0: 'XYZ' }],
    ['an empty value', { PCR0: '' }],
    ['a name that is not a register name', { 'bad name!': '00' }],
  ])('rejects measurements with %s and caches nothing', async (_name, measurements) => {
    const { cache, clock, verifier } = setup();
    verifier.behaviour = async () => ({ ...validResult('nitro', clock.now, HOUR), measurements });

    const error = await cache
      .get({ tee: 'nitro', evidence: evidenceOf('x') })
      .catch((caught: unknown) => caught);

    expect(isAttestationError(error, 'VERIFIER_ERROR')).toBe(true);
    expect((error as Error).message).toMatch(
      /^Invalid attestation result from the nitro verifier: /,
    );
    expect(cache.size).toBe(0);
  });

  it('rejects a result for another TEE type', async () => {
    const { cache, clock, verifier } = setup();
    verifier.behaviour = async () => validResult('tdx', clock.now, HOUR);

    const error = await cache
      .get({ tee: 'nitro', evidence: evidenceOf('x') })
      .catch((caught: unknown) => caught);

    expect(isAttestationError(error, 'VERIFIER_ERROR')).toBe(true);
  });

  it('wraps an untyped verifier failure as VERIFIER_ERROR with its cause', async () => {
    const { cache, verifier } = setup();
    const cause = new Error('collateral fetch failed');
    verifier.behaviour = async () => {
      throw cause;
    };

    const error = await cache
      .get({ tee: 'nitro', evidence: evidenceOf('x') })
      .catch((caught: unknown) => caught);

    expect(isAttestationError(error, 'VERIFIER_ERROR')).toBe(true);
    expect((error as Error).cause).toBe(cause);
  });

  it('accepts a VerifierRegistry', async () => {
    const clock = new ManualClock();
    const cache = new AttestationCache({
      verifiers: new VerifierRegistry([acceptingVerifier('tdx', clock)]),
      clock: clock.read,
    });

    await expect(cache.get({ tee: 'tdx', evidence: evidenceOf('x') })).resolves.toMatchObject({
      tee: 'tdx',
    });
    await cache.close();
  });
});

describe('attestationKey', () => {
  it('hashes the evidence under its TEE type', () => {
    expect(attestationKey('nitro', evidenceOf('abc'))).toBe(
      'nitro:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    );
  });

  it.each<[string, unknown, unknown, string]>([
    [
      'a tee that is not a type name',
      'Bad Tee',
      evidenceOf('x'),
      'tee must be a TEE type name matching /^[a-z0-9][a-z0-9-]{0,31}$/, got "Bad Tee".',
    ],
    [
      'evidence as a string',
      'nitro',
      'a string',
      'evidence must be a non-empty Uint8Array (a Buffer is one), got "a string".',
    ],
    [
      'empty evidence',
      'nitro',
      new Uint8Array(0),
      'evidence must be a non-empty Uint8Array (a Buffer is one), got an empty Uint8Array.',
    ],
  ])('rejects %s', (_name, tee, evidence, message) => {
    let caught: unknown;
    try {
      attestationKey(tee as string, evidence as Uint8Array);
    } catch (error) {
      caught = error;
    }

    expect(isAttestationError(caught, 'INVALID_ARGUMENT')).toBe(true);
    expect((caught as Error).message).toBe(message);
  });
});

describe('AttestationCache TTL', () => {
  it('expires an entry at the configured TTL when the result lives longer', async () => {
    const { cache, clock, verifier } = setup({ ttlMs: 60_000 }, HOUR);
    const request = { tee: 'nitro', evidence: evidenceOf('a') };
    await cache.get(request);

    clock.advance(59_999);
    await cache.get(request);
    expect(verifier.calls).toBe(1);

    clock.advance(1);
    await cache.get(request);
    expect(verifier.calls).toBe(2);
  });

  it("expires an entry at the result's expiry when that comes first", async () => {
    const { cache, clock, verifier } = setup({ ttlMs: HOUR }, 30_000);
    const request = { tee: 'nitro', evidence: evidenceOf('a') };
    await cache.get(request);

    clock.advance(29_999);
    await cache.get(request);
    expect(verifier.calls).toBe(1);

    clock.advance(1);
    await cache.get(request);
    expect(verifier.calls).toBe(2);
  });

  it('gives gpu-tee-io 30 minutes by default', async () => {
    const clock = new ManualClock();
    const verifier = acceptingVerifier('gpu-tee-io', clock);
    const cache = new AttestationCache({ verifiers: [verifier], clock: clock.read });
    const request = { tee: 'gpu-tee-io', evidence: evidenceOf('a') };
    await cache.get(request);

    clock.advance(1_800_000);
    await cache.get(request);

    expect(verifier.calls).toBe(2);
    await cache.close();
  });

  it('applies ttlMsByTee over ttlMs', async () => {
    const { cache, clock, verifier } = setup({ ttlMs: HOUR, ttlMsByTee: { nitro: 1_000 } });
    const request = { tee: 'nitro', evidence: evidenceOf('a') };
    await cache.get(request);

    clock.advance(1_000);
    await cache.get(request);

    expect(verifier.calls).toBe(2);
  });

  it('never serves an expired entry and reports its removal once', async () => {
    const { cache, clock, removals } = setup({ ttlMs: 1_000 });
    const key = 'k';
    await cache.get({ tee: 'nitro', evidence: evidenceOf('a'), key });

    clock.advance(1_000);

    expect(cache.has(key)).toBe(false);
    expect(cache.getCached('nitro', key)).toBeUndefined();
    expect(removals.map((removal) => removal.cause)).toEqual(['expired']);
    expect(cache.size).toBe(0);
  });

  it('rejects a result that has already expired and caches nothing', async () => {
    const { cache, clock, verifier } = setup();
    verifier.behaviour = async () => validResult('nitro', clock.now - 10, 10);

    const error = await cache
      .get({ tee: 'nitro', evidence: evidenceOf('a') })
      .catch((caught: unknown) => caught);

    expect(isAttestationError(error, 'VERIFIER_ERROR')).toBe(true);
    expect((error as Error).message).toBe(
      'The nitro verifier returned a result that expired at 2026-01-01T00:00:00.000Z, not after the cache clock (2026-01-01T00:00:00.000Z). A verifier with its own clock needs the same clock on the cache.',
    );
    expect(cache.size).toBe(0);
  });

  it('sweeps expired entries nobody reads', async () => {
    const { cache, clock, removals } = setup({ ttlMs: 1_000, sweepIntervalMs: 10 });
    await cache.get({ tee: 'nitro', evidence: evidenceOf('a') });
    await cache.get({ tee: 'nitro', evidence: evidenceOf('b') });

    clock.advance(1_000);
    await delay(40);

    expect(cache.size).toBe(0);
    expect(removals.map((removal) => removal.cause)).toEqual(['expired', 'expired']);
    await cache.close();
  });
});

describe('AttestationCache single flight', () => {
  async function expiredKeySetup() {
    const context = setup({ ttlMs: 1_000 });
    const request = { tee: 'nitro', evidence: evidenceOf('doc'), key: 'hot-key' };
    await context.cache.get(request);
    context.clock.advance(1_000);
    context.verifier.calls = 0;

    return { ...context, request };
  }

  // 50 concurrent gets of one expired key with a 50 ms verifier.
  it('verifies once for 50 gets', async () => {
    const { cache, clock, verifier, request } = await expiredKeySetup();
    verifier.behaviour = async () => {
      await delay(50);
      return validResult('nitro', clock.now, HOUR, 'fresh');
    };

    const results = await Promise.all(Array.from({ length: 50 }, () => cache.get(request)));

    expect(verifier.calls).toBe(1);
    expect(new Set(results).size).toBe(1);
    expect(results[0]!.claims.label).toBe('fresh');
    expect(cache.stats()).toMatchObject({ misses: 51, hits: 0 });
  });

  // The same, with a verifier that rejects: nothing is cached and the next get verifies again.
  it('rejects all 50 gets together', async () => {
    const { cache, clock, verifier, request } = await expiredKeySetup();
    verifier.behaviour = async () => {
      await delay(50);
      throw new Error('quote service unavailable');
    };

    const outcomes = await settle(Array.from({ length: 50 }, () => cache.get(request)));

    expect(verifier.calls).toBe(1);
    expect(outcomes.every((outcome) => outcome.status === 'rejected')).toBe(true);
    const reasons = new Set(outcomes.map((outcome) => (outcome as PromiseRejectedResult).reason));
    expect(reasons.size).toBe(1);
    expect(isAttestationError([...reasons][0], 'VERIFIER_ERROR')).toBe(true);
    expect(cache.has(request.key)).toBe(false);
    expect(cache.size).toBe(0);

    verifier.behaviour = async () => validResult('nitro', clock.now, HOUR, 'recovered');
    await expect(cache.get(request)).resolves.toMatchObject({ claims: { label: 'recovered' } });
    expect(verifier.calls).toBe(2);
  });

  it('verifies again after a rejected verdict when negative caching is off', async () => {
    const { cache, verifier, request } = await expiredKeySetup();
    verifier.behaviour = async () => {
      await delay(50);
      throw new AttestationError('SIGNATURE_INVALID', 'bad signature');
    };
    const uncached = new AttestationCache({
      verifiers: [verifier],
      negativeTtlMs: 0,
      refresh: false,
    });

    const outcomes = await settle(Array.from({ length: 50 }, () => uncached.get(request)));
    await uncached.get(request).catch(() => {});

    expect(outcomes.every((outcome) => outcome.status === 'rejected')).toBe(true);
    expect(verifier.calls).toBe(2);
    expect(uncached.size).toBe(0);
    await Promise.all([cache.close(), uncached.close()]);
  });

  it('runs one verification for 1,000 concurrent misses', async () => {
    const { cache, verifier } = setup();
    const request = { tee: 'nitro', evidence: evidenceOf('doc'), key: 'k' };

    const results = await Promise.all(Array.from({ length: 1_000 }, () => cache.get(request)));

    expect(verifier.calls).toBe(1);
    expect(new Set(results).size).toBe(1);
  });

  it('lets one caller abort while the others get the result', async () => {
    const { cache, clock, verifier } = setup();
    verifier.behaviour = async () => {
      await delay(30);
      return validResult('nitro', clock.now, HOUR);
    };
    const request = { tee: 'nitro', evidence: evidenceOf('doc'), key: 'k' };
    const controller = new AbortController();

    const aborted = cache.get(request, { signal: controller.signal });
    const waiting = cache.get(request);
    controller.abort();

    expect(isAttestationError(await aborted.catch((caught: unknown) => caught), 'ABORTED')).toBe(
      true,
    );
    await expect(waiting).resolves.toMatchObject({ tee: 'nitro' });
    expect(cache.has('k')).toBe(true);
    expect(verifier.calls).toBe(1);
  });

  it('times out a slow verifier, aborts its signal and caches nothing', async () => {
    const { cache, verifier } = setup({ verifyTimeoutMs: 20 });
    verifier.behaviour = () => new Promise(() => {});

    const error = await cache
      .get({ tee: 'nitro', evidence: evidenceOf('x') })
      .catch((caught: unknown) => caught);

    expect(isAttestationError(error, 'VERIFY_TIMEOUT')).toBe(true);
    expect(verifier.signals[0]?.aborted).toBe(true);
    expect(cache.size).toBe(0);
  });
});

describe('AttestationCache negative caching', () => {
  it('serves a cached rejection for negativeTtlMs, then verifies again', async () => {
    const { cache, clock, verifier } = setup({ negativeTtlMs: 5_000 });
    verifier.behaviour = async () => {
      throw new AttestationError('DEBUG_ENCLAVE', 'debug mode');
    };
    const request = { tee: 'nitro', evidence: evidenceOf('bad'), key: 'k' };

    const first = await cache.get(request).catch((caught: unknown) => caught);
    const second = await cache.get(request).catch((caught: unknown) => caught);

    expect(second).toBe(first);
    expect(verifier.calls).toBe(1);
    expect(cache.has('k')).toBe(false);
    expect(cache.stats()).toMatchObject({ negativeHits: 1, misses: 1, hits: 0, rejections: 1 });

    clock.advance(5_000);
    await cache.get(request).catch(() => {});
    expect(verifier.calls).toBe(2);
  });

  it('never caches a verifier error', async () => {
    const { cache, verifier } = setup({ negativeTtlMs: 5_000 });
    verifier.behaviour = async () => {
      throw new TypeError('verifier bug');
    };
    const request = { tee: 'nitro', evidence: evidenceOf('x'), key: 'k' };

    await cache.get(request).catch(() => {});
    await cache.get(request).catch(() => {});

    expect(verifier.calls).toBe(2);
    expect(cache.stats()).toMatchObject({ verifierErrors: 2, negativeHits: 0 });
  });

  it('reports a negative entry to onRemove with its error', async () => {
    const { cache, clock, verifier, removals } = setup({ negativeTtlMs: 100 });
    verifier.behaviour = async () => {
      throw new AttestationError('PCR_MISMATCH', 'PCR0 differs');
    };
    await cache.get({ tee: 'nitro', evidence: evidenceOf('x'), key: 'k' }).catch(() => {});

    clock.advance(100);
    await cache.get({ tee: 'nitro', evidence: evidenceOf('x'), key: 'k' }).catch(() => {});

    const removal = removals[0];
    expect(removal).toMatchObject({ key: 'k', kind: 'negative', cause: 'expired' });
    expect(removal?.kind === 'negative' ? removal.error.code : undefined).toBe('PCR_MISMATCH');
  });
});

describe('AttestationCache size bound', () => {
  // Size limit 2, three keys set: the first is gone and onRemove ran once for it.
  it('evicts the first of three keys', async () => {
    const { cache, removals } = setup({ maxEntries: 2 });

    for (const key of ['k1', 'k2', 'k3']) {
      await cache.get({ tee: 'nitro', evidence: evidenceOf(key), key });
    }

    expect(cache.size).toBe(2);
    expect(cache.has('k1')).toBe(false);
    expect(cache.has('k2')).toBe(true);
    expect(cache.has('k3')).toBe(true);
    expect(removals).toHaveLength(1);
    expect(removals[0]).toMatchObject({ key: 'k1', cause: 'lru', kind: 'valid' });
    expect(cache.stats().evictions).toBe(1);
  });

  it('evicts the least recently used key', async () => {
    const { cache } = setup({ maxEntries: 2 });
    await cache.get({ tee: 'nitro', evidence: evidenceOf('1'), key: 'k1' });
    await cache.get({ tee: 'nitro', evidence: evidenceOf('2'), key: 'k2' });

    await cache.get({ tee: 'nitro', evidence: evidenceOf('1'), key: 'k1' });
    await cache.get({ tee: 'nitro', evidence: evidenceOf('3'), key: 'k3' });

    expect(cache.has('k1')).toBe(true);
    expect(cache.has('k2')).toBe(false);
  });

  it.each([1, 2, 7, 64])('never holds more than %i entries under churn', async (maxEntries) => {
    const { cache, removals } = setup({ maxEntries });
    let largest = 0;
    let shrankWhenFull = 0;

    for (let step = 0; step < 600; step += 1) {
      // Keys repeat with a stride, mixing hits on recent keys with misses.
      const key = `k${(step * 7919) % (maxEntries * 3 + 5)}`;
      const wasFull = cache.size === maxEntries;
      await cache.get({ tee: 'nitro', evidence: evidenceOf(key), key });
      largest = Math.max(largest, cache.size);
      if (wasFull && cache.size < maxEntries) {
        shrankWhenFull += 1;
      }
    }

    expect(largest).toBe(maxEntries);
    // Nothing expires or is deleted here, so a full cache only loses an entry to make room.
    expect(shrankWhenFull).toBe(0);
    expect(removals.every((removal) => removal.cause === 'lru')).toBe(true);
    // Every miss inserted one entry, which is either still cached or was removed once.
    expect(cache.size + removals.length).toBe(cache.stats().misses);
  });
});

describe('AttestationCache removal hook', () => {
  it('reports deleted, cleared and replaced entries once each', async () => {
    const clock = new ManualClock();
    const nitro = acceptingVerifier('nitro', clock);
    const tdx = acceptingVerifier('tdx', clock);
    const removals: AttestationRemoval[] = [];
    const cache = new AttestationCache({
      verifiers: [nitro, tdx],
      clock: clock.read,
      onRemove: (removal) => removals.push(removal),
    });
    for (const key of ['a', 'b', 'c']) {
      await cache.get({ tee: 'nitro', evidence: evidenceOf(key), key });
    }

    expect(await cache.delete('a')).toBe(true);
    expect(await cache.delete('a')).toBe(false);
    await cache.get({ tee: 'tdx', evidence: evidenceOf('b2'), key: 'b' });
    cache.clear();

    expect(removals.map((removal) => `${removal.key}:${removal.tee}:${removal.cause}`)).toEqual([
      'a:nitro:deleted',
      'b:nitro:replaced',
      'c:nitro:cleared',
      'b:tdx:cleared',
    ]);
    expect(cache.size).toBe(0);
    await cache.close();
    expect(removals).toHaveLength(4);
  });

  it('keeps working when the hook throws, and logs the error', async () => {
    const errors: string[] = [];
    const logger = {
      debug() {},
      info() {},
      warn() {},
      error: (message: string) => errors.push(message),
    };
    const { cache } = setup({
      maxEntries: 1,
      logger,
      onRemove: () => {
        throw new Error('hook failed');
      },
    });

    await cache.get({ tee: 'nitro', evidence: evidenceOf('1'), key: 'k1' });
    await cache.get({ tee: 'nitro', evidence: evidenceOf('2'), key: 'k2' });

    expect(cache.has('k2')).toBe(true);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain('onRemove threw');
  });

  it('does not store a verification in flight when its key is deleted', async () => {
    const { cache, clock, verifier } = setup();
    verifier.behaviour = async () => {
      await delay(20);
      return validResult('nitro', clock.now, HOUR);
    };

    const pending = cache.get({ tee: 'nitro', evidence: evidenceOf('x'), key: 'k' });
    await cache.delete('k');

    await expect(pending).resolves.toMatchObject({ tee: 'nitro' });
    expect(cache.has('k')).toBe(false);
  });

  it('does not store verifications in flight when the cache is cleared', async () => {
    const { cache, clock, verifier } = setup();
    verifier.behaviour = async () => {
      await delay(20);
      return validResult('nitro', clock.now, HOUR);
    };

    const pending = cache.get({ tee: 'nitro', evidence: evidenceOf('x'), key: 'k' });
    cache.clear();
    await pending;

    expect(cache.size).toBe(0);
  });
});

describe('AttestationCache stats', () => {
  it('computes the hit rate as hits over lookups', async () => {
    const { cache, verifier } = setup({ negativeTtlMs: 5_000 });
    await cache.get({ tee: 'nitro', evidence: evidenceOf('a'), key: 'a' });
    await cache.get({ tee: 'nitro', evidence: evidenceOf('a'), key: 'a' });
    await cache.get({ tee: 'nitro', evidence: evidenceOf('a'), key: 'a' });
    verifier.behaviour = async () => {
      throw new AttestationError('NONCE_MISMATCH', 'nonce differs');
    };
    await cache.get({ tee: 'nitro', evidence: evidenceOf('b'), key: 'b' }).catch(() => {});
    await cache.get({ tee: 'nitro', evidence: evidenceOf('b'), key: 'b' }).catch(() => {});

    const stats = cache.stats();

    expect(stats).toMatchObject({ lookups: 5, hits: 2, misses: 2, negativeHits: 1 });
    expect(stats.hitRate).toBeCloseTo(2 / 5);
    expect(stats.verifications).toBe(2);
    expect(stats.rejections).toBe(1);
    expect(stats.size).toBe(2);
  });

  it('counts hits past the refresh point as stale hits', async () => {
    const clock = new ManualClock();
    const cache = new AttestationCache({
      verifiers: [acceptingVerifier('nitro', clock, 10_000)],
      clock: clock.read,
      refresh: { aheadRatio: 0.5, readThreshold: 1_000 },
    });
    await cache.get({ tee: 'nitro', evidence: evidenceOf('a'), key: 'a' });

    clock.advance(4_999);
    cache.getCached('nitro', 'a');
    clock.advance(1);
    cache.getCached('nitro', 'a');

    expect(cache.stats()).toMatchObject({ hits: 2, staleHits: 1 });
    await cache.close();
  });

  it('keeps counts apart by TEE type', async () => {
    const clock = new ManualClock();
    const cache = new AttestationCache({
      verifiers: [acceptingVerifier('nitro', clock), acceptingVerifier('sev-snp', clock)],
      clock: clock.read,
    });
    await cache.get({ tee: 'nitro', evidence: evidenceOf('a') });
    await cache.get({ tee: 'nitro', evidence: evidenceOf('a') });
    await cache.get({ tee: 'sev-snp', evidence: evidenceOf('b') });

    const { byTee } = cache.stats();

    expect(byTee.nitro).toMatchObject({ hits: 1, misses: 1, entries: 1 });
    expect(byTee['sev-snp']).toMatchObject({ hits: 0, misses: 1, entries: 1 });
    await cache.close();
  });
});

describe('AttestationCache.getCached', () => {
  it('returns a cached result synchronously and undefined on a miss', async () => {
    const { cache, verifier } = setup();
    await cache.get({ tee: 'nitro', evidence: evidenceOf('a'), key: 'a' });

    expect(cache.getCached('nitro', 'a')?.tee).toBe('nitro');
    expect(cache.getCached('nitro', 'missing')).toBeUndefined();
    expect(cache.getCached('tdx', 'a')).toBeUndefined();
    expect(verifier.calls).toBe(1);
    expect(cache.stats()).toMatchObject({ hits: 1, misses: 2 });
  });
});

describe('AttestationCache.close', () => {
  it('waits for verifications in flight, then clears and rejects later gets', async () => {
    const { cache, clock, verifier, removals } = setup();
    await cache.get({ tee: 'nitro', evidence: evidenceOf('a'), key: 'a' });
    verifier.behaviour = async () => {
      await delay(20);
      return validResult('nitro', clock.now, HOUR);
    };
    const pending = cache.get({ tee: 'nitro', evidence: evidenceOf('b'), key: 'b' });

    await cache.close();

    await expect(pending).resolves.toMatchObject({ tee: 'nitro' });
    expect(removals.map((removal) => `${removal.key}:${removal.cause}`)).toEqual(['a:cleared']);
    const error = await cache
      .get({ tee: 'nitro', evidence: evidenceOf('a') })
      .catch((caught: unknown) => caught);
    expect(isAttestationError(error, 'CACHE_CLOSED')).toBe(true);
  });
});

describe('AttestationCache config', () => {
  const clock = new ManualClock();
  const verifier = acceptingVerifier('nitro', clock);

  it.each<[string, Record<string, unknown>]>([
    ['no verifiers', { verifiers: undefined }],
    ['a verifier without verify', { verifiers: [{ tee: 'nitro' }] }],
    [
      'a verifier with a bad type name',
      { verifiers: [{ tee: 'Nitro!', verify: async () => ({}) }] },
    ],
    ['two verifiers for one type', { verifiers: [verifier, verifier] }],
    ['maxEntries of 0', { maxEntries: 0 }],
    ['a fractional maxEntries', { maxEntries: 1.5 }],
    ['a negative ttlMs', { ttlMs: -1 }],
    ['a bad ttlMsByTee value', { ttlMsByTee: { nitro: 0 } }],
    ['a negative negativeTtlMs', { negativeTtlMs: -5 }],
    ['a verifyTimeoutMs beyond the timer range', { verifyTimeoutMs: 2 ** 31 }],
    ['refresh.aheadRatio of 1', { refresh: { aheadRatio: 1 } }],
    ['refresh.readThreshold of 0', { refresh: { readThreshold: 0 } }],
    ['a sweepIntervalMs of NaN', { sweepIntervalMs: Number.NaN }],
    ['a logger without warn', { logger: { debug() {}, info() {}, error() {} } }],
    ['onRemove that is not a function', { onRemove: 'log' }],
    ['a redis tier without a client', { redis: {} }],
    [
      'a short redis hmacKey',
      { redis: { client: { get() {}, set() {}, del() {} }, hmacKey: 'short' } },
    ],
    [
      'an empty redis hmacKey',
      { redis: { client: { get() {}, set() {}, del() {} }, hmacKey: '' } },
    ],
    [
      'a redis hmacKey given as undefined',
      { redis: { client: { get() {}, set() {}, del() {} }, hmacKey: undefined } },
    ],
    ['a misspelled option', { maxEntrie: 5 }],
    ['a misspelled refresh option', { refresh: { readTreshold: 3 } }],
    [
      'a misspelled redis option',
      { redis: { client: { get() {}, set() {}, del() {} }, keyprefix: 'x:' } },
    ],
  ])('rejects %s', (_name, overrides) => {
    let caught: unknown;
    try {
      new AttestationCache({ verifiers: [verifier], ...overrides } as AttestationCacheConfig);
    } catch (error) {
      caught = error;
    }

    expect(isAttestationError(caught, 'INVALID_CONFIG')).toBe(true);
  });

  function configError(overrides: Record<string, unknown>): Error {
    try {
      new AttestationCache({ verifiers: [verifier], ...overrides } as AttestationCacheConfig);
    } catch (error) {
      return error as Error;
    }
    throw new Error('the cache accepted the config');
  }

  it('names an unknown option and lists the known ones', () => {
    expect(configError({ maxEntrie: 5 }).message).toBe(
      'Unknown attestation cache option "maxEntrie" (did you mean "maxEntries"?); known options are verifiers, maxEntries, ttlMs, ttlMsByTee, negativeTtlMs, verifyTimeoutMs, refresh, sweepIntervalMs, redis, onRemove, metrics, logger, clock.',
    );
    expect(configError({ refresh: { windowMS: 5 } }).message).toBe(
      'Unknown refresh option "windowMS" (did you mean "windowMs"?); known options are readThreshold, windowMs, aheadRatio, retryDelayMs.',
    );
    expect(configError({ colour: 'red' }).message).toMatch(
      /^Unknown attestation cache option "colour"; known options are verifiers, /,
    );
  });

  it('rejects a redis hmacKey given as undefined', () => {
    const client = { get() {}, set() {}, del() {} };

    expect(configError({ redis: { client, hmacKey: undefined } }).message).toBe(
      'redis.hmacKey is present but undefined, which would turn value authentication off. Pass the secret (an unset environment variable reads as undefined), or leave the option out to run without authentication.',
    );
    expect(configError({ redis: { client, hmacKey: 'short' } }).message).toBe(
      'redis.hmacKey must have at least 16 characters, got 5 characters.',
    );
    expect(configError({ redis: { client, hmacKey: new Uint8Array(4) } }).message).toBe(
      'redis.hmacKey must have at least 16 bytes, got 4 bytes.',
    );
  });
});
