/**
 * Rewrites a core module so that it runs under limits:
 *
 * - Fuel: the module gets one more mutable i64 global, exported as `agentnode:fuel`.
 *   Each straight-line run of code subtracts its instruction count from it when the
 *   run starts, so fuel counts the instructions on the path taken (see
 *   {@link findCharges}) and depends on nothing but that path. Function entries and
 *   loop headers also execute `unreachable` once the counter is below zero.
 * - Memory: every defined memory gets a declared maximum no larger than the cap, so
 *   `memory.grow` past the cap returns -1, the failure result the specification defines.
 *   A memory (defined or imported) whose minimum exceeds the cap is rejected.
 *
 * The counter is a global the module defines, not one it imports: V8 reaches an
 * imported mutable global through one more indirection, which made a tight loop about
 * twice as slow (measured on Node 20). Appending it after the module's own globals
 * leaves every existing index unchanged.
 */

import { WasmRuntimeError } from '../errors';
import { ByteWriter } from './byte-writer';
import {
  createDecodedInstruction,
  type DecodedInstruction,
  decodeInstruction,
  Opcode,
  skipValueType,
  visitBranchLabels,
} from './instruction-decoder';
import { encodeSigned, encodeUnsigned, readUnsigned, skipLeb } from './leb128';
import { checkMemory, type MemoryLimits, rewriteMemories, scanImports } from './memory-limits';
import { readName, readSections, type Section, SectionId } from './module-reader';

/** Export name of the fuel counter an instrumented module defines. */
export const FUEL_EXPORT = 'agentnode:fuel';

/** Instrumentation settings. */
export interface InstrumentConfig {
  /** Insert fuel metering. */
  readonly fuel: boolean;
  /** Value the fuel counter starts with, which start functions and initializers draw on. */
  readonly initialFuel?: number;
  /** Per-memory cap in bytes; minimums above it are rejected, maximums lowered to it. */
  readonly memoryLimitBytes: number;
}

export type { MemoryLimits } from './memory-limits';
export { checkDeclaredMemory } from './memory-limits';

/** The rewritten module and what the rewrite found. */
export interface InstrumentResult {
  readonly bytes: Uint8Array;
  /** Whether the module defines, exports and charges the `agentnode:fuel` counter. */
  readonly fueled: boolean;
  readonly memories: readonly MemoryLimits[];
  /** Number of functions whose bodies were instrumented. */
  readonly functionCount: number;
}

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

  const globalSection = sections.find((section) => section.id === SectionId.global);
  const definedGlobals =
    globalSection === undefined ? 0 : readUnsigned(bytes, globalSection.start).value;
  const fuelGlobal = imports.globalCount + definedGlobals;
  const initialFuel = BigInt(config.initialFuel ?? 0);

  const out = new ByteWriter(Math.ceil(bytes.length * 1.25) + 64);
  out.slice(bytes, 0, 8);

  let globalWritten = !config.fuel;
  let exportWritten = !config.fuel;
  let functionCount = 0;
  for (const section of sections) {
    if (!globalWritten && follows(section.id, SectionId.global)) {
      writeSection(out, SectionId.global, withFuelGlobal(bytes, undefined, initialFuel));
      globalWritten = true;
    }
    if (!exportWritten && follows(section.id, SectionId.export)) {
      writeSection(out, SectionId.export, withFuelExport(bytes, undefined, fuelGlobal));
      exportWritten = true;
    }

    switch (section.id) {
      case SectionId.memory:
        writeSection(
          out,
          section.id,
          rewriteMemories(bytes, section, config.memoryLimitBytes, memories),
        );
        break;
      case SectionId.global:
        writeSection(
          out,
          section.id,
          config.fuel ? withFuelGlobal(bytes, section, initialFuel) : sectionBytes(bytes, section),
        );
        globalWritten = true;
        break;
      case SectionId.export:
        writeSection(
          out,
          section.id,
          config.fuel ? withFuelExport(bytes, section, fuelGlobal) : sectionBytes(bytes, section),
        );
        exportWritten = true;
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
      default:
        copySection(out, bytes, section);
    }
  }

  if (!globalWritten) {
    writeSection(out, SectionId.global, withFuelGlobal(bytes, undefined, initialFuel));
  }
  if (!exportWritten) {
    writeSection(out, SectionId.export, withFuelExport(bytes, undefined, fuelGlobal));
  }

  return { bytes: out.view().slice(), fueled: config.fuel, memories, functionCount };
}

/** Position of each known section in the order the binary format requires. */
const SECTION_ORDER: Readonly<Record<number, number>> = {
  [SectionId.type]: 1,
  [SectionId.import]: 2,
  [SectionId.function]: 3,
  [SectionId.table]: 4,
  [SectionId.memory]: 5,
  [SectionId.tag]: 6,
  [SectionId.global]: 7,
  [SectionId.export]: 8,
  [SectionId.start]: 9,
  [SectionId.element]: 10,
  [SectionId.dataCount]: 11,
  [SectionId.code]: 12,
  [SectionId.data]: 13,
};

/** Tells whether a section with id `id` must come after a section with id `target`. */
function follows(id: number, target: number): boolean {
  const position = SECTION_ORDER[id];
  return position !== undefined && position > SECTION_ORDER[target]!;
}

function withFuelGlobal(
  bytes: Uint8Array,
  existing: Section | undefined,
  initialFuel: bigint,
): Uint8Array {
  const out = new ByteWriter(32 + (existing ? existing.end - existing.start : 0));
  const count = existing ? readUnsigned(bytes, existing.start) : { value: 0, next: 0 };
  out.bytes(encodeUnsigned(count.value + 1));
  if (existing) {
    out.slice(bytes, count.next, existing.end);
  }

  // (global (mut i64) (i64.const initialFuel))
  out.bytes([0x7e, 0x01, Opcode.i64Const, ...encodeSigned(initialFuel), Opcode.end]);
  return out.view();
}

function withFuelExport(
  bytes: Uint8Array,
  existing: Section | undefined,
  fuelGlobal: number,
): Uint8Array {
  const out = new ByteWriter(32 + (existing ? existing.end - existing.start : 0));
  const count = existing ? readUnsigned(bytes, existing.start) : { value: 0, next: 0 };
  if (existing !== undefined && exportsName(bytes, existing, FUEL_EXPORT)) {
    throw invalid(
      `the module already exports "${FUEL_EXPORT}", the name reserved for the fuel counter`,
    );
  }

  out.bytes(encodeUnsigned(count.value + 1));
  if (existing) {
    out.slice(bytes, count.next, existing.end);
  }
  const name = new TextEncoder().encode(FUEL_EXPORT);
  out.bytes(encodeUnsigned(name.length));
  out.bytes(name);
  out.byte(0x03); // global
  out.bytes(encodeUnsigned(fuelGlobal));
  return out.view();
}

function exportsName(bytes: Uint8Array, section: Section, name: string): boolean {
  const count = readUnsigned(bytes, section.start);
  let position = count.next;
  for (let index = 0; index < count.value; index++) {
    const exported = readName(bytes, position);
    if (exported.value === name) {
      return true;
    }
    position = skipLeb(bytes, exported.next + 1, 32);
  }
  return false;
}

/** A fuel charge to insert before `bytes[offset]`, for one straight-line run of code. */
interface Charge {
  readonly offset: number;
  /** Whether the charge also traps once fuel is below zero (loop headers and function entry). */
  readonly checked: boolean;
  /** Instructions in the run that cost fuel. */
  cost: number;
}

/**
 * Kind of an open block, which decides whether its `end` starts a run. After a
 * `block` or `try_table`, code continues the run before it unless a branch targets the
 * block. After a `loop`, code runs once, not per iteration, so it starts a run. A
 * `join` (`if` or legacy `try`) also ends the else arm or a catch handler, so it does too.
 */
type BlockKind = 'block' | 'loop' | 'join';

interface OpenBlock {
  readonly kind: BlockKind;
  /** Whether a branch in the function targets this block's label. */
  targeted: boolean;
}

function instrumentCode(
  bytes: Uint8Array,
  section: Section,
  fuelGlobal: number,
): { payload: Uint8Array; functionCount: number } {
  const count = readUnsigned(bytes, section.start);
  const out = new ByteWriter(Math.ceil((section.end - section.start) * 1.5) + 16);
  out.bytes(encodeUnsigned(count.value));

  // fuel -= cost
  const chargePrefix = [Opcode.globalGet, ...encodeUnsigned(fuelGlobal), Opcode.i64Const];
  const chargeSuffix = [Opcode.i64Sub, Opcode.globalSet, ...encodeUnsigned(fuelGlobal)];
  // if (fuel < 0) unreachable
  const check = [
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

    const charges = findCharges(bytes, size.next, end, instruction);
    const body = new ByteWriter(end - size.next + charges.length * 20);
    let copied = size.next;
    for (const charge of charges) {
      if (charge.cost === 0 && !charge.checked) {
        continue;
      }
      body.slice(bytes, copied, charge.offset);
      body.bytes(chargePrefix);
      body.bytes(encodeSigned(BigInt(charge.cost)));
      body.bytes(chargeSuffix);
      if (charge.checked) {
        body.bytes(check);
      }
      copied = charge.offset;
    }
    body.slice(bytes, copied, end);

    out.bytes(encodeUnsigned(body.length));
    out.bytes(body.view());
    position = end;
  }
  return { payload: out.view(), functionCount: count.value };
}

/**
 * Splits one function body into straight-line runs and returns a charge for each.
 * A run starts at function entry, at the top of a loop body, at each `if` and `else`
 * arm and catch handler, after a conditional branch, and after a block end that a
 * branch targets. Each run is charged its own instruction count when it starts, so a
 * loop iteration pays for the path it takes, not for every branch in its body. Code
 * after an unconditional branch is never run and charges nothing.
 */
function findCharges(
  bytes: Uint8Array,
  start: number,
  end: number,
  instruction: DecodedInstruction,
): Charge[] {
  const groups = readUnsigned(bytes, start);
  let position = groups.next;
  for (let index = 0; index < groups.value; index++) {
    position = skipValueType(bytes, skipLeb(bytes, position, 32));
  }

  const charges: Charge[] = [];
  const startRun = (offset: number, checked: boolean): Charge => {
    const charge: Charge = { offset, checked, cost: 0 };
    charges.push(charge);
    return charge;
  };
  const blocks: OpenBlock[] = [];
  const markTarget = (label: number): void => {
    // A label past the outermost block is the function's own: a return.
    const target = blocks[blocks.length - 1 - label];
    if (target !== undefined) {
      target.targeted = true;
    }
  };

  // The run being counted, or undefined in code no branch reaches.
  let run: Charge | undefined = startRun(position, true);
  while (position < end) {
    decodeInstruction(bytes, position, instruction);
    const { opcode, next } = instruction;
    if (run !== undefined && !isFree(opcode)) {
      run.cost++;
    }

    switch (opcode) {
      case Opcode.block:
        blocks.push({ kind: 'block', targeted: false });
        break;
      case Opcode.tryTable:
        visitBranchLabels(bytes, position, markTarget);
        blocks.push({ kind: 'block', targeted: false });
        break;
      case Opcode.try:
        blocks.push({ kind: 'join', targeted: false });
        break;
      case Opcode.if:
        blocks.push({ kind: 'join', targeted: false });
        run = startRun(next, false);
        break;
      case Opcode.loop:
        blocks.push({ kind: 'loop', targeted: false });
        run = startRun(next, true);
        break;
      case Opcode.else:
      case Opcode.catch:
      case Opcode.catchAll:
        run = startRun(next, false);
        break;
      case Opcode.end:
      case Opcode.delegate: {
        const block = blocks.pop();
        if (block === undefined) {
          run = undefined; // the end of the function
        } else if (block.kind === 'join' || block.targeted) {
          run = startRun(next, false);
        } else if (block.kind === 'loop' && run !== undefined) {
          run = startRun(next, false);
        }
        break;
      }
      case Opcode.brIf:
      case Opcode.brOnNull:
      case Opcode.brOnNonNull:
        visitBranchLabels(bytes, position, markTarget);
        if (run !== undefined) {
          run = startRun(next, false);
        }
        break;
      case Opcode.br:
      case Opcode.brTable:
        visitBranchLabels(bytes, position, markTarget);
        run = undefined;
        break;
      case Opcode.return:
      case Opcode.unreachable:
      case Opcode.throw:
      case Opcode.rethrow:
      case Opcode.throwRef:
      case Opcode.returnCall:
      case Opcode.returnCallIndirect:
      case Opcode.returnCallRef:
        run = undefined;
        break;
      default:
        break;
    }
    position = next;
  }

  if (position !== end) {
    throw invalid(`an instruction runs past the end of a function body at byte ${end}`);
  }
  return charges;
}

/**
 * Tells whether an instruction costs no fuel. These are wasmtime's free operators
 * (no machine code, or control flow only), plus the exception-handling blocks.
 */
function isFree(opcode: number): boolean {
  return (
    opcode === Opcode.nop ||
    opcode === Opcode.drop ||
    opcode === Opcode.unreachable ||
    opcode === Opcode.return ||
    opcode === Opcode.block ||
    opcode === Opcode.loop ||
    opcode === Opcode.else ||
    opcode === Opcode.end ||
    opcode === Opcode.try ||
    opcode === Opcode.tryTable ||
    opcode === Opcode.catch ||
    opcode === Opcode.catchAll ||
    opcode === Opcode.delegate
  );
}

function writeSection(out: ByteWriter, id: number, payload: Uint8Array): void {
  out.byte(id);
  out.bytes(encodeUnsigned(payload.length));
  out.bytes(payload);
}

function copySection(out: ByteWriter, bytes: Uint8Array, section: Section): void {
  writeSection(out, section.id, sectionBytes(bytes, section));
}

function sectionBytes(bytes: Uint8Array, section: Section): Uint8Array {
  return bytes.subarray(section.start, section.end);
}

function invalid(rule: string): WasmRuntimeError {
  return new WasmRuntimeError('INVALID_MODULE', `Invalid WebAssembly module: ${rule}.`);
}
