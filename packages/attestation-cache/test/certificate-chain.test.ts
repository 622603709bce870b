import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { type AttestationError, isAttestationError } from '../src/index';
import { pathLengthConstraint } from '../src/nitro/basic-constraints';
import { verifyCertificateChain } from '../src/nitro/certificate-chain';
import { decodeCoseSign1 } from '../src/nitro/cose-sign1';
import { parseNitroDocument } from '../src/nitro/nitro-document';

// Certificates made by fixtures/path-length/make-certificates.sh, valid for 100 years
// from December 2026.
function fixture(name: string): Uint8Array {
  return readFileSync(new URL(`./fixtures/path-length/${name}.der`, import.meta.url));
}

const ROOT = fixture('root');
const TRUSTED = new Set([
  new X509Certificate(ROOT).fingerprint256.replaceAll(':', '').toLowerCase(),
]);
const AT = Date.parse('2030-01-01T00:00:00Z');

// The chain of the document recorded from an AWS Nitro enclave.
const recorded = parseNitroDocument(
  decodeCoseSign1(
    Buffer.from(
      readFileSync(new URL('./fixtures/nitro-valid-2024-08.b64', import.meta.url), 'utf8').trim(),
      'base64',
    ),
  ).payload,
);

function thrownBy(action: () => unknown): unknown {
  try {
    action();
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to throw');
}

describe('pathLengthConstraint', () => {
  it('reads the AWS Nitro chain', () => {
    const limits = recorded.cabundle.map((der, index) =>
      pathLengthConstraint(der, `cabundle[${index}]`),
    );

    expect(limits).toEqual([undefined, 2, 1, 0]);
    expect(pathLengthConstraint(recorded.certificate, 'certificate')).toBeUndefined();
  });

  it('rejects DER it cannot read', () => {
    const truncated = recorded.cabundle[1]!.subarray(0, 200);

    const error = thrownBy(() => pathLengthConstraint(truncated, 'cabundle[1]'));

    expect(isAttestationError(error)).toBe(true);
    expect((error as AttestationError).code).toBe('MALFORMED_EVIDENCE');
    expect((error as Error).message).toMatch(/cabundle\[1\] has an unreadable basicConstraints/);
  });
});

describe('verifyCertificateChain path lengths', () => {
  it('accepts a CA below a pathlen:1 CA', () => {
    const chain = verifyCertificateChain(
      [ROOT, fixture('pathlen1'), fixture('under-pathlen1')],
      fixture('leaf-under-pathlen1'),
      TRUSTED,
      AT,
    );

    expect(chain.leaf.subject).toBe('CN=leaf-under-pathlen1');
  });

  it('rejects a CA below a pathlen:0 CA', () => {
    const error = thrownBy(() =>
      verifyCertificateChain(
        [ROOT, fixture('pathlen0'), fixture('under-pathlen0')],
        fixture('leaf-under-pathlen0'),
        TRUSTED,
        AT,
      ),
    );

    expect(isAttestationError(error)).toBe(true);
    expect((error as AttestationError).code).toBe('CHAIN_INVALID');
    expect((error as Error).message).toMatch(
      /cabundle\[1\] \(CN=pathlen0\) allows 0 CA certificates below it \(pathLenConstraint\), but the chain has 1/,
    );
  });
});
