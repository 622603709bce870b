/**
 * Reads the memory limits a core module declares, checks them against a cap, and
 * rewrites defined memories so that `memory.grow` past the cap returns -1.
 */

import { WasmRuntimeError } from '../errors';
import { ByteWriter } from './byte-writer';
import { skipValueType } from './instruction-decoder';
import { encodeUnsigned, readUnsigned, skipLeb } from './leb128';
import { readName, readSections, type Section, SectionId } from './module-reader';

/** A memory the module defines or imports, after rewriting. */
export interface MemoryLimits {
  readonly imported: boolean;
  readonly minimumBytes: number;
  readonly maximumBytes: number | undefined;
}

const WASM_PAGE_BYTES = 65536;
/**
 * Checks the declared minimum of every memory against the cap without rewriting
 * anything; cheap enough to run when a module is loaded.
 *
 * @throws WasmRuntimeError `MEMORY_LIMIT` or `INVALID_MODULE`.
 */
export function checkDeclaredMemory(bytes: Uint8Array, memoryLimitBytes: number): void {
  const sections = readSections(bytes);
  const imports = scanImports(
    bytes,
    sections.find((section) => section.id === SectionId.import),
  );
  for (const memory of imports.memories) {
    checkMemory(memory, memoryLimitBytes, true);
  }

  const memorySection = sections.find((section) => section.id === SectionId.memory);
  if (memorySection !== undefined) {
    rewriteMemories(bytes, memorySection, memoryLimitBytes, []);
  }
}

export interface Limits {
  readonly flags: number;
  readonly minimum: number;
  readonly maximum: number | undefined;
  readonly pageBytes: number;
  /** Raw bytes after the limits that belong to the entry (none for memories). */
  readonly next: number;
}

export interface ImportScan {
  readonly globalCount: number;
  readonly memories: Limits[];
}

export function scanImports(bytes: Uint8Array, section: Section | undefined): ImportScan {
  const memories: Limits[] = [];
  let globalCount = 0;
  if (section === undefined) {
    return { globalCount, memories };
  }

  const count = readUnsigned(bytes, section.start);
  let position = count.next;
  for (let index = 0; index < count.value; index++) {
    position = readName(bytes, position).next;
    position = readName(bytes, position).next;
    const kind = bytes[position++];
    switch (kind) {
      case 0x00: // function: type index
        position = skipLeb(bytes, position, 32);
        break;
      case 0x01: // table: reference type, limits
        position = readLimits(bytes, skipValueType(bytes, position)).next;
        break;
      case 0x02: {
        const limits = readLimits(bytes, position);
        memories.push(limits);
        position = limits.next;
        break;
      }
      case 0x03: // global: value type, mutability
        position = skipValueType(bytes, position) + 1;
        globalCount++;
        break;
      case 0x04: // tag: attribute, type index
        position = skipLeb(bytes, position + 1, 32);
        break;
      default:
        throw invalid(`unknown import kind ${kind} at byte ${position - 1}`);
    }
  }
  return { globalCount, memories };
}

function readLimits(bytes: Uint8Array, offset: number): Limits {
  const flags = bytes[offset];
  if (flags === undefined || flags > 0x0f) {
    throw invalid(`unknown limits flags ${flags} at byte ${offset}`);
  }

  const bits = (flags & 0x04) !== 0 ? 64 : 32;
  const minimum = readUnsigned(bytes, offset + 1, bits);
  let position = minimum.next;
  let maximum: number | undefined;
  if ((flags & 0x01) !== 0) {
    const decoded = readUnsigned(bytes, position, bits);
    maximum = decoded.value;
    position = decoded.next;
  }

  let pageBytes = WASM_PAGE_BYTES;
  if ((flags & 0x08) !== 0) {
    const log2 = readUnsigned(bytes, position);
    pageBytes = 2 ** log2.value;
    position = log2.next;
  }
  return { flags, minimum: minimum.value, maximum, pageBytes, next: position };
}

export function checkMemory(limits: Limits, limitBytes: number, imported: boolean): MemoryLimits {
  const minimumBytes = limits.minimum * limits.pageBytes;
  if (minimumBytes > limitBytes) {
    throw new WasmRuntimeError(
      'MEMORY_LIMIT',
      `The module ${imported ? 'imports' : 'declares'} a memory of at least ${minimumBytes} bytes (${limits.minimum} pages), above the memory limit of ${limitBytes} bytes; raise memoryLimitBytes or shrink the module's initial memory.`,
    );
  }
  const maximumBytes = limits.maximum === undefined ? undefined : limits.maximum * limits.pageBytes;
  return { imported, minimumBytes, maximumBytes };
}

export function rewriteMemories(
  bytes: Uint8Array,
  section: Section,
  limitBytes: number,
  memories: MemoryLimits[],
): Uint8Array {
  const count = readUnsigned(bytes, section.start);
  const out = new ByteWriter(section.end - section.start + 16);
  out.bytes(encodeUnsigned(count.value));

  let position = count.next;
  for (let index = 0; index < count.value; index++) {
    const limits = readLimits(bytes, position);
    checkMemory(limits, limitBytes, false);

    const capPages = Math.floor(limitBytes / limits.pageBytes);
    const maximum = Math.min(limits.maximum ?? capPages, capPages);
    out.byte(limits.flags | 0x01);
    out.bytes(encodeUnsigned(limits.minimum));
    out.bytes(encodeUnsigned(maximum));
    if ((limits.flags & 0x08) !== 0) {
      out.bytes(encodeUnsigned(Math.log2(limits.pageBytes)));
    }
    memories.push({
      imported: false,
      minimumBytes: limits.minimum * limits.pageBytes,
      maximumBytes: maximum * limits.pageBytes,
    });
    position = limits.next;
  }
  return out.view();
}

function invalid(rule: string): WasmRuntimeError {
  return new WasmRuntimeError('INVALID_MODULE', `Invalid WebAssembly module: ${rule}.`);
}
