import { type KeyObject, X509Certificate } from 'node:crypto';
import { AttestationError } from '../errors';
import { pathLengthConstraint } from './basic-constraints';
import { malformed } from './cose-sign1';

/** The outcome of a successful chain walk. */
export interface VerifiedChain {
  readonly leaf: X509Certificate;
  /** The earliest `notAfter` in the chain, in milliseconds since the Unix epoch. */
  readonly notAfter: number;
}

/**
 * Walks `cabundle` (root first) down to `leafDer` and checks that:
 *
 * - the root's SHA-256 fingerprint is one of `trustedRoots`;
 * - every certificate is issued and signed by the one before it;
 * - every certificate but the leaf is a CA, with no more CAs below it than its
 *   basicConstraints `pathLenConstraint` allows;
 * - every certificate is valid at `at`;
 * - the leaf has a P-384 key.
 *
 * Note: `X509Certificate.checkIssued` calls OpenSSL 3's `X509_check_issued`, which
 * also requires the keyCertSign usage where an issuer has a key usage extension. Node does
 * not expose path length constraints, so they are read from the DER.
 *
 * @throws {AttestationError} `MALFORMED_EVIDENCE`, `UNTRUSTED_ROOT`, `CHAIN_INVALID`,
 * `CERTIFICATE_EXPIRED` or `CERTIFICATE_NOT_YET_VALID`.
 */
export function verifyCertificateChain(
  cabundle: readonly Uint8Array[],
  leafDer: Uint8Array,
  trustedRoots: ReadonlySet<string>,
  at: number,
): VerifiedChain {
  const path = cabundle.map((der, index) => parseCertificate(der, `cabundle[${index}]`));
  const leaf = parseCertificate(leafDer, 'certificate');
  path.push(leaf);

  const root = path[0]!;
  const rootFingerprint = normalizeFingerprint(root.fingerprint256);
  if (!trustedRoots.has(rootFingerprint)) {
    throw new AttestationError(
      'UNTRUSTED_ROOT',
      `The root certificate (SHA-256 ${rootFingerprint}) is not a pinned trusted root.`,
    );
  }

  for (let index = 1; index < path.length; index += 1) {
    checkLink(
      path[index - 1]!,
      path[index]!,
      index === path.length - 1 ? 'certificate' : `cabundle[${index}]`,
    );
  }
  checkPathLengths(path);

  let notAfter = Number.POSITIVE_INFINITY;
  for (const [index, certificate] of path.entries()) {
    const name = index === path.length - 1 ? 'certificate' : `cabundle[${index}]`;
    notAfter = Math.min(notAfter, checkValidity(certificate, name, at));
  }

  checkLeafKey(leaf);
  return { leaf, notAfter };
}

/** Formats a fingerprint as 64 lower-case hex digits, accepting `AA:BB:...` input too. */
export function normalizeFingerprint(fingerprint: string): string {
  return fingerprint.replaceAll(':', '').toLowerCase();
}

function parseCertificate(der: Uint8Array, name: string): X509Certificate {
  try {
    return new X509Certificate(der);
  } catch (error) {
    throw malformed(`${name} is not a valid DER X.509 certificate`, error);
  }
}

function checkLink(issuer: X509Certificate, subject: X509Certificate, name: string): void {
  if (!issuer.ca) {
    throw new AttestationError(
      'CHAIN_INVALID',
      `The issuer of ${name} (${oneLine(issuer.subject)}) is not a CA certificate.`,
    );
  }
  if (!subject.checkIssued(issuer)) {
    throw new AttestationError(
      'CHAIN_INVALID',
      `${name} (${oneLine(subject.subject)}) was not issued by ${oneLine(issuer.subject)}.`,
    );
  }

  let signed: boolean;
  try {
    signed = subject.verify(issuer.publicKey);
  } catch (error) {
    throw new AttestationError('CHAIN_INVALID', `The signature of ${name} cannot be checked.`, {
      cause: error,
    });
  }
  if (!signed) {
    throw new AttestationError(
      'CHAIN_INVALID',
      `The signature of ${name} (${oneLine(subject.subject)}) does not verify with its issuer's key.`,
    );
  }
}

/** Checks each CA's `pathLenConstraint` against the CA certificates below it (the leaf is not one). */
function checkPathLengths(path: readonly X509Certificate[]): void {
  for (let index = 0; index < path.length - 1; index += 1) {
    const certificate = path[index]!;
    const name = `cabundle[${index}]`;
    const limit = pathLengthConstraint(certificate.raw, name);
    const below = path.length - 2 - index;
    if (limit !== undefined && below > limit) {
      throw new AttestationError(
        'CHAIN_INVALID',
        `${name} (${oneLine(certificate.subject)}) allows ${limit} CA certificates below it ` +
          `(pathLenConstraint), but the chain has ${below}.`,
      );
    }
  }
}

/** Returns the certificate's `notAfter` in milliseconds once it is known to cover `at`. */
function checkValidity(certificate: X509Certificate, name: string, at: number): number {
  const notBefore = Date.parse(certificate.validFrom);
  const notAfter = Date.parse(certificate.validTo);
  if (Number.isNaN(notBefore) || Number.isNaN(notAfter)) {
    throw malformed(`${name} has an unreadable validity period`);
  }

  if (at < notBefore) {
    throw new AttestationError(
      'CERTIFICATE_NOT_YET_VALID',
      `${name} (${oneLine(certificate.subject)}) is not valid before ${new Date(notBefore).toISOString()}; the verification time is ${new Date(at).toISOString()}.`,
    );
  }
  if (at > notAfter) {
    throw new AttestationError(
      'CERTIFICATE_EXPIRED',
      `${name} (${oneLine(certificate.subject)}) expired at ${new Date(notAfter).toISOString()}; the verification time is ${new Date(at).toISOString()}.`,
    );
  }

  return notAfter;
}

function checkLeafKey(leaf: X509Certificate): void {
  let key: KeyObject;
  try {
    key = leaf.publicKey;
  } catch (error) {
    throw new AttestationError('CHAIN_INVALID', 'The leaf certificate key cannot be read.', {
      cause: error,
    });
  }
  const curve = key.asymmetricKeyDetails?.namedCurve;
  if (key.asymmetricKeyType !== 'ec' || curve !== 'secp384r1') {
    const found = [key.asymmetricKeyType ?? 'unknown type', curve].filter(Boolean).join(' ');
    throw new AttestationError(
      'CHAIN_INVALID',
      `The leaf certificate must have a P-384 EC key for ES384, got ${found}.`,
    );
  }
}

function oneLine(distinguishedName: string): string {
  return distinguishedName.split('\n').join(', ');
}
