/**
 * Moves bytes and strings in and out of a core module's linear memory, using the
 * allocator the module exports.
 */

import { WasmRuntimeError } from '../errors';

/** An exported allocator, normalized to `(size) => pointer`. */
export type Allocate = (size: number) => number;

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * Finds the module's allocator: `cabi_realloc(old, oldSize, align, newSize)` as the
 * canonical ABI defines it, else `alloc(size)` or `malloc(size)`.
 */
export function findAllocator(exports: WebAssembly.Exports): Allocate | undefined {
  const realloc = exports.cabi_realloc;
  if (typeof realloc === 'function') {
    return (size) => (realloc as (...args: number[]) => number)(0, 0, 1, size) >>> 0;
  }

  for (const name of ['alloc', 'malloc']) {
    const allocate = exports[name];
    if (typeof allocate === 'function') {
      return (size) => (allocate as (size: number) => number)(size) >>> 0;
    }
  }
  return undefined;
}

/** Copies `bytes` into guest memory and returns `[pointer, length]`. */
export function writeBytes(
  memory: WebAssembly.Memory,
  allocate: Allocate | undefined,
  bytes: Uint8Array,
): [number, number] {
  if (allocate === undefined) {
    throw new WasmRuntimeError(
      'INVALID_ARGUMENT',
      'Cannot pass bytes or a string to this module: it exports no allocator (cabi_realloc, alloc or malloc).',
    );
  }

  // Even an empty value gets an allocation so the pointer is one the guest handed out.
  const pointer = allocate(bytes.length);
  checkRange(memory, pointer, bytes.length);
  new Uint8Array(memory.buffer, pointer, bytes.length).set(bytes);
  return [pointer, bytes.length];
}

/** Encodes `text` as UTF-8 into guest memory and returns `[pointer, length]`. */
export function writeString(
  memory: WebAssembly.Memory,
  allocate: Allocate | undefined,
  text: string,
): [number, number] {
  return writeBytes(memory, allocate, encoder.encode(text));
}

/** Copies `length` bytes at `pointer` out of guest memory. */
export function readBytes(memory: WebAssembly.Memory, pointer: number, length: number): Uint8Array {
  checkRange(memory, pointer, length);
  return new Uint8Array(memory.buffer, pointer, length).slice();
}

/** Decodes `length` bytes at `pointer` as UTF-8; invalid UTF-8 is a trap. */
export function readString(memory: WebAssembly.Memory, pointer: number, length: number): string {
  checkRange(memory, pointer, length);
  try {
    return decoder.decode(new Uint8Array(memory.buffer, pointer, length));
  } catch (error) {
    throw new WasmRuntimeError(
      'TRAP',
      `The guest returned invalid UTF-8 at ${pointer} (${length} bytes).`,
      {
        cause: error,
      },
    );
  }
}

/**
 * Locates a returned `(pointer, length)` pair. A 64-bit result packs the pointer in its
 * high and the length in its low 32 bits. A 32-bit result points at two little-endian
 * u32 words, the canonical ABI's return area.
 */
export function locateReturnedBuffer(
  memory: WebAssembly.Memory,
  result: unknown,
): [number, number] {
  if (typeof result === 'bigint') {
    return [Number((result >> 32n) & 0xffffffffn), Number(result & 0xffffffffn)];
  }
  if (typeof result === 'number') {
    const area = result >>> 0;
    checkRange(memory, area, 8);
    const view = new DataView(memory.buffer);
    return [view.getUint32(area, true), view.getUint32(area + 4, true)];
  }
  throw new WasmRuntimeError(
    'INVALID_ARGUMENT',
    `Cannot read a buffer from a result of type ${typeof result}; the export must return an i32 return-area pointer or a packed i64.`,
  );
}

function checkRange(memory: WebAssembly.Memory, pointer: number, length: number): void {
  if (pointer + length > memory.buffer.byteLength) {
    throw new WasmRuntimeError(
      'TRAP',
      `Out-of-bounds guest buffer: ${length} bytes at ${pointer} exceed the memory of ${memory.buffer.byteLength} bytes.`,
    );
  }
}
