/**
 * Splits a WebAssembly binary into its header and sections without decoding their
 * contents, and identifies a binary as a core module or a component.
 */

import { WasmRuntimeError } from '../errors';
import { readUnsigned } from './leb128';

/** Section ids of the core module format. */
export const SectionId = {
  custom: 0,
  type: 1,
  import: 2,
  function: 3,
  table: 4,
  memory: 5,
  global: 6,
  export: 7,
  start: 8,
  element: 9,
  code: 10,
  data: 11,
  dataCount: 12,
  tag: 13,
} as const;

/** One section: its id and where its payload lies in the binary. */
export interface Section {
  readonly id: number;
  /** Offset of the payload (after the id and size). */
  readonly start: number;
  /** Offset just past the payload. */
  readonly end: number;
}

/** Kind of binary the header announces. */
export type BinaryKind = 'module' | 'component';

const MAGIC = [0x00, 0x61, 0x73, 0x6d];

/**
 * Reads the 8-byte header: the magic number, then version 1 for a core module or
 * version 0x0d with layer 1 for a component.
 */
export function readBinaryKind(bytes: Uint8Array): BinaryKind {
  if (bytes.length < 8 || MAGIC.some((byte, index) => bytes[index] !== byte)) {
    throw new WasmRuntimeError(
      'INVALID_MODULE',
      'Invalid WebAssembly binary: it does not start with the magic number \\0asm.',
    );
  }

  const version = bytes[4]! | (bytes[5]! << 8);
  const layer = bytes[6]! | (bytes[7]! << 8);
  if (version === 1 && layer === 0) {
    return 'module';
  }
  if (layer === 1) {
    return 'component';
  }
  throw new WasmRuntimeError(
    'INVALID_MODULE',
    `Invalid WebAssembly binary: unknown version ${version} and layer ${layer}; expected a core module (version 1) or a component (layer 1).`,
  );
}

/** Lists the sections of a core module in binary order. */
export function readSections(bytes: Uint8Array): Section[] {
  if (readBinaryKind(bytes) !== 'module') {
    throw new WasmRuntimeError(
      'INVALID_MODULE',
      'Expected a core WebAssembly module, got a component.',
    );
  }

  const sections: Section[] = [];
  let position = 8;
  while (position < bytes.length) {
    const id = bytes[position]!;
    const size = readUnsigned(bytes, position + 1);
    const end = size.next + size.value;
    if (end > bytes.length) {
      throw new WasmRuntimeError(
        'INVALID_MODULE',
        `Invalid WebAssembly binary: section ${id} at byte ${position} claims ${size.value} bytes but only ${bytes.length - size.next} remain.`,
      );
    }
    sections.push({ id, start: size.next, end });
    position = end;
  }
  return sections;
}

/** Reads a length-prefixed UTF-8 name. */
export function readName(bytes: Uint8Array, offset: number): { value: string; next: number } {
  const length = readUnsigned(bytes, offset);
  const end = length.next + length.value;
  if (end > bytes.length) {
    throw new WasmRuntimeError(
      'INVALID_MODULE',
      `Invalid WebAssembly binary: name at byte ${offset} runs past the end.`,
    );
  }
  return { value: new TextDecoder().decode(bytes.subarray(length.next, end)), next: end };
}
