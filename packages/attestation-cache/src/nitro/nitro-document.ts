import { decodeCbor, malformed } from './cose-sign1';

/** The payload of an AWS Nitro Enclaves attestation document, checked for shape. */
export interface NitroDocument {
  readonly moduleId: string;
  /** Always `SHA384`: the only digest Nitro documents use. */
  readonly digest: 'SHA384';
  /** When the hypervisor produced the document, in milliseconds since the Unix epoch. */
  readonly timestamp: number;
  /** PCR index to its 48-byte value. */
  readonly pcrs: ReadonlyMap<number, Uint8Array>;
  /** The DER leaf certificate whose key signed the document. */
  readonly certificate: Uint8Array;
  /** DER certificates from the root to the leaf's issuer, root first. */
  readonly cabundle: readonly Uint8Array[];
  readonly publicKey: Uint8Array | undefined;
  readonly userData: Uint8Array | undefined;
  readonly nonce: Uint8Array | undefined;
}

// Field rules from AWS's attestation document specification
// (aws-nitro-enclaves-nsm-api, docs/attestation_process.md). Its CDDL allows
// 1,024 bytes for the optional fields while its checklist sets 512; the larger
// limit is used because these fields are signed, so the limit only bounds memory.
const MAX_PCRS = 32;
const SHA384_BYTES = 48;
const MAX_CERTIFICATE_BYTES = 1_024;
const MAX_OPTIONAL_FIELD_BYTES = 1_024;
/** A real bundle has the root and three or four intermediates; a longer one is rejected. */
const MAX_CABUNDLE_LENGTH = 16;

/**
 * Decodes the CBOR payload of a Nitro attestation document and checks every
 * mandatory field and every size limit.
 *
 * @throws {AttestationError} `MALFORMED_EVIDENCE` naming the first field that is wrong.
 */
export function parseNitroDocument(payload: Uint8Array): NitroDocument {
  const map = decodeCbor(payload, 'The attestation document payload');
  if (!(map instanceof Map)) {
    throw malformed('The attestation document payload must be a CBOR map');
  }

  const moduleId = map.get('module_id');
  if (typeof moduleId !== 'string' || moduleId.length === 0) {
    throw malformed('module_id must be a non-empty text string');
  }

  const digest = map.get('digest');
  if (digest !== 'SHA384') {
    throw malformed(`digest must be "SHA384", got ${String(digest)}`);
  }

  return {
    moduleId,
    digest,
    timestamp: readTimestamp(map.get('timestamp')),
    pcrs: readPcrs(map.get('pcrs')),
    certificate: readBytes(map.get('certificate'), 'certificate', 1, MAX_CERTIFICATE_BYTES),
    cabundle: readCabundle(map.get('cabundle')),
    publicKey: readOptionalBytes(map.get('public_key'), 'public_key', 1, MAX_OPTIONAL_FIELD_BYTES),
    userData: readOptionalBytes(map.get('user_data'), 'user_data', 0, MAX_OPTIONAL_FIELD_BYTES),
    nonce: readOptionalBytes(map.get('nonce'), 'nonce', 0, MAX_OPTIONAL_FIELD_BYTES),
  };
}

function readTimestamp(value: unknown): number {
  const timestamp = typeof value === 'bigint' ? Number(value) : value;
  if (typeof timestamp !== 'number' || !Number.isSafeInteger(timestamp) || timestamp <= 0) {
    throw malformed('timestamp must be a positive integer of milliseconds since the Unix epoch');
  }

  return timestamp;
}

function readPcrs(value: unknown): ReadonlyMap<number, Uint8Array> {
  if (!(value instanceof Map) || value.size === 0 || value.size > MAX_PCRS) {
    throw malformed(`pcrs must be a map of 1 to ${MAX_PCRS} entries`);
  }

  const pcrs = new Map<number, Uint8Array>();
  for (const [index, digest] of value) {
    if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index >= MAX_PCRS) {
      throw malformed(`pcrs keys must be integers from 0 to ${MAX_PCRS - 1}, got ${String(index)}`);
    }
    if (!(digest instanceof Uint8Array) || digest.length !== SHA384_BYTES) {
      throw malformed(`PCR${index} must be a byte string of ${SHA384_BYTES} bytes (SHA-384)`);
    }
    pcrs.set(index, digest);
  }

  return pcrs;
}

function readCabundle(value: unknown): readonly Uint8Array[] {
  if (!Array.isArray(value) || value.length === 0 || value.length > MAX_CABUNDLE_LENGTH) {
    throw malformed(`cabundle must be an array of 1 to ${MAX_CABUNDLE_LENGTH} certificates`);
  }

  return value.map((item: unknown, index) =>
    readBytes(item, `cabundle[${index}]`, 1, MAX_CERTIFICATE_BYTES),
  );
}

function readBytes(value: unknown, field: string, minBytes: number, maxBytes: number): Uint8Array {
  if (!(value instanceof Uint8Array) || value.length < minBytes || value.length > maxBytes) {
    throw malformed(`${field} must be a byte string of ${minBytes} to ${maxBytes} bytes`);
  }

  return value;
}

// The specification forbids null values, but a null optional field is read as
// absent: the document is signed, so this widens the accepted encoding, not trust.
function readOptionalBytes(
  value: unknown,
  field: string,
  minBytes: number,
  maxBytes: number,
): Uint8Array | undefined {
  return value === undefined || value === null
    ? undefined
    : readBytes(value, field, minBytes, maxBytes);
}
