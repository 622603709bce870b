/**
 * Protection level required where a tool's data is processed, from least to most protected:
 *
 * - `open`: anywhere.
 * - `at_rest`: storage must be encrypted.
 * - `cpu_tee`: inside a CPU trusted execution environment (SEV-SNP, TDX).
 * - `gpu_cc`: a GPU in confidential-computing mode as well.
 * - `gpu_tee_io`: a GPU with TEE-IO, protecting the link to the device too.
 *
 * Tools of tier `cpu_tee` and above run only after the `AttestationGate` allows them.
 */
export type PrivacyTier = 'open' | 'at_rest' | 'cpu_tee' | 'gpu_cc' | 'gpu_tee_io';

/** Every privacy tier, from least to most protected. */
export const PRIVACY_TIERS: readonly PrivacyTier[] = Object.freeze([
  'open',
  'at_rest',
  'cpu_tee',
  'gpu_cc',
  'gpu_tee_io',
]);

const RANKS: ReadonlyMap<string, number> = new Map(PRIVACY_TIERS.map((tier, rank) => [tier, rank]));
const FIRST_ATTESTED_RANK = 2;

/**
 * Tells whether `value` names a privacy tier.
 *
 * @example
 * import { isPrivacyTier } from '@agentnode/core';
 * isPrivacyTier('cpu_tee'); // true
 * isPrivacyTier('secret'); // false
 */
export function isPrivacyTier(value: unknown): value is PrivacyTier {
  return typeof value === 'string' && RANKS.has(value);
}

/**
 * Tells whether a tool of this tier needs an attestation before it runs
 * (`cpu_tee` and above).
 *
 * @example
 * import { requiresAttestation } from '@agentnode/core';
 * requiresAttestation('at_rest'); // false
 * requiresAttestation('gpu_cc'); // true
 */
export function requiresAttestation(tier: PrivacyTier): boolean {
  return (RANKS.get(tier) ?? 0) >= FIRST_ATTESTED_RANK;
}

/**
 * Compares two tiers: negative when `a` is less protected than `b`, 0 when
 * equal, positive when more protected.
 *
 * @example
 * import { comparePrivacyTiers } from '@agentnode/core';
 * comparePrivacyTiers('gpu_cc', 'cpu_tee') > 0; // true
 */
export function comparePrivacyTiers(a: PrivacyTier, b: PrivacyTier): number {
  return (RANKS.get(a) ?? 0) - (RANKS.get(b) ?? 0);
}
