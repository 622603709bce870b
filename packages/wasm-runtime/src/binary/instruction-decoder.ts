/**
 * Decodes one instruction at a time: its opcode and where it ends. The decoder handles
 * the immediates of every opcode in the core specification plus the sign-extension,
 * saturating-conversion, bulk-memory, reference-types, SIMD (including relaxed SIMD),
 * threads, tail-call, multi-memory and exception-handling proposals.
 *
 * Note: the GC proposal (prefix 0xFB) is not decoded; modules using it are rejected
 * as invalid for instrumentation.
 */

import { WasmRuntimeError } from '../errors';
import { readSigned, readUnsigned, skipLeb } from './leb128';

/** Opcodes the instrumenter treats specially. */
export const Opcode = {
  unreachable: 0x00,
  nop: 0x01,
  block: 0x02,
  loop: 0x03,
  if: 0x04,
  else: 0x05,
  try: 0x06,
  catch: 0x07,
  throw: 0x08,
  rethrow: 0x09,
  throwRef: 0x0a,
  end: 0x0b,
  br: 0x0c,
  brIf: 0x0d,
  brTable: 0x0e,
  return: 0x0f,
  returnCall: 0x12,
  returnCallIndirect: 0x13,
  returnCallRef: 0x15,
  delegate: 0x18,
  catchAll: 0x19,
  drop: 0x1a,
  tryTable: 0x1f,
  globalGet: 0x23,
  globalSet: 0x24,
  i64Const: 0x42,
  i64LtS: 0x53,
  i64Sub: 0x7d,
  brOnNull: 0xd5,
  brOnNonNull: 0xd6,
} as const;

/**
 * The decoded instruction. One object is reused for every instruction so that
 * decoding a large code section allocates nothing per instruction.
 */
export interface DecodedInstruction {
  /** First opcode byte; for prefixed instructions, the prefix (0xFC, 0xFD, 0xFE). */
  opcode: number;
  /** Offset just past the instruction. */
  next: number;
}

/** Creates the scratch object {@link decodeInstruction} fills in. */
export function createDecodedInstruction(): DecodedInstruction {
  return { opcode: 0, next: 0 };
}

/** Decodes the instruction at `offset` into `out`; throws `INVALID_MODULE` on unknown opcodes. */
export function decodeInstruction(
  bytes: Uint8Array,
  offset: number,
  out: DecodedInstruction,
): void {
  const opcode = bytes[offset];
  if (opcode === undefined) {
    throw invalid(offset, 'unexpected end of code');
  }

  out.opcode = opcode;
  const position = offset + 1;

  switch (opcode) {
    case 0x02: // block
    case 0x03: // loop
    case 0x04: // if
    case 0x06: // try
      out.next = skipBlockType(bytes, position);
      return;
    case 0x0c: // br
    case 0x0d: // br_if
    case 0x10: // call
    case 0x12: // return_call
    case 0x14: // call_ref
    case 0x15: // return_call_ref
    case 0x20: // local.get
    case 0x21: // local.set
    case 0x22: // local.tee
    case 0x23: // global.get
    case 0x24: // global.set
    case 0x25: // table.get
    case 0x26: // table.set
    case 0x3f: // memory.size
    case 0x40: // memory.grow
    case 0x07: // catch
    case 0x08: // throw
    case 0x09: // rethrow
    case 0x18: // delegate
    case 0xd2: // ref.func
    case 0xd5: // br_on_null
    case 0xd6: // br_on_non_null
      out.next = skipLeb(bytes, position, 32);
      return;
    case 0x0e: // br_table
      out.next = skipLeb(bytes, skipLebVector(bytes, position), 32);
      return;
    case 0x11: // call_indirect
    case 0x13: // return_call_indirect
      out.next = skipLeb(bytes, skipLeb(bytes, position, 32), 32);
      return;
    case 0x1c: // select with types
      out.next = skipValueTypeVector(bytes, position);
      return;
    case 0x1f: // try_table
      out.next = skipCatchClauses(bytes, skipBlockType(bytes, position));
      return;
    case 0x41: // i32.const
      out.next = skipLeb(bytes, position, 32);
      return;
    case 0x42: // i64.const
      out.next = skipLeb(bytes, position, 64);
      return;
    case 0x43: // f32.const
      out.next = checkedEnd(bytes, position + 4);
      return;
    case 0x44: // f64.const
      out.next = checkedEnd(bytes, position + 8);
      return;
    case 0xd0: // ref.null
      out.next = skipHeapType(bytes, position);
      return;
    case 0xfc:
      out.next = decodeMiscellaneous(bytes, position);
      return;
    case 0xfd:
      out.next = decodeSimd(bytes, position);
      return;
    case 0xfe:
      out.next = decodeAtomic(bytes, position);
      return;
    default:
      break;
  }

  if (opcode >= 0x28 && opcode <= 0x3e) {
    out.next = skipMemArg(bytes, position);
    return;
  }

  if (hasNoImmediates(opcode)) {
    out.next = position;
    return;
  }

  throw invalid(offset, `unsupported opcode 0x${opcode.toString(16).padStart(2, '0')}`);
}

/** Returns the offset just past a block type: empty, a value type, or an s33 type index. */
export function skipBlockType(bytes: Uint8Array, offset: number): number {
  const first = bytes[offset];
  if (first === undefined) {
    throw invalid(offset, 'unexpected end of a block type');
  }
  if (first === 0x40) {
    return offset + 1;
  }
  if (first === 0x63 || first === 0x64) {
    return skipHeapType(bytes, offset + 1);
  }
  if (first >= 0x40 && first <= 0x7f) {
    return offset + 1; // a one-byte value type; type indices start below 0x40 or continue
  }
  return readSigned(bytes, offset, 33).next;
}

/** Returns the offset just past a value type, including `(ref null? ht)` forms. */
export function skipValueType(bytes: Uint8Array, offset: number): number {
  const first = bytes[offset];
  if (first === undefined) {
    throw invalid(offset, 'unexpected end of a value type');
  }
  if (first === 0x63 || first === 0x64) {
    return skipHeapType(bytes, offset + 1);
  }
  return offset + 1;
}

function hasNoImmediates(opcode: number): boolean {
  return (
    opcode === 0x00 || // unreachable
    opcode === 0x01 || // nop
    opcode === 0x05 || // else
    opcode === 0x0a || // throw_ref
    opcode === 0x0b || // end
    opcode === 0x0f || // return
    opcode === 0x19 || // catch_all
    opcode === 0x1a || // drop
    opcode === 0x1b || // select
    (opcode >= 0x45 && opcode <= 0xc4) || // numeric instructions and sign extension
    opcode === 0xd1 || // ref.is_null
    opcode === 0xd3 || // ref.eq
    opcode === 0xd4 // ref.as_non_null
  );
}

function decodeMiscellaneous(bytes: Uint8Array, offset: number): number {
  const { value: sub, next } = readUnsigned(bytes, offset);
  if (sub <= 7) {
    return next; // saturating float-to-int conversions
  }
  switch (sub) {
    case 8: // memory.init dataidx memidx
    case 10: // memory.copy memidx memidx
    case 12: // table.init elemidx tableidx
    case 14: // table.copy tableidx tableidx
      return skipLeb(bytes, skipLeb(bytes, next, 32), 32);
    case 9: // data.drop
    case 11: // memory.fill
    case 13: // elem.drop
    case 15: // table.grow
    case 16: // table.size
    case 17: // table.fill
      return skipLeb(bytes, next, 32);
    default:
      throw invalid(offset, `unsupported opcode 0xfc ${sub}`);
  }
}

function decodeSimd(bytes: Uint8Array, offset: number): number {
  const { value: sub, next } = readUnsigned(bytes, offset);
  if (sub <= 11 || sub === 92 || sub === 93) {
    return skipMemArg(bytes, next); // loads, stores, load-splat, load-zero
  }
  if (sub === 12 || sub === 13) {
    return checkedEnd(bytes, next + 16); // v128.const, i8x16.shuffle
  }
  if (sub >= 21 && sub <= 34) {
    return checkedEnd(bytes, next + 1); // extract_lane / replace_lane
  }
  if (sub >= 84 && sub <= 91) {
    return checkedEnd(bytes, skipMemArg(bytes, next) + 1); // load_lane / store_lane
  }
  if (sub <= 0x113) {
    return next; // every other SIMD and relaxed-SIMD opcode takes no immediate
  }
  throw invalid(offset, `unsupported opcode 0xfd ${sub}`);
}

function decodeAtomic(bytes: Uint8Array, offset: number): number {
  const { value: sub, next } = readUnsigned(bytes, offset);
  if (sub === 0x03) {
    return checkedEnd(bytes, next + 1); // atomic.fence takes one reserved byte
  }
  if (sub <= 0x02 || (sub >= 0x10 && sub <= 0x4e)) {
    return skipMemArg(bytes, next);
  }
  throw invalid(offset, `unsupported opcode 0xfe ${sub}`);
}

function skipMemArg(bytes: Uint8Array, offset: number): number {
  const { value: flags, next } = readUnsigned(bytes, offset);
  // Bit 6 of the alignment field is set when a memory index follows (multi-memory).
  const afterMemory = (flags & 0x40) !== 0 ? skipLeb(bytes, next, 32) : next;
  return skipLeb(bytes, afterMemory, 64);
}

function skipHeapType(bytes: Uint8Array, offset: number): number {
  return readSigned(bytes, offset, 33).next;
}

function skipLebVector(bytes: Uint8Array, offset: number): number {
  const { value: count, next } = readUnsigned(bytes, offset);
  let position = next;
  for (let index = 0; index < count; index++) {
    position = skipLeb(bytes, position, 32);
  }
  return position;
}

function skipValueTypeVector(bytes: Uint8Array, offset: number): number {
  const { value: count, next } = readUnsigned(bytes, offset);
  let position = next;
  for (let index = 0; index < count; index++) {
    position = skipValueType(bytes, position);
  }
  return position;
}

function skipCatchClauses(
  bytes: Uint8Array,
  offset: number,
  visitLabel?: (label: number) => void,
): number {
  const { value: count, next } = readUnsigned(bytes, offset);
  let position = next;
  for (let index = 0; index < count; index++) {
    const kind = bytes[position++];
    if (kind === 0x00 || kind === 0x01) {
      position = skipLeb(bytes, position, 32); // tag index, then the label below
    } else if (kind !== 0x02 && kind !== 0x03) {
      throw invalid(position - 1, `unknown catch clause kind ${kind}`);
    }
    if (visitLabel === undefined) {
      position = skipLeb(bytes, position, 32);
    } else {
      const label = readUnsigned(bytes, position);
      visitLabel(label.value);
      position = label.next;
    }
  }
  return position;
}

/**
 * Calls `visit` with every label the branch instruction at `offset` may jump to: the
 * label of `br`, `br_if`, `br_on_null` and `br_on_non_null`, every entry and the default
 * of `br_table`, and the catch-clause labels of `try_table`. Labels count outwards from
 * the innermost enclosing block (0). The labels of `try_table` count from the block
 * around it, because its catch clauses branch out of it. Other instructions visit nothing.
 */
export function visitBranchLabels(
  bytes: Uint8Array,
  offset: number,
  visit: (label: number) => void,
): void {
  const opcode = bytes[offset];
  const position = offset + 1;
  switch (opcode) {
    case Opcode.br:
    case Opcode.brIf:
    case Opcode.brOnNull:
    case Opcode.brOnNonNull:
      visit(readUnsigned(bytes, position).value);
      return;
    case Opcode.brTable: {
      const { value: count, next } = readUnsigned(bytes, position);
      let cursor = next;
      for (let index = 0; index <= count; index++) {
        const label = readUnsigned(bytes, cursor);
        visit(label.value);
        cursor = label.next;
      }
      return;
    }
    case Opcode.tryTable:
      skipCatchClauses(bytes, skipBlockType(bytes, position), visit);
      return;
    default:
      return;
  }
}

function checkedEnd(bytes: Uint8Array, end: number): number {
  if (end > bytes.length) {
    throw invalid(bytes.length, 'unexpected end of an immediate');
  }
  return end;
}

function invalid(offset: number, rule: string): WasmRuntimeError {
  return new WasmRuntimeError(
    'INVALID_MODULE',
    `Invalid WebAssembly binary at byte ${offset}: ${rule}.`,
  );
}
