import { type AttestationResult, describe, isTeeType, type TeeType } from './attestation-result';
import { AttestationError } from './errors';

/** Per-call options a {@link Verifier} receives. */
export interface VerifyOptions {
  /** Aborted when the caller stops waiting (for example on the cache's verify timeout). */
  signal?: AbortSignal;
}

/**
 * Checks evidence from one TEE type. `verify` returns a result for evidence it
 * accepts and throws an {@link AttestationError} for evidence it rejects; any other
 * thrown value is reported as `VERIFIER_ERROR`.
 *
 * @example
 * import type { Verifier } from '@agentnode/attestation-cache';
 * const verifier: Verifier = {
 *   tee: 'sev-snp',
 *   async verify(evidence) {
 *     const report = await checkReport(evidence); // your chain and signature checks
 *     return { tee: 'sev-snp', verifiedAt: Date.now(), expiresAt: report.notAfter, measurements: { MEASUREMENT: report.measurement }, claims: {} };
 *   },
 * };
 */
export interface Verifier {
  /** The TEE type this verifier handles. */
  readonly tee: TeeType;
  verify(evidence: Uint8Array, options?: VerifyOptions): Promise<AttestationResult>;
}

/**
 * The verifiers a cache can use, one per TEE type. Lookups of a type with no
 * verifier throw `UNKNOWN_TEE`, so evidence from an unknown platform is never
 * accepted.
 *
 * @example
 * import { createNitroVerifier, VerifierRegistry } from '@agentnode/attestation-cache';
 * const verifiers = new VerifierRegistry([createNitroVerifier()]);
 * verifiers.get('nitro'); // the Nitro verifier
 * verifiers.get('tdx'); // throws AttestationError UNKNOWN_TEE
 */
export class VerifierRegistry {
  readonly #verifiers = new Map<string, Verifier>();

  constructor(verifiers: Iterable<Verifier> = []) {
    for (const verifier of verifiers) {
      this.register(verifier);
    }
  }

  /**
   * Adds `verifier` for its TEE type.
   * @throws {AttestationError} `INVALID_CONFIG` when the type name is invalid, the
   * object has no `verify` method, or the type already has a verifier.
   */
  register(verifier: Verifier): this {
    if (
      typeof verifier !== 'object' ||
      verifier === null ||
      typeof verifier.verify !== 'function'
    ) {
      throw new AttestationError(
        'INVALID_CONFIG',
        `A verifier must be an object with a verify(evidence) method, got ${describe(verifier)}.`,
      );
    }
    if (!isTeeType(verifier.tee)) {
      throw new AttestationError(
        'INVALID_CONFIG',
        `Verifier tee must match /^[a-z0-9][a-z0-9-]{0,31}$/, got ${describe(verifier.tee)}.`,
      );
    }
    if (this.#verifiers.has(verifier.tee)) {
      throw new AttestationError(
        'INVALID_CONFIG',
        `A verifier for tee "${verifier.tee}" is already registered; register one verifier per type.`,
      );
    }

    this.#verifiers.set(verifier.tee, verifier);
    return this;
  }

  /**
   * Returns the verifier for `tee`.
   * @throws {AttestationError} `UNKNOWN_TEE` when no verifier is registered for it.
   */
  get(tee: TeeType): Verifier {
    const verifier = typeof tee === 'string' ? this.#verifiers.get(tee) : undefined;
    if (!verifier) {
      const known = [...this.#verifiers.keys()].join(', ') || 'none';
      throw new AttestationError(
        'UNKNOWN_TEE',
        `No verifier is registered for tee ${describe(tee)} (registered: ${known}); evidence from it is rejected.`,
      );
    }

    return verifier;
  }

  /** Tells whether a verifier is registered for `tee`. */
  has(tee: TeeType): boolean {
    return this.#verifiers.has(tee);
  }

  /** Lists the registered TEE types. */
  types(): TeeType[] {
    return [...this.#verifiers.keys()];
  }
}
