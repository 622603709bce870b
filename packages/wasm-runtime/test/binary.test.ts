import { beforeAll, describe, expect, it } from 'vitest';
import wabtInit from 'wabt';
import { checkDeclaredMemory, FUEL_EXPORT, instrumentModule } from '../src/binary/instrument';
import { encodeSigned, encodeUnsigned, readSigned, readUnsigned } from '../src/binary/leb128';
import { readBinaryKind, readSections } from '../src/binary/module-reader';
import { isWasmRuntimeError } from '../src/index';
import { echoComponent } from './fixtures';

type Wabt = Awaited<ReturnType<typeof wabtInit>>;
let wabt: Wabt;

beforeAll(async () => {
  wabt = await wabtInit();
});

const FEATURES = {
  simd: true,
  bulk_memory: true,
  reference_types: true,
  exceptions: true,
  tail_call: true,
  threads: true,
  multi_value: true,
  sat_float_to_int: true,
  sign_extension: true,
};

function assemble(wat: string, debugNames = false): Uint8Array {
  const parsed = wabt.parseWat('test.wat', wat, FEATURES);
  try {
    parsed.resolveNames();
    return new Uint8Array(parsed.toBinary({ write_debug_names: debugNames }).buffer);
  } finally {
    parsed.destroy();
  }
}

function instantiate(bytes: Uint8Array, imports: WebAssembly.Imports = {}, fuel = 1_000_000n) {
  const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), imports);
  const counter = instance.exports[FUEL_EXPORT] as WebAssembly.Global | undefined;
  if (counter !== undefined) {
    counter.value = fuel;
  }
  return {
    exports: instance.exports as Record<string, (...args: unknown[]) => unknown>,
    fuel: counter!,
  };
}

const unlimited = { fuel: true, memoryLimitBytes: 512 * 1024 * 1024 };

describe('LEB128', () => {
  it.each([0, 1, 127, 128, 624485, 2 ** 32 - 1, 2 ** 53 - 1])(
    'round-trips unsigned %i',
    (value) => {
      const bytes = Uint8Array.from(encodeUnsigned(value));

      const decoded = readUnsigned(bytes, 0, 64);

      expect(decoded).toEqual({ value, next: bytes.length });
    },
  );

  it.each([0n, 1n, -1n, 63n, 64n, -64n, -65n, -123456n, 2n ** 31n, -(2n ** 32n)])(
    'round-trips signed %s',
    (value) => {
      const bytes = Uint8Array.from(encodeSigned(value));

      const decoded = readSigned(bytes, 0, 64);

      expect(decoded).toEqual({ value: Number(value), next: bytes.length });
    },
  );

  it('rejects a truncated integer', () => {
    expect(() => readUnsigned(Uint8Array.of(0x80, 0x80), 0)).toThrow(/unexpected end/);
  });

  it('rejects an integer longer than its bit width allows', () => {
    expect(() => readUnsigned(Uint8Array.of(0x80, 0x80, 0x80, 0x80, 0x80, 0x01), 0, 32)).toThrow(
      /longer than 5 bytes/,
    );
  });
});

describe('module reader', () => {
  it('tells core modules from components', async () => {
    expect(readBinaryKind(assemble('(module)'))).toBe('module');
    expect(readBinaryKind(await echoComponent())).toBe('component');
  });

  it.each([
    ['empty input', new Uint8Array()],
    ['a wrong magic number', Uint8Array.of(0x7f, 0x45, 0x4c, 0x46, 1, 0, 0, 0)],
    ['an unknown version', Uint8Array.of(0, 0x61, 0x73, 0x6d, 2, 0, 0, 0)],
  ])('rejects %s as INVALID_MODULE', (_, bytes) => {
    expect(() => readBinaryKind(bytes)).toThrow(
      expect.objectContaining({ code: 'INVALID_MODULE' }),
    );
  });

  it('rejects a section running past the end', () => {
    const bytes = Uint8Array.of(0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 1, 0x20, 0);

    expect(() => readSections(bytes)).toThrow(/claims 32 bytes/);
  });
});

describe('fuel instrumentation', () => {
  it('charges each function entry and loop iteration', () => {
    const bytes = assemble(`(module
      (func (export "loop") (param $n i32)
        (loop $again
          (local.set $n (i32.sub (local.get $n) (i32.const 1)))
          (br_if $again (local.get $n)))))`);
    const { exports, fuel } = instantiate(instrumentModule(bytes, unlimited).bytes);

    exports.loop!(1);
    const once = 1_000_000n - (fuel.value as bigint);
    fuel.value = 1_000_000n;
    exports.loop!(5);
    const five = 1_000_000n - (fuel.value as bigint);

    expect(once).toBeGreaterThan(0n);
    // Four more iterations, each charging the six instructions of the loop body (its end is free).
    expect(five - once).toBe(4n * 6n);
  });

  // An interpreter's dispatch loop in miniature: every iteration takes a short path
  // past a large branch it never enters. Charging each iteration for the whole loop
  // body made the word-stats component (a JavaScript engine) run out of a 10-billion
  // budget within milliseconds.
  it('charges a loop iteration for the path it takes, not for branches it skips', () => {
    const skipped = '(local.set $sum (i32.add (local.get $sum) (i32.const 1)))\n'.repeat(500);
    const bytes = assemble(`(module
      (func (export "run") (param $n i32) (result i32)
        (local $sum i32)
        (loop $next
          (if (i32.eq (local.get $n) (i32.const -1))
            (then ${skipped}))
          (local.set $n (i32.sub (local.get $n) (i32.const 1)))
          (br_if $next (local.get $n)))
        (local.get $sum)))`);
    const { exports, fuel } = instantiate(instrumentModule(bytes, unlimited).bytes);

    expect(exports.run!(1)).toBe(0);
    const once = 1_000_000n - (fuel.value as bigint);
    fuel.value = 1_000_000n;
    exports.run!(101);
    const hundredMore = 1_000_000n - (fuel.value as bigint) - once;

    // Per iteration: the test and `if` (4), then the countdown and `br_if` (6).
    expect(hundredMore).toBe(100n * 10n);
  });

  it('charges the same fuel however large the cases a br_table skips are', () => {
    const dispatch = (slowCase: string) =>
      assemble(`(module
        (func (export "run") (param $n i32) (result i32)
          (local $sum i32)
          (loop $next
            (block $done
              (block $slow
                (block $fast
                  (br_table $fast $slow (i32.eq (local.get $n) (i32.const -1))))
                (local.set $sum (i32.add (local.get $sum) (i32.const 2)))
                (br $done))
              ${slowCase})
            (local.set $n (i32.sub (local.get $n) (i32.const 1)))
            (br_if $next (local.get $n)))
          (local.get $sum)))`);
    const fuelFor = (slowCase: string) => {
      const { exports, fuel } = instantiate(instrumentModule(dispatch(slowCase), unlimited).bytes);
      expect(exports.run!(1000)).toBe(2000);
      return 1_000_000n - (fuel.value as bigint);
    };

    const small = fuelFor('(local.set $sum (i32.const 0))');
    const large = fuelFor('(local.set $sum (i32.const 0))\n'.repeat(2000));

    expect(large).toBe(small);
    expect(small).toBeLessThan(1000n * 20n);
  });

  it('charges nothing for code a conditional branch jumps over', () => {
    const guarded = (body: string) =>
      assemble(`(module
        (func (export "run") (param $skip i32) (result i32)
          (local $sum i32)
          (block $out
            (br_if $out (local.get $skip))
            ${body})
          (local.get $sum)))`);
    const fuelFor = (body: string, skip: number) => {
      const { exports, fuel } = instantiate(instrumentModule(guarded(body), unlimited).bytes);
      exports.run!(skip);
      return 1_000_000n - (fuel.value as bigint);
    };
    const body = '(local.set $sum (i32.add (local.get $sum) (i32.const 1)))\n'.repeat(100);

    expect(fuelFor(body, 1)).toBe(fuelFor('', 1));
    expect(fuelFor(body, 0) - fuelFor('', 0)).toBe(400n);
  });

  it('charges only the arm of an if that runs', () => {
    const bytes = assemble(`(module
      (func (export "pick") (param $c i32) (result i32)
        (if (result i32) (local.get $c)
          (then (i32.add (i32.const 1) (i32.const 2)))
          (else (i32.const 7)))))`);
    const { exports, fuel } = instantiate(instrumentModule(bytes, unlimited).bytes);

    expect(exports.pick!(0)).toBe(7);
    const elseArm = 1_000_000n - (fuel.value as bigint);
    fuel.value = 1_000_000n;
    expect(exports.pick!(1)).toBe(3);
    const thenArm = 1_000_000n - (fuel.value as bigint);

    expect(thenArm - elseArm).toBe(2n);
  });

  it('keeps unreachable code, handlers and results valid when splitting runs', () => {
    const bytes = assemble(`(module
      (tag $oops (param i32))
      (func (export "dead") (param $n i32) (result i32)
        (block $out (result i32)
          (loop $next
            (br_if $next (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))
          (br $out (i32.const 5))
          (drop (i32.const 1))
          (i32.const 6)))
      (func (export "caught") (param $n i32) (result i32)
        (local $sum i32)
        (loop $next
          (local.set $sum
            (i32.add (local.get $sum)
              (try (result i32)
                (do (throw $oops (local.get $n)))
                (catch $oops)
                (catch_all (i32.const 0)))))
          (br_if $next (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))
        (local.get $sum)))`);

    const instrumented = instrumentModule(bytes, unlimited);
    const { exports } = instantiate(instrumented.bytes);

    expect(WebAssembly.validate(instrumented.bytes)).toBe(true);
    expect(exports.dead!(3)).toBe(5);
    expect(exports.caught!(4)).toBe(10);
  });

  it('traps with fuel below zero when the budget runs out', () => {
    const bytes = assemble('(module (func (export "spin") (loop $l (br $l))))');
    const { exports, fuel } = instantiate(instrumentModule(bytes, unlimited).bytes, {}, 1000n);

    expect(() => exports.spin!()).toThrow(WebAssembly.RuntimeError);
    expect(fuel.value as bigint).toBeLessThan(0n);
  });

  it('keeps globals working in code, initializers, segments and exports', () => {
    const bytes = assemble(
      `(module
        (import "env" "base" (global $base i32))
        (import "env" "table_base" (global $table_base i32))
        (global $counter (mut i32) (i32.const 7))
        (global $copy i32 (global.get $base))
        (global $ref (mut funcref) (ref.func $answer))
        (memory 1)
        (table 4 funcref)
        (data (global.get $base) "hi")
        (elem (global.get $table_base) func $answer)
        (func $answer (result i32) (i32.const 42))
        (func (export "bump") (result i32)
          (global.set $counter (i32.add (global.get $counter) (i32.const 1)))
          (global.get $counter))
        (func (export "copy") (result i32) (global.get $copy))
        (func (export "byte") (result i32) (i32.load8_u (global.get $base)))
        (func (export "indirect") (result i32) (call_indirect (result i32) (global.get $table_base)))
        (func (export "via_table") (result i32)
          (table.set (i32.const 0) (global.get $ref))
          (call_indirect (result i32) (i32.const 0)))
        (export "counter" (global $counter)))`,
      true,
    );
    const env = {
      base: new WebAssembly.Global({ value: 'i32' }, 100),
      table_base: new WebAssembly.Global({ value: 'i32' }, 2),
    };

    const { exports } = instantiate(instrumentModule(bytes, unlimited).bytes, { env });

    expect(exports.bump!()).toBe(8);
    expect(exports.bump!()).toBe(9);
    expect(exports.copy!()).toBe(100);
    expect(exports.byte!()).toBe('h'.charCodeAt(0));
    expect(exports.indirect!()).toBe(42);
    expect(exports.via_table!()).toBe(42);
    expect((exports.counter as unknown as WebAssembly.Global).value).toBe(9);
  });

  it('keeps the name section valid', () => {
    const bytes = assemble(
      '(module (global $g (mut i32) (i32.const 1)) (func $f (export "f") (result i32) (global.get $g)))',
      true,
    );

    const instrumented = instrumentModule(bytes, unlimited).bytes;
    const module = new WebAssembly.Module(instrumented);

    expect(WebAssembly.Module.customSections(module, 'name')).toHaveLength(1);
    expect(instantiate(instrumented).exports.f!()).toBe(1);
  });

  it('decodes SIMD, bulk memory, reference types, exceptions, atomics and tail calls', () => {
    const bytes = assemble(`(module
      (memory 1 1 shared)
      (table 2 funcref)
      (tag $oops (param i32))
      (elem declare func $id)
      (func $id (param i32) (result i32) (local.get 0))
      (func (export "mixed") (param $x i32) (result i32)
        (local $v v128)
        (local.set $v (i32x4.splat (local.get $x)))
        (local.set $v (i8x16.shuffle 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 (local.get $v) (v128.const i32x4 1 2 3 4)))
        (v128.store offset=16 (i32.const 0) (local.get $v))
        (memory.fill (i32.const 64) (i32.const 7) (i32.const 8))
        (memory.copy (i32.const 80) (i32.const 64) (i32.const 8))
        (drop (i32.atomic.rmw.add (i32.const 96) (i32.const 5)))
        (atomic.fence)
        (drop (ref.is_null (ref.null func)))
        (table.set (i32.const 0) (ref.func $id))
        (drop (i32.trunc_sat_f32_s (f32.const 1.5)))
        (drop (i32.extend8_s (i32.const 255)))
        (try (result i32)
          (do (throw $oops (i32x4.extract_lane 0 (local.get $v))))
          (catch $oops)))
      (func (export "tail") (param i32) (result i32)
        (return_call $id (local.get 0))))`);

    const instrumented = instrumentModule(bytes, unlimited);
    const { exports, fuel } = instantiate(instrumented.bytes);

    expect(WebAssembly.validate(instrumented.bytes)).toBe(true);
    expect(exports.mixed!(9)).toBe(9);
    expect(exports.tail!(5)).toBe(5);
    expect(fuel.value as bigint).toBeLessThan(1_000_000n);
  });

  it('exports the fuel counter and adds no import', () => {
    const bytes = assemble('(module (import "env" "f" (func $f)) (func (export "g") (call $f)))');

    const module = new WebAssembly.Module(instrumentModule(bytes, unlimited).bytes);

    expect(WebAssembly.Module.imports(module)).toEqual([
      { module: 'env', name: 'f', kind: 'function' },
    ]);
    expect(WebAssembly.Module.exports(module)).toEqual([
      { name: 'g', kind: 'function' },
      { name: FUEL_EXPORT, kind: 'global' },
    ]);
  });

  it('adds global and export sections where the module has none', () => {
    const bytes = assemble(
      '(module (memory 1) (func $f (loop $l) (drop (i32.const 1))) (start $f) (data (i32.const 0) "x"))',
    );

    const instrumented = instrumentModule(bytes, { ...unlimited, initialFuel: 500 });
    const instance = new WebAssembly.Instance(new WebAssembly.Module(instrumented.bytes));
    const counter = instance.exports[FUEL_EXPORT] as WebAssembly.Global;

    expect(counter.value as bigint).toBeLessThan(500n);
    expect(counter.value as bigint).toBeGreaterThan(0n);
  });

  it('rejects a module already exporting the fuel name', () => {
    const bytes = assemble(`(module (global (export "${FUEL_EXPORT}") i32 (i32.const 0)))`);

    expect(() => instrumentModule(bytes, unlimited)).toThrow(
      expect.objectContaining({ code: 'INVALID_MODULE' }),
    );
  });

  it('leaves functions alone with fuel off', () => {
    const bytes = assemble('(module (func (export "f")))');

    const result = instrumentModule(bytes, { fuel: false, memoryLimitBytes: 65536 });

    expect(result.fueled).toBe(false);
    expect(WebAssembly.Module.imports(new WebAssembly.Module(result.bytes))).toEqual([]);
  });

  it('rejects an unknown opcode as INVALID_MODULE', () => {
    const bytes = assemble('(module (func (export "f") nop))');
    const corrupted = bytes.slice();
    corrupted[corrupted.lastIndexOf(0x01)] = 0xfb; // nop becomes the GC prefix

    const error = (() => {
      try {
        instrumentModule(corrupted, unlimited);
      } catch (caught) {
        return caught;
      }
    })();

    expect(isWasmRuntimeError(error)).toBe(true);
    expect((error as { code?: string }).code).toBe('INVALID_MODULE');
  });
});

describe('memory limits', () => {
  const PAGE = 65536;

  it.each([
    ['no maximum', '(memory (export "m") 1)', 4],
    ['a larger maximum', '(memory (export "m") 1 100)', 4],
    ['a smaller maximum', '(memory (export "m") 1 2)', 2],
    ['shared memory', '(memory (export "m") 1 100 shared)', 4],
  ])('caps a memory with %s', (_, memory, expectedPages) => {
    const bytes = assemble(`(module ${memory})`);

    const result = instrumentModule(bytes, { fuel: false, memoryLimitBytes: 4 * PAGE });
    const { exports } = instantiate(result.bytes);
    const exported = exports.m as unknown as WebAssembly.Memory;

    expect(result.memories[0]!.maximumBytes).toBe(expectedPages * PAGE);
    expect(exported.grow(expectedPages - 1)).toBe(1);
    expect(() => exported.grow(1)).toThrow(RangeError);
  });

  it('rejects a declared minimum above the cap with MEMORY_LIMIT', () => {
    const bytes = assemble('(module (memory 5))');

    expect(() => checkDeclaredMemory(bytes, 4 * PAGE)).toThrow(
      expect.objectContaining({ code: 'MEMORY_LIMIT' }),
    );
    expect(() => instrumentModule(bytes, { fuel: true, memoryLimitBytes: 4 * PAGE })).toThrow(
      /above the memory limit/,
    );
  });

  it('rejects an imported memory whose minimum exceeds the cap', () => {
    const bytes = assemble('(module (import "env" "memory" (memory 8)))');

    expect(() => checkDeclaredMemory(bytes, 4 * PAGE)).toThrow(/imports a memory/);
  });
});
