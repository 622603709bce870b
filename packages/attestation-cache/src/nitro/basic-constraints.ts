import { malformed } from './cose-sign1';

/** DER encoding of the basicConstraints extension's OID, 2.5.29.19. */
const BASIC_CONSTRAINTS_OID = Uint8Array.of(0x55, 0x1d, 0x13);

const TAG_BOOLEAN = 0x01;
const TAG_INTEGER = 0x02;
const TAG_OCTET_STRING = 0x04;
const TAG_OID = 0x06;
const TAG_SEQUENCE = 0x30;
/** `[3] EXPLICIT` in a TBSCertificate: the extensions. */
const TAG_EXTENSIONS = 0xa3;

/** One DER element: its tag and where its contents start and end. */
interface Element {
  readonly tag: number;
  readonly start: number;
  readonly end: number;
}

/**
 * Returns the `pathLenConstraint` of a certificate's basicConstraints extension, or
 * undefined when the certificate has no such extension or the extension sets no limit.
 * Node's `X509Certificate` reports `ca` but not the path length, so this reads the DER.
 *
 * @throws {AttestationError} `MALFORMED_EVIDENCE` when the DER cannot be read this far.
 */
export function pathLengthConstraint(der: Uint8Array, name: string): number | undefined {
  try {
    return readPathLength(der);
  } catch (error) {
    throw malformed(`${name} has an unreadable basicConstraints extension`, error);
  }
}

function readPathLength(der: Uint8Array): number | undefined {
  const certificate = expect(readElement(der, 0, der.length), TAG_SEQUENCE);
  const tbs = expect(readElement(der, certificate.start, certificate.end), TAG_SEQUENCE);

  for (const field of children(der, tbs)) {
    if (field.tag !== TAG_EXTENSIONS) {
      continue;
    }
    const extensions = expect(readElement(der, field.start, field.end), TAG_SEQUENCE);
    for (const extension of children(der, extensions)) {
      const value = basicConstraintsValue(der, expect(extension, TAG_SEQUENCE));
      if (value !== undefined) {
        return pathLengthOf(der, value);
      }
    }
  }

  return undefined;
}

/** Returns the extnValue contents of a basicConstraints extension, else undefined. */
function basicConstraintsValue(der: Uint8Array, extension: Element): Element | undefined {
  const [id, ...rest] = children(der, extension);
  if (id === undefined || id.tag !== TAG_OID || !bytesEqual(der, id, BASIC_CONSTRAINTS_OID)) {
    return undefined;
  }
  const value = rest.find((element) => element.tag === TAG_OCTET_STRING);
  if (value === undefined) {
    throw new Error('basicConstraints has no extnValue');
  }

  return value;
}

/** Reads `SEQUENCE { cA BOOLEAN DEFAULT FALSE, pathLenConstraint INTEGER OPTIONAL }`. */
function pathLengthOf(der: Uint8Array, value: Element): number | undefined {
  const constraints = expect(readElement(der, value.start, value.end), TAG_SEQUENCE);
  for (const element of children(der, constraints)) {
    if (element.tag === TAG_BOOLEAN) {
      continue;
    }
    expect(element, TAG_INTEGER);
    const length = element.end - element.start;
    if (length < 1 || length > 4 || (der[element.start]! & 0x80) !== 0) {
      throw new Error('pathLenConstraint is not a small non-negative integer');
    }
    let pathLength = 0;
    for (let index = element.start; index < element.end; index += 1) {
      pathLength = pathLength * 256 + der[index]!;
    }
    return pathLength;
  }

  return undefined;
}

function children(der: Uint8Array, parent: Element): Element[] {
  const elements: Element[] = [];
  for (let offset = parent.start; offset < parent.end; ) {
    const element = readElement(der, offset, parent.end);
    elements.push(element);
    offset = element.end;
  }

  return elements;
}

/** Reads the DER element at `offset`, which must end by `limit`. */
function readElement(der: Uint8Array, offset: number, limit: number): Element {
  if (offset + 2 > limit) {
    throw new Error(`truncated DER at byte ${offset}`);
  }
  const tag = der[offset]!;
  let length = der[offset + 1]!;
  let start = offset + 2;
  if (length >= 0x80) {
    const lengthBytes = length & 0x7f;
    if (lengthBytes === 0 || lengthBytes > 4 || start + lengthBytes > limit) {
      throw new Error(`unsupported DER length at byte ${offset}`);
    }
    length = 0;
    for (let index = 0; index < lengthBytes; index += 1) {
      length = length * 256 + der[start + index]!;
    }
    start += lengthBytes;
  }
  const end = start + length;
  if (end > limit) {
    throw new Error(`DER element at byte ${offset} runs past its container`);
  }

  return { tag, start, end };
}

function expect(element: Element, tag: number): Element {
  if (element.tag !== tag) {
    throw new Error(`expected DER tag 0x${tag.toString(16)}, found 0x${element.tag.toString(16)}`);
  }
  return element;
}

function bytesEqual(der: Uint8Array, element: Element, expected: Uint8Array): boolean {
  if (element.end - element.start !== expected.length) {
    return false;
  }
  return expected.every((byte, index) => der[element.start + index] === byte);
}
