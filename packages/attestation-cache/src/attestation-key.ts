import { createHash } from 'node:crypto';
import type { TeeType } from './attestation-result';

/**
 * Computes the cache key of a piece of evidence: its TEE type and the SHA-256 of
 * its bytes, as `<tee>:<64 hex digits>`. Compute it once and pass it as
 * `request.key` to skip hashing on every lookup.
 *
 * @example
 * import { attestationKey } from '@agentnode/attestation-cache';
 * const key = attestationKey('nitro', documentBytes); // 'nitro:9f86d0...'
 */
export function attestationKey(tee: TeeType, evidence: Uint8Array): string {
  return `${tee}:${createHash('sha256').update(evidence).digest('hex')}`;
}
