import { isAttestationError, parseAttestationResult } from '@agentnode/attestation-cache';
import { describe, expect, it } from 'vitest';

const NOW = Date.parse('2026-01-01T00:00:00Z');

function result(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    tee: 'nitro',
    verifiedAt: NOW,
    expiresAt: NOW + 60_000,
    measurements: { PCR0: 'ab'.repeat(48), MRTD: '00ff' },
    claims: { moduleId: 'i-1', debug: false, timestamp: NOW },
    ...overrides,
  };
}

function errorOf(value: unknown, source?: string): Error {
  try {
    parseAttestationResult(value, source);
  } catch (error) {
    return error as Error;
  }
  throw new Error('parseAttestationResult accepted the value');
}

describe('parseAttestationResult', () => {
  it('returns a frozen copy of a valid result', () => {
    const input = result();

    const parsed = parseAttestationResult(input, 'the test');

    expect(parsed).toEqual(input);
    expect(parsed).not.toBe(input);
    expect(Object.isFrozen(parsed)).toBe(true);
    expect(Object.isFrozen(parsed.measurements)).toBe(true);
    expect(Object.isFrozen(parsed.claims)).toBe(true);
  });

  it.each<[string, Record<string, unknown>, string]>([
    [
      'upper-case hex',
      { measurements: { PCR0: 'ABCD' } },
      'measurements.PCR0 must be lower-case hex of whole bytes, got "ABCD"',
    ],
    [
      'letters that are not hex',
      { measurements: { PCR0: 'XYZ' } },
      'measurements.PCR0 must be lower-case hex of whole bytes, got "XYZ"',
    ],
    [
      'an odd number of digits',
      { measurements: { PCR0: 'abc' } },
      'measurements.PCR0 must be lower-case hex of whole bytes, got "abc"',
    ],
    [
      'an empty value',
      { measurements: { PCR0: '' } },
      'measurements.PCR0 must be lower-case hex of whole bytes, got ""',
    ],
    [
      'a number',
      { measurements: { PCR0: 7 } },
      'measurements.PCR0 must be lower-case hex of whole bytes, got 7',
    ],
    [
      'a name with a space',
      { measurements: { 'bad name!': '00' } },
      'measurement names must be 1 to 64 letters, digits, "_", "." or "-" starting with a letter, got "bad name!"',
    ],
  ])('rejects a measurement that is %s', (_name, overrides, rule) => {
    const error = errorOf(result(overrides), 'the test');

    expect(isAttestationError(error, 'VERIFIER_ERROR')).toBe(true);
    expect(error.message).toBe(`Invalid attestation result from the test: ${rule}.`);
  });

  it.each<[string, Record<string, unknown>, string]>([
    [
      'a name with a space',
      { claims: { 'module id': 'i-1' } },
      'claim names must be 1 to 64 letters, digits, "_", "." or "-" starting with a letter, got "module id"',
    ],
    [
      'an object value',
      { claims: { nested: {} } },
      'claims.nested must be a string, a finite number or a boolean, got an object',
    ],
    [
      'an infinite number',
      { claims: { age: Number.POSITIVE_INFINITY } },
      'claims.age must be a string, a finite number or a boolean, got Infinity',
    ],
  ])('rejects a claim that is %s', (_name, overrides, rule) => {
    const error = errorOf(result(overrides), 'the test');

    expect(isAttestationError(error, 'VERIFIER_ERROR')).toBe(true);
    expect(error.message).toBe(`Invalid attestation result from the test: ${rule}.`);
  });

  it('rejects more than 128 measurements', () => {
    const measurements = Object.fromEntries(
      Array.from({ length: 129 }, (_, index) => [`R${index}`, '00']),
    );

    const error = errorOf(result({ measurements }), 'the test');

    expect(error.message).toBe(
      'Invalid attestation result from the test: measurements must have at most 128 entries, got 129.',
    );
  });

  it('leaves the source out of the message when none is given', () => {
    const error = errorOf(result({ tee: 'Bad Tee' }));

    expect(error.message).toBe(
      'Invalid attestation result: tee must match /^[a-z0-9][a-z0-9-]{0,31}$/, got "Bad Tee".',
    );
  });

  it('rejects a __proto__ claim from parsed JSON', () => {
    const error = errorOf(
      JSON.parse(
        `{"tee":"nitro","verifiedAt":${NOW},"expiresAt":${NOW + 1},"measurements":{},"claims":{"__proto__":"x"}}`,
      ),
    );

    expect(isAttestationError(error, 'VERIFIER_ERROR')).toBe(true);
    expect(error.message).toContain('got "__proto__"');
  });
});
