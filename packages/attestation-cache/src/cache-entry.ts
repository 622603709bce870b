import type { AttestationResult, TeeType } from './attestation-result';
import type { AttestationError } from './errors';
import type { TeeCounters } from './tee-counters';

/**
 * One cached verdict: a valid result, or a rejection kept for a short time
 * (`error` set, `result` undefined). Times are milliseconds on the cache clock.
 */
export class CacheEntry {
  readonly key: string;
  readonly tee: TeeType;
  /** The evidence to re-verify on refresh; a copy, so callers cannot change it. */
  readonly evidence: Uint8Array;
  readonly result: AttestationResult | undefined;
  readonly error: AttestationError | undefined;
  /** Hard expiry: the entry is never served at or after this time. */
  readonly expiresAt: number;
  /** From this time a hit counts as stale and a hot entry is due for refresh. */
  readonly refreshAt: number;
  readonly counters: TeeCounters;

  /** Start of the current read-counting window. */
  windowStart = 0;
  /** Reads in the current window. */
  windowReads = 0;
  /** Last time the read count reached the hot threshold. */
  hotAt = Number.NEGATIVE_INFINITY;
  /** No refresh starts before this time (set after a failed refresh). */
  retryAt = 0;
  refreshing = false;
  refreshTimer: NodeJS.Timeout | undefined = undefined;

  constructor(
    key: string,
    tee: TeeType,
    evidence: Uint8Array,
    verdict: { result: AttestationResult } | { error: AttestationError },
    expiresAt: number,
    refreshAt: number,
    counters: TeeCounters,
  ) {
    this.key = key;
    this.tee = tee;
    this.evidence = evidence;
    this.result = 'result' in verdict ? verdict.result : undefined;
    this.error = 'error' in verdict ? verdict.error : undefined;
    this.expiresAt = expiresAt;
    this.refreshAt = refreshAt;
    this.counters = counters;
  }

  /** Carries read tracking over from the entry this one replaces, so a hot entry stays hot. */
  inheritReads(previous: CacheEntry): void {
    this.windowStart = previous.windowStart;
    this.windowReads = previous.windowReads;
    this.hotAt = previous.hotAt;
  }
}
