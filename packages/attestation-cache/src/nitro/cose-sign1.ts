import { Decoder } from 'cbor-x';
import { AttestationError } from '../errors';

/** The parts of a COSE_Sign1 message (COSE, RFC 9052). */
export interface CoseSign1 {
  /** The serialized protected header map, exactly as signed. */
  readonly protectedHeader: Uint8Array;
  /** The `alg` value of the protected header (-35 is ES384). */
  readonly algorithm: number;
  readonly payload: Uint8Array;
  readonly signature: Uint8Array;
}

/** A COSE_Sign1 message may be tagged with CBOR tag 18 or untagged; AWS documents both forms. */
const COSE_SIGN1_TAG = 18;
const ALG_LABEL = 1;

// Maps stay Map objects so integer keys (header labels, PCR indexes) keep their
// type, and byte strings are copied so decoded values never alias the evidence.
const decoder = new Decoder({ mapsAsObjects: false, useRecords: false, copyBuffers: true });

/**
 * Decodes one CBOR item that must fill `bytes` exactly.
 * @throws {AttestationError} `MALFORMED_EVIDENCE` naming `what` when decoding fails.
 */
export function decodeCbor(bytes: Uint8Array, what: string): unknown {
  try {
    return decoder.decode(bytes);
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    throw malformed(`${what} is not valid CBOR (${detail})`, error);
  }
}

/**
 * Decodes a COSE_Sign1 message: an array of protected header (byte string),
 * unprotected header (map), payload (byte string) and signature (byte string),
 * optionally under tag 18.
 *
 * @throws {AttestationError} `MALFORMED_EVIDENCE` when the structure is wrong.
 */
export function decodeCoseSign1(bytes: Uint8Array): CoseSign1 {
  let message = decodeCbor(bytes, 'The attestation document');
  if (isTagged(message) && message.tag === COSE_SIGN1_TAG) {
    message = message.value;
  }

  if (!Array.isArray(message) || message.length !== 4) {
    throw malformed('The attestation document must be a COSE_Sign1 array of 4 items');
  }

  const [protectedHeader, unprotectedHeader, payload, signature] = message as unknown[];
  if (!(protectedHeader instanceof Uint8Array) || protectedHeader.length === 0) {
    throw malformed('The COSE_Sign1 protected header must be a non-empty byte string');
  }
  if (!(unprotectedHeader instanceof Map)) {
    throw malformed('The COSE_Sign1 unprotected header must be a map');
  }
  if (!(payload instanceof Uint8Array) || payload.length === 0) {
    throw malformed('The COSE_Sign1 payload must be a non-empty byte string');
  }
  if (!(signature instanceof Uint8Array)) {
    throw malformed('The COSE_Sign1 signature must be a byte string');
  }

  const header = decodeCbor(protectedHeader, 'The COSE_Sign1 protected header');
  const algorithm = header instanceof Map ? header.get(ALG_LABEL) : undefined;
  if (typeof algorithm !== 'number') {
    throw malformed('The COSE_Sign1 protected header must be a map with an integer alg (label 1)');
  }

  return { protectedHeader, algorithm, payload, signature };
}

/**
 * Builds the bytes a COSE_Sign1 signature covers, the Sig_structure: the CBOR
 * array `["Signature1", protected header, external_aad, payload]`, here with
 * empty external data. Every length uses its shortest CBOR form, as the signer
 * encodes it.
 */
export function coseSign1SigStructure(
  protectedHeader: Uint8Array,
  payload: Uint8Array,
): Uint8Array {
  const context = new TextEncoder().encode('Signature1');
  const parts = [
    Uint8Array.of(0x84),
    cborHead(3, context.length),
    context,
    cborHead(2, protectedHeader.length),
    protectedHeader,
    cborHead(2, 0),
    cborHead(2, payload.length),
    payload,
  ];

  const total = parts.reduce((sum, part) => sum + part.length, 0);
  const out = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }

  return out;
}

/** Encodes a CBOR head: major type in the top 3 bits, then the argument. */
function cborHead(majorType: number, argument: number): Uint8Array {
  const major = majorType << 5;
  if (argument < 24) {
    return Uint8Array.of(major | argument);
  }
  if (argument < 0x100) {
    return Uint8Array.of(major | 24, argument);
  }
  if (argument < 0x10000) {
    return Uint8Array.of(major | 25, argument >> 8, argument & 0xff);
  }

  const head = new Uint8Array(5);
  head[0] = major | 26;
  new DataView(head.buffer).setUint32(1, argument);
  return head;
}

function isTagged(value: unknown): value is { tag: number; value: unknown } {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { tag?: unknown }).tag === 'number' &&
    'value' in value
  );
}

export function malformed(message: string, cause?: unknown): AttestationError {
  return new AttestationError('MALFORMED_EVIDENCE', `${message}.`, { cause });
}
