import type { Counter, Gauge, Histogram, MetricsRegistry } from '@agentnode/metrics';
import type { RedisCounters } from './redis-tier';
import { REMOVAL_CAUSES, TeeCounters } from './tee-counters';

/** A cache whose counters the metrics read on scrape. */
export interface CacheMetricsSource {
  teeCounters(): Iterable<TeeCounters>;
  redisCounters(): RedisCounters | undefined;
}

type TeeField = 'hits' | 'staleHits' | 'misses' | 'negativeHits' | 'refreshes' | 'refreshFailures';

const TEE_COUNTERS: readonly { name: string; help: string; field: TeeField }[] = [
  { name: 'hits', help: 'Lookups served a valid cached result.', field: 'hits' },
  {
    name: 'stale_hits',
    help: 'Hits on an entry past its refresh point (still before its expiry).',
    field: 'staleHits',
  },
  { name: 'misses', help: 'Lookups that found no usable entry and verified.', field: 'misses' },
  { name: 'negative_hits', help: 'Lookups served a cached rejection.', field: 'negativeHits' },
  {
    name: 'refreshes',
    help: 'Background re-verifications of hot entries started.',
    field: 'refreshes',
  },
  {
    name: 'refresh_failures',
    help: 'Background re-verifications that failed.',
    field: 'refreshFailures',
  },
];

const REDIS_OUTCOMES = [
  'hits',
  'misses',
  'writes',
  'deletes',
  'errors',
  'malformed',
  'skipped',
] as const;

const registered = new WeakMap<MetricsRegistry, CacheMetrics>();

/**
 * The attestation cache metrics of one registry. Counters are filled on scrape
 * from the plain counters of every cache attached to the registry, so several
 * caches can share one registry.
 */
export class CacheMetrics {
  readonly #sources = new Set<CacheMetricsSource>();
  readonly #verificationSeconds: Histogram<'tee' | 'outcome'>;

  private constructor(metrics: MetricsRegistry) {
    const totals = () => this.#totalsByTee();

    for (const { name, help, field } of TEE_COUNTERS) {
      metrics.counter<'tee'>({
        name: `agentnode_attestation_cache_${name}_total`,
        help,
        labelNames: ['tee'],
        collect(this: Counter<'tee'>) {
          this.reset();
          for (const counters of totals()) {
            this.inc({ tee: counters.tee }, counters[field]);
          }
        },
      });
    }

    metrics.counter<'tee'>({
      name: 'agentnode_attestation_cache_lookups_total',
      help: 'Lookups: hits, misses and negative hits.',
      labelNames: ['tee'],
      collect(this: Counter<'tee'>) {
        this.reset();
        for (const counters of totals()) {
          this.inc({ tee: counters.tee }, counters.lookups);
        }
      },
    });

    metrics.counter<'tee' | 'cause'>({
      name: 'agentnode_attestation_cache_removals_total',
      help: 'Entries removed, by cause; evictions by the size bound have cause "lru".',
      labelNames: ['tee', 'cause'],
      collect(this: Counter<'tee' | 'cause'>) {
        this.reset();
        for (const counters of totals()) {
          for (const cause of REMOVAL_CAUSES) {
            this.inc({ tee: counters.tee, cause }, counters.removals[cause]);
          }
        }
      },
    });

    metrics.counter<'tee' | 'outcome'>({
      name: 'agentnode_attestation_verifications_total',
      help: 'Verifier runs, by outcome: valid, rejected (a verdict against the evidence) or error.',
      labelNames: ['tee', 'outcome'],
      collect(this: Counter<'tee' | 'outcome'>) {
        this.reset();
        for (const counters of totals()) {
          this.inc({ tee: counters.tee, outcome: 'valid' }, counters.verified);
          this.inc({ tee: counters.tee, outcome: 'rejected' }, counters.rejected);
          this.inc({ tee: counters.tee, outcome: 'error' }, counters.verifierErrors);
        }
      },
    });

    metrics.gauge<'tee'>({
      name: 'agentnode_attestation_cache_entries',
      help: 'Entries in the cache, valid and negative.',
      labelNames: ['tee'],
      collect(this: Gauge<'tee'>) {
        this.reset();
        for (const counters of totals()) {
          this.set({ tee: counters.tee }, counters.entries);
        }
      },
    });

    metrics.gauge<'tee'>({
      name: 'agentnode_attestation_cache_hit_ratio',
      help: 'Hits divided by lookups since the cache started; 0 before the first lookup.',
      labelNames: ['tee'],
      collect(this: Gauge<'tee'>) {
        this.reset();
        for (const counters of totals()) {
          const lookups = counters.lookups;
          this.set({ tee: counters.tee }, lookups === 0 ? 0 : counters.hits / lookups);
        }
      },
    });

    const sources = this.#sources;
    metrics.counter<'outcome'>({
      name: 'agentnode_attestation_cache_redis_outcomes_total',
      help: 'Shared-tier outcomes: hits, misses, writes, deletes, errors, malformed values, and commands skipped during backoff.',
      labelNames: ['outcome'],
      collect(this: Counter<'outcome'>) {
        this.reset();
        for (const outcome of REDIS_OUTCOMES) {
          let total = 0;
          for (const source of sources) {
            total += source.redisCounters()?.[outcome] ?? 0;
          }
          this.inc({ outcome }, total);
        }
      },
    });

    this.#verificationSeconds = metrics.histogram<'tee' | 'outcome'>({
      name: 'agentnode_attestation_verification_duration_seconds',
      help: 'Time one verifier run took, by outcome.',
      labelNames: ['tee', 'outcome'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    });
  }

  /** Returns the metrics of `metrics`, registering them on first use. */
  static of(metrics: MetricsRegistry): CacheMetrics {
    let cacheMetrics = registered.get(metrics);
    if (!cacheMetrics) {
      cacheMetrics = new CacheMetrics(metrics);
      registered.set(metrics, cacheMetrics);
    }

    return cacheMetrics;
  }

  attach(source: CacheMetricsSource): void {
    this.#sources.add(source);
  }

  detach(source: CacheMetricsSource): void {
    this.#sources.delete(source);
  }

  observeVerification(tee: string, outcome: 'valid' | 'rejected' | 'error', seconds: number): void {
    this.#verificationSeconds.observe({ tee, outcome }, seconds);
  }

  /** Sums the counters of every attached cache by TEE type. */
  #totalsByTee(): TeeCounters[] {
    const sources = [...this.#sources];
    if (sources.length === 1) {
      return [...sources[0]!.teeCounters()];
    }

    const sums = new Map<string, TeeCounters>();
    for (const source of sources) {
      for (const counters of source.teeCounters()) {
        let sum = sums.get(counters.tee);
        if (!sum) {
          sum = new TeeCounters(counters.tee);
          sums.set(counters.tee, sum);
        }
        sum.add(counters);
      }
    }

    return [...sums.values()];
  }
}
