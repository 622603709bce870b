/**
 * The WASM runtime alone: builds a component and a core module from text, calls
 * them with strings, and shows the fuel, memory and time limits at work.
 *
 *   node --conditions=source --import tsx examples/wasm-runtime/main.ts
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMetricsRegistry } from '@agentnode/metrics';
import {
  buildWatComponent,
  createWasmRuntime,
  isWasmRuntimeError,
  watToWasm,
} from '@agentnode/wasm-runtime';

// A component whose core module implements `shout` over the canonical ABI: it upper-cases
// ASCII letters in place and returns (pointer, length) through a return area.
const shoutWit = `package demo:shout;
world shout {
  export shout: func(text: string) -> string;
}`;
const shoutWat = `(module
  (memory (export "memory") 1)
  (global $next (mut i32) (i32.const 1024))
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32)
    (local $pointer i32)
    (local.set $pointer (global.get $next))
    (global.set $next (i32.add (global.get $next) (local.get 3)))
    (local.get $pointer))
  (func (export "shout") (param $text i32) (param $length i32) (result i32)
    (local $i i32)
    (local $byte i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $length)))
        (local.set $byte (i32.load8_u (i32.add (local.get $text) (local.get $i))))
        (if (i32.and (i32.ge_u (local.get $byte) (i32.const 97)) (i32.le_u (local.get $byte) (i32.const 122)))
          (then (i32.store8 (i32.add (local.get $text) (local.get $i)) (i32.sub (local.get $byte) (i32.const 32)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (i32.store (i32.const 16) (local.get $text))
    (i32.store (i32.const 20) (local.get $length))
    (i32.const 16))
  (func (export "cabi_post_shout") (param i32)
    (global.set $next (i32.const 1024))))`;

// A core module with a runaway loop and a memory hog.
const limitsWat = `(module
  (memory (export "memory") 1)
  (func (export "forever") (loop $again (br $again)))
  (func (export "hog") (result i32)
    (block $full (loop $more
      (br_if $full (i32.eq (memory.grow (i32.const 1)) (i32.const -1)))
      (br $more)))
    (memory.size)))`;

const metrics = createMetricsRegistry({ collectSystem: false });
const runtime = createWasmRuntime({
  cacheDirectory: join(tmpdir(), 'agentnode-wasm-example'),
  memoryLimitBytes: 16 * 1024 * 1024,
  metrics,
});

const shout = runtime.load(await buildWatComponent({ wat: shoutWat, wit: shoutWit }), {
  name: 'shout',
});
for (const text of ['hello, wasm', 'héllo wörld 🦀']) {
  const result = await shout.call<string>('shout', [text]);
  console.log(
    `shout(${JSON.stringify(text)}) = ${JSON.stringify(result.value)} using ${result.fuelUsed} fuel`,
  );
}

const limits = runtime.load(await watToWasm(limitsWat), { name: 'limits' });
try {
  await limits.call('forever', [], { fuelLimit: 1_000_000 });
} catch (error) {
  if (!isWasmRuntimeError(error)) throw error;
  console.log(`forever() stopped: ${error.code} after ${error.details.fuelUsed} fuel`);
}

const pages = await limits.call<number>('hog');
console.log(
  `hog() stopped growing at ${(pages.value * 65536) / (1024 * 1024)} MiB: memory.grow returned -1`,
);

const traps = await metrics.registry.getSingleMetricAsString('agentnode_wasm_traps_total');
console.log(traps.split('\n').find((line) => line.startsWith('agentnode_wasm_traps_total{')));

await runtime.close();
