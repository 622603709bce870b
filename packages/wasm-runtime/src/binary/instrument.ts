/**
 * Rewrites a core module so that it runs under limits:
 *
 * - Fuel: the module imports a mutable i64 global (`agentnode.fuel`). Every function
 *   entry and every loop iteration subtracts a static cost from it and executes
 *   `unreachable` once it drops below zero. The cost of a region is the number of
 *   instructions directly in it: a function body outside its loops, or one loop body
 *   outside nested loops. Branches not taken are charged as if taken, so the count is
 *   an upper bound. It depends only on the path through loops and calls, which makes
 *   it deterministic.
 * - Memory: every defined memory gets a declared maximum no larger than the cap, so
 *   `memory.grow` past the cap returns -1 the way the specification says it fails.
 *   A memory (defined or imported) whose minimum exceeds the cap is rejected.
 *
 * Adding the imported global shifts the index of every defined global by one, so the
 * rewriter renumbers `global.get`/`global.set`, constant expressions, global exports
 * and drops the global-names subsection of the `name` custom section.
 */

import { WasmRuntimeError } from '../errors';
import { ByteWriter } from './byte-writer';
import {
  createDecodedInstruction,
  type DecodedInstruction,
  decodeInstruction,
  Opcode,
  skipValueType,
} from './instruction-decoder';
import { encodeSigned, encodeUnsigned, readUnsigned, skipLeb } from './leb128';
import { readName, readSections, type Section, SectionId } from './module-reader';

/** Module and field name of the fuel global an instrumented module imports. */
export const FUEL_IMPORT = Object.freeze({ module: 'agentnode', name: 'fuel' });

/** Instrumentation settings. */
export interface InstrumentConfig {
  /** Insert fuel metering. */
  readonly fuel: boolean;
  /** Per-memory cap in bytes; minimums above it are rejected, maximums lowered to it. */
  readonly memoryLimitBytes: number;
}

/** A memory the module defines or imports, after rewriting. */
export interface MemoryLimits {
  readonly imported: boolean;
  readonly minimumBytes: number;
  readonly maximumBytes: number | undefined;
}

/** The rewritten module and what the rewrite found. */
export interface InstrumentResult {
  readonly bytes: Uint8Array;
  /** Whether the module imports `agentnode.fuel` and charges it. */
  readonly fueled: boolean;
  readonly memories: readonly MemoryLimits[];
  /** Number of functions whose bodies were instrumented. */
  readonly functionCount: number;
}

const WASM_PAGE_BYTES = 65536;

/**
 * Instruments a core module for fuel metering and a memory cap.
 *
 * @throws WasmRuntimeError `INVALID_MODULE` for malformed input, `MEMORY_LIMIT` when a
 * memory's declared minimum exceeds the cap.
 */
export function instrumentModule(bytes: Uint8Array, config: InstrumentConfig): InstrumentResult {
  const sections = readSections(bytes);
  const imports = scanImports(
    bytes,
    sections.find((section) => section.id === SectionId.import),
  );
  const memories: MemoryLimits[] = [];

  for (const memory of imports.memories) {
    memories.push(checkMemory(memory, config.memoryLimitBytes, true));
  }

  const fuelGlobal = imports.globalCount;
  const renumber = config.fuel ? fuelGlobal : Number.POSITIVE_INFINITY;
  const out = new ByteWriter(Math.ceil(bytes.length * 1.25) + 64);
  out.slice(bytes, 0, 8);

  let importWritten = !config.fuel;
  let functionCount = 0;
  for (const section of sections) {
    if (!importWritten && section.id !== SectionId.custom && section.id !== SectionId.type) {
      writeSection(
        out,
        SectionId.import,
        importSectionWithFuel(bytes, section.id === SectionId.import ? section : undefined),
      );
      importWritten = true;
      if (section.id === SectionId.import) {
        continue;
      }
    }

    switch (section.id) {
      case SectionId.memory:
        writeSection(
          out,
          section.id,
          rewriteMemories(bytes, section, config.memoryLimitBytes, memories),
        );
        break;
      case SectionId.code:
        if (config.fuel) {
          const code = instrumentCode(bytes, section, fuelGlobal);
          functionCount = code.functionCount;
          writeSection(out, section.id, code.payload);
        } else {
          copySection(out, bytes, section);
        }
        break;
      case SectionId.global:
      case SectionId.export:
      case SectionId.element:
      case SectionId.data:
      case SectionId.table:
        if (config.fuel) {
          writeSection(out, section.id, renumberGlobalsIn(bytes, section, renumber));
        } else {
          copySection(out, bytes, section);
        }
        break;
      case SectionId.custom:
        if (config.fuel && readName(bytes, section.start).value === 'name') {
          writeSection(out, section.id, withoutGlobalNames(bytes, section));
        } else {
          copySection(out, bytes, section);
        }
        break;
      default:
        copySection(out, bytes, section);
    }
  }

  if (!importWritten) {
    writeSection(out, SectionId.import, importSectionWithFuel(bytes, undefined));
  }

  return { bytes: out.view().slice(), fueled: config.fuel, memories, functionCount };
}

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

interface Limits {
  readonly flags: number;
  readonly minimum: number;
  readonly maximum: number | undefined;
  readonly pageBytes: number;
  /** Raw bytes after the limits that belong to the entry (none for memories). */
  readonly next: number;
}

interface ImportScan {
  readonly globalCount: number;
  readonly memories: Limits[];
}

function scanImports(bytes: Uint8Array, section: Section | undefined): ImportScan {
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

function importSectionWithFuel(bytes: Uint8Array, existing: Section | undefined): Uint8Array {
  const out = new ByteWriter(64 + (existing ? existing.end - existing.start : 0));
  const count = existing ? readUnsigned(bytes, existing.start) : { value: 0, next: 0 };
  out.bytes(encodeUnsigned(count.value + 1));
  if (existing) {
    out.slice(bytes, count.next, existing.end);
  }

  const encoder = new TextEncoder();
  for (const name of [FUEL_IMPORT.module, FUEL_IMPORT.name]) {
    const encoded = encoder.encode(name);
    out.bytes(encodeUnsigned(encoded.length));
    out.bytes(encoded);
  }
  out.bytes([0x03, 0x7e, 0x01]); // global, i64, mutable
  return out.view();
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

function checkMemory(limits: Limits, limitBytes: number, imported: boolean): MemoryLimits {
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

function rewriteMemories(
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

/** A replacement of `bytes[start, end)` by a new global index, or an insertion of a fuel charge. */
interface Edit {
  readonly start: number;
  readonly end: number;
  /** New global index, or -1 for a charge insertion. */
  readonly globalIndex: number;
  /** For a charge: the instruction count it charges. */
  cost: number;
}

function instrumentCode(
  bytes: Uint8Array,
  section: Section,
  fuelGlobal: number,
): { payload: Uint8Array; functionCount: number } {
  const count = readUnsigned(bytes, section.start);
  const out = new ByteWriter(Math.ceil((section.end - section.start) * 1.25) + 16);
  out.bytes(encodeUnsigned(count.value));

  const chargePrefix = [Opcode.globalGet, ...encodeUnsigned(fuelGlobal), Opcode.i64Const];
  const chargeSuffix = [
    Opcode.i64Sub,
    Opcode.globalSet,
    ...encodeUnsigned(fuelGlobal),
    Opcode.globalGet,
    ...encodeUnsigned(fuelGlobal),
    Opcode.i64Const,
    0x00,
    Opcode.i64LtS,
    Opcode.if,
    0x40,
    Opcode.unreachable,
    Opcode.end,
  ];

  const instruction = createDecodedInstruction();
  let position = count.next;
  for (let index = 0; index < count.value; index++) {
    const size = readUnsigned(bytes, position);
    const end = size.next + size.value;
    if (end > section.end) {
      throw invalid(`function body ${index} runs past the code section`);
    }

    const edits = scanFunction(bytes, size.next, end, fuelGlobal, instruction);
    const rewritten = applyEdits(bytes, size.next, end, edits, chargePrefix, chargeSuffix);
    out.bytes(encodeUnsigned(rewritten.length));
    out.bytes(rewritten);
    position = end;
  }
  return { payload: out.view(), functionCount: count.value };
}

/** Finds the charge points and global renumberings of one function body. */
function scanFunction(
  bytes: Uint8Array,
  start: number,
  end: number,
  fuelGlobal: number,
  instruction: DecodedInstruction,
): Edit[] {
  const groups = readUnsigned(bytes, start);
  let position = groups.next;
  for (let index = 0; index < groups.value; index++) {
    position = skipValueType(bytes, skipLeb(bytes, position, 32));
  }

  const entry: Edit = { start: position, end: position, globalIndex: -1, cost: 0 };
  const edits: Edit[] = [entry];
  // The innermost charged region (function body or loop) that instructions belong to.
  const regions: Edit[] = [entry];
  // One slot per open block: its loop region, or undefined for block/if/try.
  const blocks: (Edit | undefined)[] = [];

  while (position < end) {
    decodeInstruction(bytes, position, instruction);
    const region = regions[regions.length - 1]!;
    region.cost++;

    switch (instruction.opcode) {
      case Opcode.block:
      case Opcode.if:
      case Opcode.try:
      case Opcode.tryTable:
        blocks.push(undefined);
        break;
      case Opcode.loop: {
        const loop: Edit = {
          start: instruction.next,
          end: instruction.next,
          globalIndex: -1,
          cost: 0,
        };
        edits.push(loop);
        regions.push(loop);
        blocks.push(loop);
        break;
      }
      case Opcode.end:
      case Opcode.delegate:
        if (blocks.length > 0 && blocks.pop() !== undefined) {
          regions.pop();
        }
        break;
      case Opcode.globalGet:
      case Opcode.globalSet:
        if (instruction.globalIndex >= fuelGlobal) {
          edits.push({
            start: instruction.globalIndexOffset,
            end: instruction.next,
            globalIndex: instruction.globalIndex + 1,
            cost: 0,
          });
        }
        break;
      default:
        break;
    }
    position = instruction.next;
  }

  if (position !== end) {
    throw invalid(`an instruction runs past the end of a function body at byte ${end}`);
  }
  return edits;
}

function applyEdits(
  bytes: Uint8Array,
  start: number,
  end: number,
  edits: readonly Edit[],
  chargePrefix: readonly number[],
  chargeSuffix: readonly number[],
): Uint8Array {
  const writer = new ByteWriter(end - start + edits.length * 24);
  let copied = start;
  for (const edit of edits) {
    writer.slice(bytes, copied, edit.start);
    if (edit.globalIndex < 0) {
      writer.bytes(chargePrefix);
      writer.bytes(encodeSigned(BigInt(edit.cost)));
      writer.bytes(chargeSuffix);
    } else {
      writer.bytes(encodeUnsigned(edit.globalIndex));
    }
    copied = edit.end;
  }
  writer.slice(bytes, copied, end);
  return writer.view();
}

/** Renumbers defined-global references in the constant expressions and exports of a section. */
function renumberGlobalsIn(bytes: Uint8Array, section: Section, firstShifted: number): Uint8Array {
  const edits: Edit[] = [];
  const instruction = createDecodedInstruction();
  const expression = (offset: number): number =>
    scanConstExpression(bytes, offset, firstShifted, instruction, edits);

  const count = readUnsigned(bytes, section.start);
  let position = count.next;
  for (let index = 0; index < count.value; index++) {
    switch (section.id) {
      case SectionId.global:
        position = expression(skipValueType(bytes, position) + 1);
        break;
      case SectionId.export: {
        position = readName(bytes, position).next;
        const kind = bytes[position++];
        const target = readUnsigned(bytes, position);
        if (kind === 0x03 && target.value >= firstShifted) {
          edits.push({ start: position, end: target.next, globalIndex: target.value + 1, cost: 0 });
        }
        position = target.next;
        break;
      }
      case SectionId.table:
        position = scanTable(bytes, position, expression);
        break;
      case SectionId.element:
        position = scanElementSegment(bytes, position, expression);
        break;
      case SectionId.data:
        position = scanDataSegment(bytes, position, expression);
        break;
      default:
        throw invalid(`section ${section.id} has no global references`);
    }
  }

  return applyEdits(bytes, section.start, section.end, edits, [], []);
}

function scanTable(
  bytes: Uint8Array,
  offset: number,
  expression: (offset: number) => number,
): number {
  if (bytes[offset] === 0x40 && bytes[offset + 1] === 0x00) {
    const limits = readLimits(bytes, skipValueType(bytes, offset + 2));
    return expression(limits.next);
  }
  return readLimits(bytes, skipValueType(bytes, offset)).next;
}

function scanElementSegment(
  bytes: Uint8Array,
  offset: number,
  expression: (offset: number) => number,
): number {
  const flags = readUnsigned(bytes, offset);
  let position = flags.next;
  const usesExpressions = (flags.value & 0x04) !== 0;
  const isActive = (flags.value & 0x01) === 0;
  const hasTableIndex = (flags.value & 0x02) !== 0;

  if (flags.value > 7) {
    throw invalid(`unknown element segment flags ${flags.value}`);
  }
  if (isActive && hasTableIndex) {
    position = skipLeb(bytes, position, 32);
  }
  if (isActive) {
    position = expression(position);
  }
  if (!isActive || hasTableIndex) {
    // Element kind byte (function indices) or a reference type (expressions).
    position = usesExpressions ? skipValueType(bytes, position) : position + 1;
  }

  const items = readUnsigned(bytes, position);
  position = items.next;
  for (let index = 0; index < items.value; index++) {
    position = usesExpressions ? expression(position) : skipLeb(bytes, position, 32);
  }
  return position;
}

function scanDataSegment(
  bytes: Uint8Array,
  offset: number,
  expression: (offset: number) => number,
): number {
  const flags = readUnsigned(bytes, offset);
  let position = flags.next;
  if (flags.value === 2) {
    position = skipLeb(bytes, position, 32);
  }
  if (flags.value === 0 || flags.value === 2) {
    position = expression(position);
  } else if (flags.value !== 1) {
    throw invalid(`unknown data segment flags ${flags.value}`);
  }
  const length = readUnsigned(bytes, position);
  return length.next + length.value;
}

function scanConstExpression(
  bytes: Uint8Array,
  offset: number,
  firstShifted: number,
  instruction: DecodedInstruction,
  edits: Edit[],
): number {
  let position = offset;
  for (;;) {
    decodeInstruction(bytes, position, instruction);
    if (instruction.opcode === Opcode.globalGet && instruction.globalIndex >= firstShifted) {
      edits.push({
        start: instruction.globalIndexOffset,
        end: instruction.next,
        globalIndex: instruction.globalIndex + 1,
        cost: 0,
      });
    }
    position = instruction.next;
    if (instruction.opcode === Opcode.end) {
      return position;
    }
  }
}

/** Copies a `name` section without subsection 7 (global names), whose indices shifted. */
function withoutGlobalNames(bytes: Uint8Array, section: Section): Uint8Array {
  const out = new ByteWriter(section.end - section.start);
  let position = readName(bytes, section.start).next;
  out.slice(bytes, section.start, position);

  while (position < section.end) {
    const id = bytes[position]!;
    const size = readUnsigned(bytes, position + 1);
    const end = size.next + size.value;
    if (id !== 7) {
      out.slice(bytes, position, end);
    }
    position = end;
  }
  return out.view();
}

function writeSection(out: ByteWriter, id: number, payload: Uint8Array): void {
  out.byte(id);
  out.bytes(encodeUnsigned(payload.length));
  out.bytes(payload);
}

function copySection(out: ByteWriter, bytes: Uint8Array, section: Section): void {
  writeSection(out, section.id, bytes.subarray(section.start, section.end));
}

function invalid(rule: string): WasmRuntimeError {
  return new WasmRuntimeError('INVALID_MODULE', `Invalid WebAssembly module: ${rule}.`);
}
