/** The reason an entry left the cache. */
export type RemovalCause = 'lru' | 'expired' | 'deleted' | 'cleared' | 'replaced';

/** Every removal cause, in a fixed order for stats and metrics. */
export const REMOVAL_CAUSES: readonly RemovalCause[] = Object.freeze([
  'lru',
  'expired',
  'deleted',
  'cleared',
  'replaced',
]);

/**
 * Plain counters for one TEE type. The lookup path bumps these fields directly;
 * stats and metrics read them, so metrics cost nothing until a scrape.
 */
export class TeeCounters {
  readonly tee: string;
  hits = 0;
  staleHits = 0;
  misses = 0;
  negativeHits = 0;
  refreshes = 0;
  refreshFailures = 0;
  verified = 0;
  rejected = 0;
  verifierErrors = 0;
  entries = 0;
  readonly removals: Record<RemovalCause, number> = {
    lru: 0,
    expired: 0,
    deleted: 0,
    cleared: 0,
    replaced: 0,
  };

  constructor(tee: string) {
    this.tee = tee;
  }

  get lookups(): number {
    return this.hits + this.misses + this.negativeHits;
  }

  /** Adds every count of `other` to this one. */
  add(other: TeeCounters): this {
    this.hits += other.hits;
    this.staleHits += other.staleHits;
    this.misses += other.misses;
    this.negativeHits += other.negativeHits;
    this.refreshes += other.refreshes;
    this.refreshFailures += other.refreshFailures;
    this.verified += other.verified;
    this.rejected += other.rejected;
    this.verifierErrors += other.verifierErrors;
    this.entries += other.entries;
    for (const cause of REMOVAL_CAUSES) {
      this.removals[cause] += other.removals[cause];
    }

    return this;
  }
}
