import { spawnSync } from 'node:child_process';
import {
  AttestationCache,
  type AttestationCacheEvents,
  AttestationError,
  type AttestationRemoval,
} from '@agentnode/attestation-cache';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { evidenceOf, ManualClock, StubVerifier, validResult } from './helpers';

// Fake timers drive both the refresh timers and Date.now, which is the cache's
// default clock, so time moves for both together.
beforeEach(() => {
  vi.useFakeTimers({ now: Date.parse('2026-01-01T00:00:00Z') });
});
afterEach(() => {
  vi.useRealTimers();
});

const VALID_MS = 10_000;
const REQUEST = { tee: 'nitro', evidence: evidenceOf('doc'), key: 'hot' };

function setup(readThreshold = 3) {
  let label = 0;
  const verifier = new StubVerifier('nitro', async () => {
    label += 1;
    return validResult('nitro', Date.now(), VALID_MS, `v${label}`);
  });
  const removals: AttestationRemoval[] = [];
  const events: string[] = [];
  const warnings: string[] = [];
  const cache = new AttestationCache({
    verifiers: [verifier],
    refresh: { readThreshold, windowMs: 60_000, aheadRatio: 0.2, retryDelayMs: 500 },
    sweepIntervalMs: 0,
    onRemove: (removal) => removals.push(removal),
    logger: {
      debug() {},
      info() {},
      warn: (message: string) => warnings.push(message),
      error() {},
    },
  });
  const ids: Record<string, number[]> = {};
  for (const event of ['refreshStart', 'refreshed', 'refreshFailed'] as const) {
    cache.on(event, (payload: AttestationCacheEvents[typeof event]) => {
      events.push(event);
      ids[event] = [...(ids[event] ?? []), payload.id];
    });
  }

  return { cache, verifier, removals, events, ids, warnings };
}

async function readTimes(cache: AttestationCache, times: number) {
  const labels: unknown[] = [];
  for (let read = 0; read < times; read += 1) {
    labels.push((await cache.get(REQUEST)).claims.label);
  }

  return labels;
}

describe('AttestationCache background refresh', () => {
  it('re-verifies a hot entry before it expires', async () => {
    const { cache, verifier, removals, events, ids } = setup();
    await readTimes(cache, 3);

    await vi.advanceTimersByTimeAsync(8_000);

    expect(verifier.calls).toBe(2);
    expect(events).toEqual(['refreshStart', 'refreshed']);
    expect(ids.refreshStart).toEqual(ids.refreshed);
    expect(removals.map((removal) => removal.cause)).toEqual(['replaced']);
    expect(await readTimes(cache, 1)).toEqual(['v2']);
    expect(cache.stats()).toMatchObject({ refreshes: 1, refreshFailures: 0 });
  });

  it('keeps serving the current result while the refresh runs', async () => {
    const { cache, verifier } = setup();
    await readTimes(cache, 3);
    let finish: () => void = () => {};
    verifier.behaviour = () =>
      new Promise((resolve) => {
        finish = () => resolve(validResult('nitro', Date.now(), VALID_MS, 'refreshed'));
      });

    await vi.advanceTimersByTimeAsync(8_000);
    const during = await readTimes(cache, 2);
    finish();
    await vi.advanceTimersByTimeAsync(0);

    expect(during).toEqual(['v1', 'v1']);
    expect(cache.stats().staleHits).toBe(2);
    expect(await readTimes(cache, 1)).toEqual(['refreshed']);
  });

  it('leaves an entry read less than the threshold to expire', async () => {
    const { cache, verifier, removals } = setup(5);
    await readTimes(cache, 4);

    await vi.advanceTimersByTimeAsync(VALID_MS);

    expect(verifier.calls).toBe(1);
    expect(cache.has(REQUEST.key)).toBe(false);
    await readTimes(cache, 1);
    expect(removals.map((removal) => removal.cause)).toEqual(['expired']);
  });

  it('reports a failed refresh and serves the old result only until it expires', async () => {
    const { cache, verifier, events, warnings } = setup();
    await readTimes(cache, 3);
    verifier.behaviour = async () => {
      throw new AttestationError('CERTIFICATE_EXPIRED', 'leaf expired');
    };
    const failures: AttestationError[] = [];
    cache.on('refreshFailed', ({ error }) => failures.push(error));

    await vi.advanceTimersByTimeAsync(8_000);

    expect(events).toEqual(['refreshStart', 'refreshFailed']);
    expect(failures[0]?.code).toBe('CERTIFICATE_EXPIRED');
    expect(cache.stats()).toMatchObject({ refreshes: 1, refreshFailures: 1 });
    expect(warnings[0]).toContain('Refreshing attestation hot (nitro) failed');
    expect(await readTimes(cache, 1)).toEqual(['v1']);

    await vi.advanceTimersByTimeAsync(VALID_MS - 8_000);
    const error = await cache.get(REQUEST).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(AttestationError);
    expect(cache.has(REQUEST.key)).toBe(false);
  });

  it('retries a failed refresh after retryDelayMs while the entry stays hot', async () => {
    const { cache, verifier, events } = setup(1);
    await readTimes(cache, 1);
    verifier.behaviour = async (_evidence, call) => {
      if (call === 2) {
        throw new Error('attestation service unavailable');
      }
      return validResult('nitro', Date.now(), VALID_MS, 'retried');
    };

    await vi.advanceTimersByTimeAsync(8_000);
    await readTimes(cache, 1);
    await vi.advanceTimersByTimeAsync(500);

    expect(verifier.calls).toBe(3);
    expect(events).toEqual(['refreshStart', 'refreshFailed', 'refreshStart', 'refreshed']);
    expect(await readTimes(cache, 1)).toEqual(['retried']);
  });

  it('starts no refresh after close', async () => {
    const { cache, verifier } = setup();
    await readTimes(cache, 3);

    await cache.close();
    await vi.advanceTimersByTimeAsync(VALID_MS);

    expect(verifier.calls).toBe(1);
  });

  it('keeps serving when a refresh listener throws', async () => {
    const { cache } = setup();
    cache.on('refreshed', () => {
      throw new Error('listener failed');
    });
    await readTimes(cache, 3);

    await vi.advanceTimersByTimeAsync(8_000);

    expect(await readTimes(cache, 1)).toEqual(['v2']);
  });
});

describe('AttestationCache timers', () => {
  it('let the process exit without close()', () => {
    vi.useRealTimers();
    // A cache with a sweep interval and a pending refresh timer; if either kept
    // the event loop alive the child would hit the spawn timeout.
    const script = `
      import { AttestationCache } from '@agentnode/attestation-cache';
      const verifier = { tee: 'nitro', verify: async () => ({ tee: 'nitro', verifiedAt: Date.now(), expiresAt: Date.now() + 3_600_000, measurements: {}, claims: {} }) };
      const cache = new AttestationCache({ verifiers: [verifier], sweepIntervalMs: 1_000, refresh: { readThreshold: 1 } });
      await cache.get({ tee: 'nitro', evidence: new Uint8Array([1]), key: 'k' });
      await cache.get({ tee: 'nitro', evidence: new Uint8Array([1]), key: 'k' });
      console.log('cached', cache.size);
    `;
    const child = spawnSync(
      process.execPath,
      ['--conditions=source', '--import', 'tsx', '--input-type=module', '--eval', script],
      { cwd: new URL('..', import.meta.url), encoding: 'utf8', timeout: 20_000 },
    );

    expect(child.error).toBeUndefined();
    expect(child.stderr).toBe('');
    expect(child.stdout.trim()).toBe('cached 1');
    expect(child.status).toBe(0);
  });
});

describe('AttestationCache refresh on an injected clock', () => {
  function setupManual() {
    const clock = new ManualClock();
    let label = 0;
    const verifier = new StubVerifier('nitro', async () => {
      label += 1;
      return validResult('nitro', clock.now, VALID_MS, `v${label}`);
    });
    const cache = new AttestationCache({
      verifiers: [verifier],
      clock: clock.read,
      refresh: { readThreshold: 3, windowMs: 60_000, aheadRatio: 0.2, retryDelayMs: 500 },
      sweepIntervalMs: 0,
    });

    return { cache, clock, verifier };
  }

  it('refreshes a hot entry on a stale read', async () => {
    const { cache, clock, verifier } = setupManual();
    await readTimes(cache, 3);
    clock.advance(8_000);

    const stale = await readTimes(cache, 1);
    // Flushes the refresh's promises; the fake timers do not move, so no timer fires.
    await vi.advanceTimersByTimeAsync(0);

    expect(stale).toEqual(['v1']);
    expect(verifier.calls).toBe(2);
    expect(cache.stats()).toMatchObject({ staleHits: 1, refreshes: 1, refreshFailures: 0 });
    expect(await readTimes(cache, 1)).toEqual(['v2']);
  });

  it('leaves a stale entry that is not hot', async () => {
    const { cache, clock, verifier } = setupManual();
    await readTimes(cache, 1);
    clock.advance(8_000);

    await readTimes(cache, 1);
    await vi.advanceTimersByTimeAsync(0);

    expect(verifier.calls).toBe(1);
    expect(cache.stats().refreshes).toBe(0);
  });

  it('retries a failed refresh at retryDelayMs on the clock', async () => {
    const { cache, clock, verifier } = setupManual();
    await readTimes(cache, 3);
    verifier.behaviour = async () => {
      throw new Error('attestation service unavailable');
    };
    clock.advance(8_000);
    await readTimes(cache, 1);
    await vi.advanceTimersByTimeAsync(0);
    verifier.behaviour = async () => validResult('nitro', clock.now, VALID_MS, 'retried');

    clock.advance(499);
    await readTimes(cache, 1);
    await vi.advanceTimersByTimeAsync(0);
    const callsBeforeRetry = verifier.calls;
    clock.advance(1);
    await readTimes(cache, 1);
    await vi.advanceTimersByTimeAsync(0);

    expect(callsBeforeRetry).toBe(2);
    expect(verifier.calls).toBe(3);
    expect(cache.stats()).toMatchObject({ refreshes: 2, refreshFailures: 1 });
    expect(await readTimes(cache, 1)).toEqual(['retried']);
  });
});
