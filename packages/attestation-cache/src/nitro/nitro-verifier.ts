import { type KeyObject, verify as verifySignature } from 'node:crypto';
import { type AttestationResult, type ClaimValue, describe } from '../attestation-result';
import { AttestationError } from '../errors';
import {
  invalidConfig,
  nonNegativeInteger,
  positiveInteger,
  rejectUnknownKeys,
  requireObject,
  resolveBoolean,
  resolveClock,
} from '../validation';
import type { Verifier, VerifyOptions } from '../verifier';
import { normalizeFingerprint, verifyCertificateChain } from './certificate-chain';
import { coseSign1SigStructure, decodeCoseSign1, malformed } from './cose-sign1';
import { type NitroDocument, parseNitroDocument } from './nitro-document';

/**
 * SHA-256 fingerprint of the AWS Nitro Enclaves root certificate G1
 * (`CN=aws.nitro-enclaves`, valid 2019-10-28 to 2049-10-28), the trust anchor of
 * every attestation document from the commercial AWS partitions.
 */
export const AWS_NITRO_ROOT_G1_FINGERPRINT =
  '641a0321a3e244efe456463195d606317ed7cdcc3c1756e09893f3c68f79bb5b';

/** Options of {@link createNitroVerifier}, all optional. */
export interface NitroVerifierConfig {
  /**
   * SHA-256 fingerprints (hex, colons allowed) of the root certificates to trust.
   * @default [AWS_NITRO_ROOT_G1_FINGERPRINT]
   */
  trustedRootFingerprints?: readonly string[];
  /**
   * PCR values the enclave must have, by PCR index (0 to 31), as hex or bytes of
   * 48 bytes. PCRs not listed are not checked.
   * @default {}
   */
  expectedPcrs?: Readonly<Record<number, string | Uint8Array>>;
  /**
   * The nonce the document must carry, as hex or bytes.
   * @default undefined (no nonce is required)
   */
  expectedNonce?: string | Uint8Array;
  /**
   * Maximum age of the document (now minus its timestamp). The result's
   * `expiresAt` is never later than the timestamp plus this age.
   * @default undefined (only certificate validity bounds the age, about three hours for the leaf)
   */
  maxAgeMs?: number;
  /**
   * Accepts debug-mode enclaves, whose PCR0, PCR1 and PCR2 are all zero bytes and
   * whose memory the parent instance can read. Only for development.
   * @default false
   */
  allowDebug?: boolean;
  /**
   * How far the document's timestamp may lie ahead of the verifier's clock.
   * @default 60_000
   */
  clockSkewMs?: number;
  /**
   * Largest accepted document, checked before decoding.
   * @default 32_768
   */
  maxEvidenceBytes?: number;
  /**
   * The verification time in milliseconds since the Unix epoch. Inject a fixed
   * time to verify recorded documents.
   *
   * Note: behind an `AttestationCache`, give the cache the same `clock`. The cache
   * checks every result against its own clock and rejects one that expired by
   * then with `VERIFIER_ERROR`.
   * @default Date.now
   */
  clock?: () => number;
}

interface ResolvedNitroConfig {
  readonly trustedRoots: ReadonlySet<string>;
  readonly expectedPcrs: ReadonlyMap<number, string>;
  readonly expectedNonce: string | undefined;
  readonly maxAgeMs: number | undefined;
  readonly allowDebug: boolean;
  readonly clockSkewMs: number;
  readonly maxEvidenceBytes: number;
  readonly clock: () => number;
}

const NITRO_CONFIG_KEYS: readonly (keyof NitroVerifierConfig)[] = [
  'trustedRootFingerprints',
  'expectedPcrs',
  'expectedNonce',
  'maxAgeMs',
  'allowDebug',
  'clockSkewMs',
  'maxEvidenceBytes',
  'clock',
];

/** COSE algorithm identifier of ECDSA with SHA-384, which Nitro documents use. */
const ES384 = -35;
/** An ES384 signature is r and s of 48 bytes each, concatenated. */
const ES384_SIGNATURE_BYTES = 96;
const PCR_BYTES = 48;
const DEBUG_PCRS = [0, 1, 2] as const;
const HEX = /^(?:[0-9a-f]{2})*$/;

/**
 * Verifies AWS Nitro Enclaves attestation documents (COSE_Sign1 over CBOR). It
 * decodes the document and checks every mandatory field. It then walks the
 * certificate bundle to a pinned root and checks every certificate's validity
 * at the verification time. Last, it checks the ES384 signature over the COSE
 * structure and applies the policy (debug mode, PCRs, nonce, age).
 *
 * The result's `measurements` are `PCR0`..`PCR31` as hex; its `claims` are
 * `moduleId`, `digest`, `timestamp`, `debug`, `certificateFingerprint256`, and
 * `nonce`, `userData` and `publicKey` as hex when present. Its `expiresAt` is the
 * earliest `notAfter` of the chain, or the timestamp plus `maxAgeMs` if earlier.
 *
 * @example
 * import { createNitroVerifier } from '@agentnode/attestation-cache';
 * // imagePcr0: the enclave image's PCR0 as 96 hex digits (48 bytes).
 * const verifier = createNitroVerifier({ expectedPcrs: { 0: imagePcr0 }, maxAgeMs: 300_000 });
 * const result = await verifier.verify(documentBytes);
 * console.log(result.claims.moduleId, new Date(result.expiresAt));
 */
export class NitroVerifier implements Verifier {
  readonly tee = 'nitro';
  readonly #config: ResolvedNitroConfig;

  constructor(config: NitroVerifierConfig = {}) {
    this.#config = resolveConfig(config);
  }

  async verify(evidence: Uint8Array, options: VerifyOptions = {}): Promise<AttestationResult> {
    if (options.signal?.aborted) {
      throw new AttestationError('ABORTED', 'Nitro verification was aborted before it started.', {
        cause: options.signal.reason,
      });
    }

    return this.verifySync(evidence);
  }

  /**
   * Verifies `evidence` synchronously. The work is CPU-bound: a few milliseconds
   * per document, measured in benchmarks/attestation.bench.ts.
   * @throws {AttestationError} for every rejection; never any other error.
   */
  verifySync(evidence: Uint8Array): AttestationResult {
    try {
      return this.#check(evidence);
    } catch (error) {
      if (error instanceof AttestationError) {
        throw error;
      }
      // Decoders and X.509 parsing are checked step by step; anything left is a fault, not a verdict.
      const detail = error instanceof Error ? error.message : String(error);
      throw new AttestationError(
        'VERIFIER_ERROR',
        `The Nitro verifier failed on this document: ${detail}`,
        {
          cause: error,
        },
      );
    }
  }

  #check(evidence: Uint8Array): AttestationResult {
    const config = this.#config;
    if (!(evidence instanceof Uint8Array)) {
      throw new AttestationError(
        'INVALID_ARGUMENT',
        `Nitro evidence must be a Uint8Array, got ${describe(evidence)}.`,
      );
    }
    if (evidence.length > config.maxEvidenceBytes) {
      throw malformed(
        `The attestation document has ${evidence.length} bytes, more than maxEvidenceBytes (${config.maxEvidenceBytes})`,
      );
    }

    const now = config.clock();
    if (!Number.isFinite(now)) {
      throw new AttestationError(
        'VERIFIER_ERROR',
        `The Nitro verifier clock returned ${describe(now)}, not a time in milliseconds.`,
      );
    }
    const message = decodeCoseSign1(evidence);
    if (message.algorithm !== ES384) {
      throw malformed(`The COSE algorithm must be ES384 (-35), got ${message.algorithm}`);
    }

    const document = parseNitroDocument(message.payload);
    const chain = verifyCertificateChain(
      document.cabundle,
      document.certificate,
      config.trustedRoots,
      now,
    );
    checkSignature(
      message.protectedHeader,
      message.payload,
      message.signature,
      chain.leaf.publicKey,
    );

    const debug = isDebugMode(document.pcrs);
    this.#applyPolicy(document, debug, now);

    const ageLimit =
      config.maxAgeMs === undefined
        ? Number.POSITIVE_INFINITY
        : document.timestamp + config.maxAgeMs;
    return Object.freeze({
      tee: 'nitro',
      verifiedAt: now,
      expiresAt: Math.min(chain.notAfter, ageLimit),
      measurements: Object.freeze(measurementsOf(document.pcrs)),
      claims: Object.freeze(
        claimsOf(document, debug, normalizeFingerprint(chain.leaf.fingerprint256)),
      ),
    });
  }

  #applyPolicy(document: NitroDocument, debug: boolean, now: number): void {
    const config = this.#config;
    if (debug && !config.allowDebug) {
      throw new AttestationError(
        'DEBUG_ENCLAVE',
        `Enclave ${document.moduleId} runs in debug mode (PCR0, PCR1 or PCR2 is all zeros); set allowDebug to accept it.`,
      );
    }

    for (const [index, expected] of config.expectedPcrs) {
      const actual = document.pcrs.get(index);
      const actualHex = actual ? toHex(actual) : 'absent';
      if (actualHex !== expected) {
        throw new AttestationError(
          'PCR_MISMATCH',
          `PCR${index} is ${actualHex}, expected ${expected}.`,
        );
      }
    }

    if (config.expectedNonce !== undefined) {
      const nonce = document.nonce ? toHex(document.nonce) : undefined;
      if (nonce !== config.expectedNonce) {
        throw new AttestationError(
          'NONCE_MISMATCH',
          `The document nonce is ${nonce ?? 'absent'}, expected ${config.expectedNonce}.`,
        );
      }
    }

    if (document.timestamp > now + config.clockSkewMs) {
      throw new AttestationError(
        'TIMESTAMP_IN_FUTURE',
        `The document timestamp ${new Date(document.timestamp).toISOString()} is more than clockSkewMs (${config.clockSkewMs}) after the verification time ${new Date(now).toISOString()}.`,
      );
    }
    if (config.maxAgeMs !== undefined && now - document.timestamp > config.maxAgeMs) {
      throw new AttestationError(
        'EVIDENCE_TOO_OLD',
        `The document is ${now - document.timestamp} ms old, more than maxAgeMs (${config.maxAgeMs}).`,
      );
    }
  }
}

/**
 * Creates a {@link NitroVerifier}.
 *
 * @throws {AttestationError} `INVALID_CONFIG` naming the option that is wrong.
 * @example
 * import { createNitroVerifier } from '@agentnode/attestation-cache';
 * const verifier = createNitroVerifier({ expectedNonce: challengeHex });
 */
export function createNitroVerifier(config: NitroVerifierConfig = {}): NitroVerifier {
  return new NitroVerifier(config);
}

function checkSignature(
  protectedHeader: Uint8Array,
  payload: Uint8Array,
  signature: Uint8Array,
  key: KeyObject,
): void {
  if (signature.length !== ES384_SIGNATURE_BYTES) {
    throw new AttestationError(
      'SIGNATURE_INVALID',
      `An ES384 signature has ${ES384_SIGNATURE_BYTES} bytes, got ${signature.length}.`,
    );
  }

  let valid: boolean;
  try {
    valid = verifySignature(
      'sha384',
      coseSign1SigStructure(protectedHeader, payload),
      { key, dsaEncoding: 'ieee-p1363' },
      signature,
    );
  } catch (error) {
    throw new AttestationError('SIGNATURE_INVALID', 'The COSE_Sign1 signature cannot be checked.', {
      cause: error,
    });
  }

  if (!valid) {
    throw new AttestationError(
      'SIGNATURE_INVALID',
      'The COSE_Sign1 signature does not verify with the leaf certificate key.',
    );
  }
}

/** Nitro fills PCR0, PCR1 and PCR2 with zeros in debug mode; a missing one counts as debug too. */
function isDebugMode(pcrs: ReadonlyMap<number, Uint8Array>): boolean {
  return DEBUG_PCRS.some((index) => {
    const value = pcrs.get(index);
    return value === undefined || value.every((byte) => byte === 0);
  });
}

function measurementsOf(pcrs: ReadonlyMap<number, Uint8Array>): Record<string, string> {
  const ordered = [...pcrs].sort(([a], [b]) => a - b);
  return Object.fromEntries(ordered.map(([index, value]) => [`PCR${index}`, toHex(value)]));
}

function claimsOf(
  document: NitroDocument,
  debug: boolean,
  fingerprint: string,
): Record<string, ClaimValue> {
  const claims: Record<string, ClaimValue> = {
    moduleId: document.moduleId,
    digest: document.digest,
    timestamp: document.timestamp,
    debug,
    certificateFingerprint256: fingerprint,
  };
  if (document.nonce) {
    claims.nonce = toHex(document.nonce);
  }
  if (document.userData) {
    claims.userData = toHex(document.userData);
  }
  if (document.publicKey) {
    claims.publicKey = toHex(document.publicKey);
  }

  return claims;
}

function resolveConfig(config: NitroVerifierConfig): ResolvedNitroConfig {
  requireObject(config, 'The Nitro verifier config');
  rejectUnknownKeys(config, NITRO_CONFIG_KEYS, 'Nitro verifier');

  const fingerprints = config.trustedRootFingerprints ?? [AWS_NITRO_ROOT_G1_FINGERPRINT];
  if (!Array.isArray(fingerprints) || fingerprints.length === 0) {
    throw invalidConfig(
      'trustedRootFingerprints must be a non-empty array of SHA-256 fingerprints',
    );
  }
  const trustedRoots = new Set(
    fingerprints.map((fingerprint: unknown) => {
      const normalized = typeof fingerprint === 'string' ? normalizeFingerprint(fingerprint) : '';
      if (normalized.length !== 64 || !HEX.test(normalized)) {
        throw invalidConfig(
          `trustedRootFingerprints must hold 64 hex digits each, got ${describe(fingerprint)}`,
        );
      }
      return normalized;
    }),
  );

  return Object.freeze({
    trustedRoots,
    expectedPcrs: resolvePcrs(config.expectedPcrs ?? {}),
    expectedNonce:
      config.expectedNonce === undefined
        ? undefined
        : resolveHex(config.expectedNonce, 'expectedNonce', 0, 1_024),
    maxAgeMs:
      config.maxAgeMs === undefined ? undefined : positiveInteger(config.maxAgeMs, 'maxAgeMs'),
    allowDebug: resolveBoolean(config.allowDebug ?? false, 'allowDebug'),
    clockSkewMs: nonNegativeInteger(config.clockSkewMs ?? 60_000, 'clockSkewMs'),
    maxEvidenceBytes: positiveInteger(config.maxEvidenceBytes ?? 32_768, 'maxEvidenceBytes'),
    clock: resolveClock(config.clock),
  });
}

function resolvePcrs(
  pcrs: Readonly<Record<number, string | Uint8Array>>,
): ReadonlyMap<number, string> {
  if (typeof pcrs !== 'object' || pcrs === null || Array.isArray(pcrs)) {
    throw invalidConfig(
      `expectedPcrs must be an object of PCR index to value, got ${describe(pcrs)}`,
    );
  }

  const resolved = new Map<number, string>();
  for (const [key, value] of Object.entries(pcrs)) {
    const index = Number(key);
    if (!/^\d+$/.test(key) || index > 31) {
      throw invalidConfig(
        `expectedPcrs keys must be PCR indexes from 0 to 31, got ${describe(key)}`,
      );
    }
    resolved.set(index, resolveHex(value, `expectedPcrs[${index}]`, PCR_BYTES, PCR_BYTES));
  }

  return resolved;
}

function resolveHex(value: unknown, option: string, minBytes: number, maxBytes: number): string {
  const hex =
    value instanceof Uint8Array
      ? toHex(value)
      : typeof value === 'string'
        ? value.toLowerCase()
        : undefined;
  if (
    hex === undefined ||
    !HEX.test(hex) ||
    hex.length / 2 < minBytes ||
    hex.length / 2 > maxBytes
  ) {
    const size = minBytes === maxBytes ? `${minBytes} bytes` : `${minBytes} to ${maxBytes} bytes`;
    throw invalidConfig(`${option} must be hex or a Uint8Array of ${size}, got ${describe(value)}`);
  }

  return hex;
}

function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}
