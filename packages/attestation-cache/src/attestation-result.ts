import { AttestationError } from './errors';

/**
 * A TEE platform type. The known ones are listed; any other name matching
 * `^[a-z0-9][a-z0-9-]{0,31}$` can be registered with its own verifier.
 */
export type TeeType = 'nitro' | 'sev-snp' | 'tdx' | 'gpu-cc' | (string & {});

/** A claim value: a scalar, so that results survive a JSON round trip unchanged. */
export type ClaimValue = string | number | boolean;

/**
 * A verifier's verdict on evidence it accepts. Results are frozen plain data,
 * so they can be shared between callers and stored in Redis as JSON.
 */
export interface AttestationResult {
  /** The platform that produced the evidence. */
  readonly tee: TeeType;
  /** When the verification ran, in milliseconds since the Unix epoch. */
  readonly verifiedAt: number;
  /**
   * When the result stops being valid, in milliseconds since the Unix epoch: the
   * earliest `notAfter` in the certificate chain, or an earlier expiry the
   * verifier's policy sets.
   */
  readonly expiresAt: number;
  /** Measurement registers by their platform name (`PCR0`, `MRTD`, ...), as lower-case hex. */
  readonly measurements: Readonly<Record<string, string>>;
  /** Other verified facts (module id, nonce, debug mode, ...). */
  readonly claims: Readonly<Record<string, ClaimValue>>;
}

const TEE_TYPE = /^[a-z0-9][a-z0-9-]{0,31}$/;
const MAX_FIELDS = 128;
const MAX_NAME_LENGTH = 64;
const MAX_STRING_LENGTH = 4_096;

/** Tells whether `value` is a valid TEE type name. */
export function isTeeType(value: unknown): value is TeeType {
  return typeof value === 'string' && TEE_TYPE.test(value);
}

/**
 * Checks that `value` has the shape of an {@link AttestationResult} and returns a
 * frozen copy that shares nothing with the input. `source` names where the value
 * came from, for the error message.
 *
 * @throws {AttestationError} `VERIFIER_ERROR` naming the first field that is wrong.
 * @example
 * import { parseAttestationResult } from '@agentnode/attestation-cache';
 * const result = parseAttestationResult(JSON.parse(text), 'the result file');
 */
export function parseAttestationResult(value: unknown, source: string): AttestationResult {
  const invalid = (rule: string) =>
    new AttestationError('VERIFIER_ERROR', `Invalid attestation result from ${source}: ${rule}.`);

  if (!isPlainObject(value)) {
    throw invalid('expected an object');
  }
  if (!isTeeType(value.tee)) {
    throw invalid(`tee must match ${TEE_TYPE}, got ${describe(value.tee)}`);
  }
  if (!isTimestamp(value.verifiedAt)) {
    throw invalid(`verifiedAt must be a non-negative integer, got ${describe(value.verifiedAt)}`);
  }
  if (!isTimestamp(value.expiresAt) || value.expiresAt < value.verifiedAt) {
    throw invalid(
      `expiresAt must be an integer not before verifiedAt, got ${describe(value.expiresAt)}`,
    );
  }

  const measurements = copyRecord(value.measurements, (item) => typeof item === 'string');
  if (!measurements) {
    throw invalid(`measurements must be an object of at most ${MAX_FIELDS} strings`);
  }
  const claims = copyRecord(value.claims, isClaimValue);
  if (!claims) {
    throw invalid(
      `claims must be an object of at most ${MAX_FIELDS} strings, finite numbers or booleans`,
    );
  }

  return Object.freeze({
    tee: value.tee,
    verifiedAt: value.verifiedAt,
    expiresAt: value.expiresAt,
    measurements,
    claims,
  });
}

function copyRecord<T>(
  value: unknown,
  accepts: (item: unknown) => item is T,
): Readonly<Record<string, T>> | undefined {
  if (!isPlainObject(value)) {
    return undefined;
  }

  const entries = Object.entries(value);
  if (entries.length > MAX_FIELDS) {
    return undefined;
  }
  for (const [name, item] of entries) {
    if (name.length === 0 || name.length > MAX_NAME_LENGTH || !accepts(item)) {
      return undefined;
    }
    if (typeof item === 'string' && item.length > MAX_STRING_LENGTH) {
      return undefined;
    }
  }

  // Object.fromEntries defines own data properties, so a `__proto__` key from
  // parsed JSON stays a plain key and never changes the prototype.
  return Object.freeze(Object.fromEntries(entries) as Record<string, T>);
}

function isClaimValue(value: unknown): value is ClaimValue {
  return (
    typeof value === 'string' ||
    typeof value === 'boolean' ||
    (typeof value === 'number' && Number.isFinite(value))
  );
}

function isTimestamp(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return false;
  }
  const prototype = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

/** Describes a value for an error message without dumping large inputs. */
export function describe(value: unknown): string {
  if (typeof value === 'string') {
    return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}...` : value);
  }
  if (typeof value === 'bigint') {
    return `${value}n`;
  }
  if (value === null || typeof value !== 'object') {
    return String(value);
  }

  return Array.isArray(value) ? `an array of ${value.length}` : 'an object';
}
