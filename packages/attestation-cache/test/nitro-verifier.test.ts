import { readFileSync } from 'node:fs';
import {
  type AttestationErrorCode,
  AWS_NITRO_ROOT_G1_FINGERPRINT,
  createNitroVerifier,
  isAttestationError,
  type NitroVerifierConfig,
} from '@agentnode/attestation-cache';
import { describe, expect, it } from 'vitest';

// An attestation document recorded from a debug-mode AWS Nitro enclave.
const DOCUMENT = Buffer.from(
  readFileSync(new URL('./fixtures/nitro-valid-2024-08.b64', import.meta.url), 'utf8').trim(),
  'base64',
);
const DOCUMENT_TIME = Date.parse('2024-09-09T19:49:12.400Z');
const LEAF_NOT_AFTER = Date.parse('2024-09-09T22:49:12Z');
const PCR3 =
  '671ca1e328f75015b2aeee60639cc5252bc835d8bb690444d1f8e2bf4260f73dc1b71e07a14a770c7d0becac6eb3b53f';
const ZERO_PCR = '00'.repeat(48);
const NONCE = `${'00'.repeat(19)}01`;

// Byte layout of the recorded COSE_Sign1 array: 0x84, the 4-byte protected header
// bstr (0x44 a1 01 38 22), the empty unprotected map (0xa0), the payload bstr
// (0x59 + 2-byte length), then the 96-byte signature bstr (0x58 0x60) at the end.
const SIGNATURE_START = DOCUMENT.length - 96;
const PAYLOAD_START = 10;

function verifierAt(time: number, config: NitroVerifierConfig = {}) {
  return createNitroVerifier({ allowDebug: true, clock: () => time, ...config });
}

async function rejectionCode(
  promise: Promise<unknown>,
): Promise<AttestationErrorCode | 'ACCEPTED' | 'UNTYPED'> {
  try {
    await promise;
    return 'ACCEPTED';
  } catch (error) {
    return isAttestationError(error) ? error.code : 'UNTYPED';
  }
}

describe('NitroVerifier with the recorded document', () => {
  it('accepts it at its own timestamp with debug allowed', async () => {
    const result = await verifierAt(DOCUMENT_TIME).verify(DOCUMENT);

    expect(result.tee).toBe('nitro');
    expect(result.verifiedAt).toBe(DOCUMENT_TIME);
    expect(result.expiresAt).toBe(LEAF_NOT_AFTER);
    expect(result.claims.moduleId).toBe('i-0bbf1bfe232b8c2ce-enc0191ba35c9d1b77a');
    expect(result.claims.digest).toBe('SHA384');
    expect(result.claims.timestamp).toBe(DOCUMENT_TIME);
    expect(result.claims.debug).toBe(true);
    expect(result.claims.nonce).toBe(NONCE);
    expect(result.measurements.PCR0).toBe(ZERO_PCR);
    expect(result.measurements.PCR3).toBe(PCR3);
    expect(Object.keys(result.measurements)).toHaveLength(16);
    expect(Object.isFrozen(result)).toBe(true);
  });

  it('rejects it under the default policy as a debug-mode enclave', async () => {
    const verifier = createNitroVerifier({ clock: () => DOCUMENT_TIME });

    expect(await rejectionCode(verifier.verify(DOCUMENT))).toBe('DEBUG_ENCLAVE');
  });

  it("rejects it at today's date as expired", async () => {
    const verifier = createNitroVerifier({ allowDebug: true });

    expect(await rejectionCode(verifier.verify(DOCUMENT))).toBe('CERTIFICATE_EXPIRED');
  });

  it('rejects it one second after the leaf certificate expires', async () => {
    const verifier = verifierAt(LEAF_NOT_AFTER + 1_000);

    expect(await rejectionCode(verifier.verify(DOCUMENT))).toBe('CERTIFICATE_EXPIRED');
  });

  it('rejects it before the leaf certificate is valid', async () => {
    const verifier = verifierAt(Date.parse('2024-09-09T19:49:00Z'));

    expect(await rejectionCode(verifier.verify(DOCUMENT))).toBe('CERTIFICATE_NOT_YET_VALID');
  });

  it('rejects every changed byte of the signature', async () => {
    const verifier = verifierAt(DOCUMENT_TIME);
    const outcomes = new Map<number, string>();
    for (let position = SIGNATURE_START; position < DOCUMENT.length; position += 1) {
      const changed = Buffer.from(DOCUMENT);
      changed[position] = changed[position]! ^ 0xff;
      outcomes.set(position, await rejectionCode(verifier.verify(changed)));
    }

    expect(outcomes.size).toBe(96);
    expect([...new Set(outcomes.values())]).toEqual(['SIGNATURE_INVALID']);
  });

  it('rejects a changed byte at every fifth payload position', async () => {
    const verifier = verifierAt(DOCUMENT_TIME);
    const accepted: number[] = [];
    const untyped: number[] = [];
    let tried = 0;
    for (let position = PAYLOAD_START; position < SIGNATURE_START; position += 5) {
      const changed = Buffer.from(DOCUMENT);
      changed[position] = changed[position]! ^ (1 << (position % 8));
      const code = await rejectionCode(verifier.verify(changed));
      tried += 1;
      if (code === 'ACCEPTED') accepted.push(position);
      if (code === 'UNTYPED') untyped.push(position);
    }

    expect(tried).toBeGreaterThan(880);
    expect(accepted).toEqual([]);
    expect(untyped).toEqual([]);
  });

  it('rejects every changed byte of the COSE header', async () => {
    const verifier = verifierAt(DOCUMENT_TIME);
    for (let position = 0; position < PAYLOAD_START; position += 1) {
      const changed = Buffer.from(DOCUMENT);
      changed[position] = changed[position]! ^ 0x01;
      const code = await rejectionCode(verifier.verify(changed));

      expect(code, `byte ${position}`).not.toBe('ACCEPTED');
      expect(code, `byte ${position}`).not.toBe('UNTYPED');
    }
  });

  it('rejects a truncated document', async () => {
    const verifier = verifierAt(DOCUMENT_TIME);

    expect(await rejectionCode(verifier.verify(DOCUMENT.subarray(0, DOCUMENT.length - 1)))).toBe(
      'MALFORMED_EVIDENCE',
    );
  });

  it('rejects a document with trailing bytes', async () => {
    const verifier = verifierAt(DOCUMENT_TIME);
    const padded = Buffer.concat([DOCUMENT, Buffer.from([0])]);

    expect(await rejectionCode(verifier.verify(padded))).toBe('MALFORMED_EVIDENCE');
  });

  it('accepts the document under COSE tag 18', async () => {
    const tagged = Buffer.concat([Buffer.from([0xd2]), DOCUMENT]);

    const result = await verifierAt(DOCUMENT_TIME).verify(tagged);

    expect(result.claims.moduleId).toBe('i-0bbf1bfe232b8c2ce-enc0191ba35c9d1b77a');
  });
});

describe('NitroVerifier policy', () => {
  it('accepts matching expected PCRs', async () => {
    const verifier = verifierAt(DOCUMENT_TIME, {
      expectedPcrs: { 0: ZERO_PCR, 3: PCR3.toUpperCase() },
    });

    await expect(verifier.verify(DOCUMENT)).resolves.toMatchObject({ tee: 'nitro' });
  });

  it('rejects a PCR that differs', async () => {
    const verifier = verifierAt(DOCUMENT_TIME, { expectedPcrs: { 3: ZERO_PCR } });

    const error = await verifier.verify(DOCUMENT).catch((caught: unknown) => caught);

    expect(isAttestationError(error, 'PCR_MISMATCH')).toBe(true);
    expect((error as Error).message).toContain('PCR3');
  });

  it('rejects a PCR the document lacks', async () => {
    const verifier = verifierAt(DOCUMENT_TIME, { expectedPcrs: { 20: ZERO_PCR } });

    expect(await rejectionCode(verifier.verify(DOCUMENT))).toBe('PCR_MISMATCH');
  });

  it('accepts the expected nonce as hex or bytes', async () => {
    const fromHex = verifierAt(DOCUMENT_TIME, { expectedNonce: NONCE });
    const fromBytes = verifierAt(DOCUMENT_TIME, { expectedNonce: Buffer.from(NONCE, 'hex') });

    await expect(fromHex.verify(DOCUMENT)).resolves.toMatchObject({ tee: 'nitro' });
    await expect(fromBytes.verify(DOCUMENT)).resolves.toMatchObject({ tee: 'nitro' });
  });

  it('rejects another nonce', async () => {
    const verifier = verifierAt(DOCUMENT_TIME, { expectedNonce: `${'00'.repeat(19)}02` });

    expect(await rejectionCode(verifier.verify(DOCUMENT))).toBe('NONCE_MISMATCH');
  });

  it('rejects a document older than maxAgeMs', async () => {
    const verifier = verifierAt(DOCUMENT_TIME + 60_001, { maxAgeMs: 60_000 });

    expect(await rejectionCode(verifier.verify(DOCUMENT))).toBe('EVIDENCE_TOO_OLD');
  });

  it('caps expiresAt at the timestamp plus maxAgeMs', async () => {
    const result = await verifierAt(DOCUMENT_TIME + 1_000, { maxAgeMs: 60_000 }).verify(DOCUMENT);

    expect(result.expiresAt).toBe(DOCUMENT_TIME + 60_000);
  });

  it('rejects a timestamp beyond the clock skew', async () => {
    const verifier = verifierAt(DOCUMENT_TIME - 2_000, { clockSkewMs: 1_000 });

    expect(await rejectionCode(verifier.verify(DOCUMENT))).toBe('TIMESTAMP_IN_FUTURE');
  });

  it('rejects a root that is not pinned', async () => {
    const verifier = verifierAt(DOCUMENT_TIME, { trustedRootFingerprints: ['ab'.repeat(32)] });

    expect(await rejectionCode(verifier.verify(DOCUMENT))).toBe('UNTRUSTED_ROOT');
  });

  it('accepts a pin written with colons and upper case', async () => {
    const pin = AWS_NITRO_ROOT_G1_FINGERPRINT.toUpperCase().match(/../g)!.join(':');
    const verifier = verifierAt(DOCUMENT_TIME, { trustedRootFingerprints: [pin] });

    await expect(verifier.verify(DOCUMENT)).resolves.toMatchObject({ tee: 'nitro' });
  });

  it('rejects a document larger than maxEvidenceBytes', async () => {
    const verifier = verifierAt(DOCUMENT_TIME, { maxEvidenceBytes: 1_024 });

    expect(await rejectionCode(verifier.verify(DOCUMENT))).toBe('MALFORMED_EVIDENCE');
  });

  it('rejects an aborted call before any work', async () => {
    const controller = new AbortController();
    controller.abort();

    const code = await rejectionCode(
      verifierAt(DOCUMENT_TIME).verify(DOCUMENT, { signal: controller.signal }),
    );

    expect(code).toBe('ABORTED');
  });
});

describe('NitroVerifier input checks', () => {
  it.each([
    ['empty bytes', new Uint8Array(0)],
    ['a CBOR integer', Uint8Array.of(0x01)],
    ['an array of 3', Uint8Array.of(0x83, 0x40, 0xa0, 0x40)],
    ['text instead of bytes', Uint8Array.of(0x84, 0x61, 0x61, 0xa0, 0x40, 0x40)],
    ['random bytes', Uint8Array.from({ length: 512 }, (_, index) => (index * 131 + 17) % 256)],
  ])('rejects %s as malformed', async (_name, evidence) => {
    expect(await rejectionCode(verifierAt(DOCUMENT_TIME).verify(evidence))).toBe(
      'MALFORMED_EVIDENCE',
    );
  });

  it('rejects evidence that is not bytes', async () => {
    const verifier = verifierAt(DOCUMENT_TIME);

    expect(await rejectionCode(verifier.verify('not bytes' as unknown as Uint8Array))).toBe(
      'INVALID_ARGUMENT',
    );
  });

  it.each<[string, NitroVerifierConfig]>([
    ['an empty pin list', { trustedRootFingerprints: [] }],
    ['a short pin', { trustedRootFingerprints: ['abcd'] }],
    ['a PCR index above 31', { expectedPcrs: { 32: ZERO_PCR } }],
    ['a PCR of the wrong length', { expectedPcrs: { 0: '00' } }],
    ['a nonce that is not hex', { expectedNonce: 'xyz' }],
    ['a zero maxAgeMs', { maxAgeMs: 0 }],
    ['a negative clockSkewMs', { clockSkewMs: -1 }],
    ['a clock that is not a function', { clock: 5 as unknown as () => number }],
    ['allowDebug as a string', { allowDebug: 'yes' as unknown as boolean }],
    ['a misspelled option', { allowDebg: true } as NitroVerifierConfig],
  ])('rejects %s in the config', (_name, config) => {
    let caught: unknown;
    try {
      createNitroVerifier(config);
    } catch (error) {
      caught = error;
    }

    expect(isAttestationError(caught, 'INVALID_CONFIG')).toBe(true);
  });

  it('names an unknown option and lists the known ones', () => {
    expect(() => createNitroVerifier({ allowDebg: true } as NitroVerifierConfig)).toThrow(
      'Unknown Nitro verifier option "allowDebg" (did you mean "allowDebug"?); known options are trustedRootFingerprints, expectedPcrs, expectedNonce, maxAgeMs, allowDebug, clockSkewMs, maxEvidenceBytes, clock.',
    );
  });
});
