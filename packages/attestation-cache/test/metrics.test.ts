import { AttestationCache, AttestationError } from '@agentnode/attestation-cache';
import { createMetricsRegistry, type MetricsRegistry } from '@agentnode/metrics';
import { describe, expect, it } from 'vitest';
import { acceptingVerifier, evidenceOf, ManualClock } from './helpers';

/** Reads one sample from the exposition text, or undefined when it is absent. */
async function sample(metrics: MetricsRegistry, series: string): Promise<number | undefined> {
  const text = await metrics.metrics();
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

function setup(metrics: MetricsRegistry) {
  const clock = new ManualClock();
  const nitro = acceptingVerifier('nitro', clock);
  const tdx = acceptingVerifier('tdx', clock);
  const cache = new AttestationCache({
    verifiers: [nitro, tdx],
    clock: clock.read,
    metrics,
    maxEntries: 2,
  });

  return { cache, clock, nitro, tdx };
}

describe('AttestationCache metrics', () => {
  it('reports lookups, removals and verifications by TEE type', async () => {
    const metrics = createMetricsRegistry({ collectSystem: false });
    const { cache, tdx } = setup(metrics);
    await cache.get({ tee: 'nitro', evidence: evidenceOf('a') });
    await cache.get({ tee: 'nitro', evidence: evidenceOf('a') });
    await cache.get({ tee: 'nitro', evidence: evidenceOf('a') });
    await cache.get({ tee: 'nitro', evidence: evidenceOf('b') });
    tdx.behaviour = async () => {
      throw new AttestationError('DEBUG_ENCLAVE', 'debug');
    };
    await cache.get({ tee: 'tdx', evidence: evidenceOf('c') }).catch(() => {});

    expect(await sample(metrics, 'agentnode_attestation_cache_hits_total{tee="nitro"}')).toBe(2);
    expect(await sample(metrics, 'agentnode_attestation_cache_misses_total{tee="nitro"}')).toBe(2);
    expect(await sample(metrics, 'agentnode_attestation_cache_lookups_total{tee="nitro"}')).toBe(4);
    expect(await sample(metrics, 'agentnode_attestation_cache_hit_ratio{tee="nitro"}')).toBe(0.5);
    expect(await sample(metrics, 'agentnode_attestation_cache_misses_total{tee="tdx"}')).toBe(1);
    expect(
      await sample(metrics, 'agentnode_attestation_cache_removals_total{tee="nitro",cause="lru"}'),
    ).toBe(1);
    expect(await sample(metrics, 'agentnode_attestation_cache_entries{tee="tdx"}')).toBe(1);
    expect(
      await sample(
        metrics,
        'agentnode_attestation_verifications_total{tee="tdx",outcome="rejected"}',
      ),
    ).toBe(1);
    expect(
      await sample(
        metrics,
        'agentnode_attestation_verification_duration_seconds_count{tee="nitro",outcome="valid"}',
      ),
    ).toBe(2);
    await cache.close();
  });

  it('sums two caches that share a registry', async () => {
    const metrics = createMetricsRegistry({ collectSystem: false });
    const first = setup(metrics);
    const second = setup(metrics);

    await first.cache.get({ tee: 'nitro', evidence: evidenceOf('a') });
    await second.cache.get({ tee: 'nitro', evidence: evidenceOf('a') });
    await second.cache.get({ tee: 'nitro', evidence: evidenceOf('a') });

    expect(await sample(metrics, 'agentnode_attestation_cache_misses_total{tee="nitro"}')).toBe(2);
    expect(await sample(metrics, 'agentnode_attestation_cache_hits_total{tee="nitro"}')).toBe(1);
    await Promise.all([first.cache.close(), second.cache.close()]);
  });

  it('reports Redis outcomes as zero without a Redis tier', async () => {
    const metrics = createMetricsRegistry({ collectSystem: false });
    const { cache } = setup(metrics);

    expect(
      await sample(metrics, 'agentnode_attestation_cache_redis_outcomes_total{outcome="errors"}'),
    ).toBe(0);
    await cache.close();
  });

  it('stops reporting a cache after close', async () => {
    const metrics = createMetricsRegistry({ collectSystem: false });
    const { cache } = setup(metrics);
    await cache.get({ tee: 'nitro', evidence: evidenceOf('a') });

    await cache.close();

    expect(
      await sample(metrics, 'agentnode_attestation_cache_misses_total{tee="nitro"}'),
    ).toBeUndefined();
  });
});
