/**
 * Codes a caller can act on, carried by every {@link AttestationError}.
 *
 * Codes that reject the evidence itself (see {@link isEvidenceRejection}) are
 * verdicts: the same evidence gets the same verdict again. The others report that
 * no verdict was reached (a verifier fault, a timeout, an abort) or misuse.
 */
export type AttestationErrorCode =
  // Misuse.
  | 'INVALID_CONFIG'
  | 'INVALID_ARGUMENT'
  | 'UNKNOWN_TEE'
  | 'CACHE_CLOSED'
  // Verdicts on the evidence.
  | 'MALFORMED_EVIDENCE'
  | 'UNTRUSTED_ROOT'
  | 'CHAIN_INVALID'
  | 'CERTIFICATE_EXPIRED'
  | 'CERTIFICATE_NOT_YET_VALID'
  | 'SIGNATURE_INVALID'
  | 'PCR_MISMATCH'
  | 'NONCE_MISMATCH'
  | 'EVIDENCE_TOO_OLD'
  | 'TIMESTAMP_IN_FUTURE'
  | 'DEBUG_ENCLAVE'
  // No verdict reached.
  | 'VERIFIER_ERROR'
  | 'VERIFY_TIMEOUT'
  | 'ABORTED'
  // Shared tier: reported through events and stats, never thrown to callers.
  | 'INVALID_REDIS_VALUE';

const REJECTION_CODES: ReadonlySet<AttestationErrorCode> = new Set<AttestationErrorCode>([
  'MALFORMED_EVIDENCE',
  'UNTRUSTED_ROOT',
  'CHAIN_INVALID',
  'CERTIFICATE_EXPIRED',
  'CERTIFICATE_NOT_YET_VALID',
  'SIGNATURE_INVALID',
  'PCR_MISMATCH',
  'NONCE_MISMATCH',
  'EVIDENCE_TOO_OLD',
  'TIMESTAMP_IN_FUTURE',
  'DEBUG_ENCLAVE',
]);

/**
 * The one error class of `@agentnode/attestation-cache`: thrown for invalid
 * configuration or arguments, for evidence a verifier rejects, and when a
 * verification could not finish.
 *
 * @example
 * import { isAttestationError } from '@agentnode/attestation-cache';
 * try {
 *   await cache.get({ tee: 'nitro', evidence });
 * } catch (error) {
 *   if (isAttestationError(error, 'DEBUG_ENCLAVE')) console.log('debug-mode enclave rejected');
 * }
 */
export class AttestationError extends Error {
  override readonly name = 'AttestationError';
  readonly code: AttestationErrorCode;

  constructor(code: AttestationErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** Tells whether `value` is an {@link AttestationError}, optionally with the given code. */
export function isAttestationError(
  value: unknown,
  code?: AttestationErrorCode,
): value is AttestationError {
  return value instanceof AttestationError && (code === undefined || value.code === code);
}

/**
 * Tells whether `value` is a verdict against the evidence (bad structure, chain,
 * signature or policy) rather than a failure to reach one. Only verdicts are
 * kept as negative cache entries.
 *
 * @example
 * import { isEvidenceRejection } from '@agentnode/attestation-cache';
 * cache.get(request).catch((error) => {
 *   if (isEvidenceRejection(error)) alert(`evidence rejected: ${error.code}`);
 *   else retryLater(error); // VERIFIER_ERROR, VERIFY_TIMEOUT, ...
 * });
 */
export function isEvidenceRejection(value: unknown): value is AttestationError {
  return value instanceof AttestationError && REJECTION_CODES.has(value.code);
}

/** Wraps anything a verifier threw that is not an {@link AttestationError}. */
export function toAttestationError(value: unknown, tee: string): AttestationError {
  if (value instanceof AttestationError) {
    return value;
  }

  const detail = value instanceof Error ? value.message : String(value);
  return new AttestationError('VERIFIER_ERROR', `The ${tee} verifier failed: ${detail}`, {
    cause: value,
  });
}
