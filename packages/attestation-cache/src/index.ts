export {
  AttestationCache,
  type AttestationCacheStats,
  type AttestationGetOptions,
  type AttestationRequest,
  type AttestationTeeStats,
} from './attestation-cache';
export { attestationKey } from './attestation-key';
export {
  type AttestationResult,
  type ClaimValue,
  isTeeType,
  parseAttestationResult,
  type TeeType,
} from './attestation-result';
export type {
  AttestationCacheConfig,
  AttestationCacheEvents,
  AttestationRemoval,
  Logger,
  RefreshConfig,
} from './cache-config';
export {
  AttestationError,
  type AttestationErrorCode,
  isAttestationError,
  isEvidenceRejection,
} from './errors';
export {
  AWS_NITRO_ROOT_G1_FINGERPRINT,
  createNitroVerifier,
  NitroVerifier,
  type NitroVerifierConfig,
} from './nitro/nitro-verifier';
export type { RedisClientLike, RedisCounters, RedisOperation, RedisTierConfig } from './redis-tier';
export { REMOVAL_CAUSES, type RemovalCause } from './tee-counters';
export { type Verifier, VerifierRegistry, type VerifyOptions } from './verifier';
