import { createHash } from 'node:crypto';
import { describe, isTeeType, TEE_TYPE, type TeeType } from './attestation-result';
import { AttestationError } from './errors';

/**
 * Computes the cache key of a piece of evidence: its TEE type and the SHA-256 of
 * its bytes, as `<tee>:<64 hex digits>`. Compute it once and pass it as
 * `request.key` to skip hashing on every lookup.
 *
 * @throws {AttestationError} `INVALID_ARGUMENT` when `tee` is not a TEE type name
 * or `evidence` is not a non-empty Uint8Array.
 * @example
 * import { attestationKey } from '@agentnode/attestation-cache';
 * const key = attestationKey('nitro', documentBytes); // 'nitro:9f86d0...'
 */
export function attestationKey(tee: TeeType, evidence: Uint8Array): string {
  requireTeeType(tee, 'tee');
  requireEvidence(evidence, 'evidence');

  return hashKey(tee, evidence);
}

/** Computes the key of {@link attestationKey} for arguments already checked. */
export function hashKey(tee: TeeType, evidence: Uint8Array): string {
  return `${tee}:${createHash('sha256').update(evidence).digest('hex')}`;
}

/** Throws `INVALID_ARGUMENT` unless `tee` is a TEE type name; `known` lists the registered ones. */
export function requireTeeType(tee: unknown, name: string, known?: readonly string[]): void {
  if (isTeeType(tee)) {
    return;
  }

  const registered = known === undefined ? '' : ` (registered: ${known.join(', ') || 'none'})`;
  throw new AttestationError(
    'INVALID_ARGUMENT',
    `${name} must be a TEE type name matching ${TEE_TYPE}${registered}, got ${describe(tee)}.`,
  );
}

/** Throws `INVALID_ARGUMENT` unless `evidence` is a non-empty Uint8Array. */
export function requireEvidence(evidence: unknown, name: string): void {
  if (evidence instanceof Uint8Array && evidence.length > 0) {
    return;
  }

  throw new AttestationError(
    'INVALID_ARGUMENT',
    `${name} must be a non-empty Uint8Array (a Buffer is one), got ${describe(evidence)}.${wrapHint(evidence)}`,
  );
}

/** Tells how to turn the other binary types into a Uint8Array. */
function wrapHint(evidence: unknown): string {
  if (evidence instanceof ArrayBuffer) {
    return ' Pass a view of its bytes, such as new Uint8Array(buffer).';
  }
  if (ArrayBuffer.isView(evidence) && !(evidence instanceof Uint8Array)) {
    return ' Pass a view of its bytes, such as new Uint8Array(view.buffer, view.byteOffset, view.byteLength).';
  }

  return '';
}
