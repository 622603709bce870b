/**
 * LEB128 integer encoding as the WebAssembly binary format uses it: unsigned for
 * counts, sizes and indices, signed for constants.
 */

import { WasmRuntimeError } from '../errors';

/** A decoded value and the offset just past its last byte. */
export interface Decoded<T> {
  readonly value: T;
  readonly next: number;
}

/**
 * Decodes an unsigned LEB128 integer of at most `maxBits` bits.
 *
 * Note: values above 2^53 lose precision; the format never needs them for the
 * counts, sizes and indices this reader decodes.
 */
export function readUnsigned(bytes: Uint8Array, offset: number, maxBits = 32): Decoded<number> {
  let value = 0;
  let scale = 1;
  let position = offset;
  const maxBytes = Math.ceil(maxBits / 7);

  for (let count = 0; count < maxBytes; count++) {
    const byte = bytes[position++];
    if (byte === undefined) {
      throw malformed(offset, 'unexpected end of input in a LEB128 integer');
    }

    value += (byte & 0x7f) * scale;
    scale *= 128;
    if ((byte & 0x80) === 0) {
      return { value, next: position };
    }
  }

  throw malformed(offset, `LEB128 integer longer than ${maxBytes} bytes`);
}

/** Returns the offset just past a LEB128 integer (signed or unsigned) of at most `maxBits` bits. */
export function skipLeb(bytes: Uint8Array, offset: number, maxBits: number): number {
  const maxBytes = Math.ceil(maxBits / 7);
  let position = offset;

  for (let count = 0; count < maxBytes; count++) {
    const byte = bytes[position++];
    if (byte === undefined) {
      throw malformed(offset, 'unexpected end of input in a LEB128 integer');
    }
    if ((byte & 0x80) === 0) {
      return position;
    }
  }

  throw malformed(offset, `LEB128 integer longer than ${maxBytes} bytes`);
}

/** Decodes a signed LEB128 integer of at most 33 bits (block types use s33). */
export function readSigned(bytes: Uint8Array, offset: number, maxBits = 33): Decoded<number> {
  let value = 0;
  let scale = 1;
  let position = offset;
  const maxBytes = Math.ceil(maxBits / 7);

  for (let count = 0; count < maxBytes; count++) {
    const byte = bytes[position++];
    if (byte === undefined) {
      throw malformed(offset, 'unexpected end of input in a LEB128 integer');
    }

    value += (byte & 0x7f) * scale;
    scale *= 128;
    if ((byte & 0x80) === 0) {
      if ((byte & 0x40) !== 0) {
        value -= scale;
      }
      return { value, next: position };
    }
  }

  throw malformed(offset, `LEB128 integer longer than ${maxBytes} bytes`);
}

/** Encodes a non-negative integer (up to 2^53) as unsigned LEB128. */
export function encodeUnsigned(value: number): number[] {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(
      `cannot encode ${value} as unsigned LEB128: expected a non-negative safe integer`,
    );
  }

  const out: number[] = [];
  let rest = value;
  do {
    let byte = rest % 128;
    rest = Math.floor(rest / 128);
    if (rest !== 0) {
      byte |= 0x80;
    }
    out.push(byte);
  } while (rest !== 0);
  return out;
}

/** Encodes a 64-bit integer as signed LEB128. */
export function encodeSigned(value: bigint): number[] {
  const out: number[] = [];
  let rest = BigInt.asIntN(64, value);

  for (;;) {
    const byte = Number(rest & 0x7fn);
    rest >>= 7n;
    const signBitSet = (byte & 0x40) !== 0;
    if ((rest === 0n && !signBitSet) || (rest === -1n && signBitSet)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}

function malformed(offset: number, rule: string): WasmRuntimeError {
  return new WasmRuntimeError(
    'INVALID_MODULE',
    `Invalid WebAssembly binary at byte ${offset}: ${rule}.`,
  );
}
