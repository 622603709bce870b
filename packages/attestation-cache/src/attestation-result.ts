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

export const TEE_TYPE = /^[a-z0-9][a-z0-9-]{0,31}$/;
/** Register and claim names: `PCR0`, `MRTD`, `moduleId`, ... */
const FIELD_NAME = /^[A-Za-z][A-Za-z0-9_.-]{0,63}$/;
const FIELD_NAME_RULE = '1 to 64 letters, digits, "_", "." or "-" starting with a letter';
/** Lower-case hex of at least one whole byte. */
const HEX_BYTES = /^(?:[0-9a-f]{2})+$/;
const MAX_FIELDS = 128;
const MAX_STRING_LENGTH = 4_096;

/** Tells whether `value` is a valid TEE type name. */
export function isTeeType(value: unknown): value is TeeType {
  return typeof value === 'string' && TEE_TYPE.test(value);
}

/**
 * Checks that `value` has the shape of an {@link AttestationResult} and returns a
 * frozen copy that shares nothing with the input. Measurements must be lower-case
 * hex of whole bytes. Measurement and claim names must be 1 to 64 letters, digits,
 * `_`, `.` or `-` starting with a letter, and each record contains at most 128
 * entries. `source` names where the value came from, for the error message.
 *
 * @throws {AttestationError} `VERIFIER_ERROR` naming the first field that is wrong.
 * @example
 * import { parseAttestationResult } from '@agentnode/attestation-cache';
 * const result = parseAttestationResult(JSON.parse(text), 'the result file');
 */
export function parseAttestationResult(value: unknown, source?: string): AttestationResult {
  const from = source === undefined ? '' : ` from ${source}`;

  return readAttestationResult(
    value,
    (rule) => new AttestationError('VERIFIER_ERROR', `Invalid attestation result${from}: ${rule}.`),
  );
}

/**
 * Checks and copies a result like {@link parseAttestationResult}. `invalid` turns
 * the broken rule (a sentence fragment without a final period) into the error to throw.
 */
export function readAttestationResult(
  value: unknown,
  invalid: (rule: string) => Error,
): AttestationResult {
  if (!isPlainObject(value)) {
    throw invalid(`expected an object, got ${describe(value)}`);
  }
  if (!isTeeType(value.tee)) {
    throw invalid(`tee must match ${TEE_TYPE}, got ${describe(value.tee)}`);
  }
  if (!isTimestamp(value.verifiedAt)) {
    throw invalid(`verifiedAt must be a non-negative integer, got ${describe(value.verifiedAt)}`);
  }
  if (!isTimestamp(value.expiresAt) || value.expiresAt < value.verifiedAt) {
    throw invalid(
      `expiresAt must be an integer not before verifiedAt (${value.verifiedAt}), got ${describe(value.expiresAt)}`,
    );
  }

  const measurements = copyRecord(value.measurements, 'measurements', 'measurement', invalid, {
    accepts: (item): item is string => typeof item === 'string' && HEX_BYTES.test(item),
    rule: 'lower-case hex of whole bytes',
  });
  const claims = copyRecord(value.claims, 'claims', 'claim', invalid, {
    accepts: isClaimValue,
    rule: 'a string, a finite number or a boolean',
  });

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
  field: string,
  noun: string,
  invalid: (rule: string) => Error,
  items: { accepts: (item: unknown) => item is T; rule: string },
): Readonly<Record<string, T>> {
  if (!isPlainObject(value)) {
    throw invalid(`${field} must be an object, got ${describe(value)}`);
  }

  const entries = Object.entries(value);
  if (entries.length > MAX_FIELDS) {
    throw invalid(`${field} must have at most ${MAX_FIELDS} entries, got ${entries.length}`);
  }
  for (const [name, item] of entries) {
    if (!FIELD_NAME.test(name)) {
      throw invalid(`${noun} names must be ${FIELD_NAME_RULE}, got ${describe(name)}`);
    }
    if (!items.accepts(item)) {
      throw invalid(`${field}.${name} must be ${items.rule}, got ${describe(item)}`);
    }
    if (typeof item === 'string' && item.length > MAX_STRING_LENGTH) {
      throw invalid(
        `${field}.${name} must have at most ${MAX_STRING_LENGTH} characters, got ${item.length}`,
      );
    }
  }

  // Names start with a letter, so `__proto__` never gets here. Object.fromEntries
  // would define it as an own data property anyway, never as the prototype.
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
  if (typeof value === 'function') {
    return 'a function';
  }
  if (value === null || typeof value !== 'object') {
    return String(value);
  }
  if (Array.isArray(value)) {
    return `an array of ${value.length} items`;
  }
  if (value instanceof ArrayBuffer || ArrayBuffer.isView(value)) {
    return describeBytes(value);
  }

  const name = constructorName(value);
  return name === undefined || name === 'Object' ? 'an object' : withArticle(name);
}

function describeBytes(value: ArrayBuffer | ArrayBufferView): string {
  const name = Buffer.isBuffer(value) ? 'Buffer' : (constructorName(value) ?? 'binary value');
  return value.byteLength === 0
    ? `an empty ${name}`
    : `${withArticle(name)} of ${value.byteLength} bytes`;
}

function constructorName(value: object): string | undefined {
  const name: unknown = Object.getPrototypeOf(value)?.constructor?.name;
  return typeof name === 'string' && name.length > 0 ? name : undefined;
}

function withArticle(name: string): string {
  return /^[AEIOUaeiou]/.test(name) ? `an ${name}` : `a ${name}`;
}
