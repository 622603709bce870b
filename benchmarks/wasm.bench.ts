/**
 * WASM runtime suite: module loading and caching, call overhead, fuel metering cost
 * and restarts with a warm disk cache. Every binary is built here from WAT and WIT.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildWatComponent, createWasmRuntime, watToWasm } from '@agentnode/wasm-runtime';
import { type BenchRow, compare, type SuiteOptions } from './harness';

const AREA = 'WASM runtime';
const CALL_BATCH = 1_000;
/** Calls made on each side of a call-overhead comparison before it is timed. */
const WARMUP_CALLS = 50_000;
const FIXTURES = new URL('../packages/wasm-runtime/test/fixtures/', import.meta.url);
const quietHost = { 'test:echo/host': { log: () => undefined } };

type JcoInstantiate = (
  getCoreModule: (name: string) => WebAssembly.Module,
  imports: Record<string, unknown>,
  instantiateCore?: (
    module: WebAssembly.Module,
    imports?: WebAssembly.Imports,
  ) => WebAssembly.Instance,
) => Record<string, unknown> | Promise<Record<string, unknown>>;

export async function run(options: SuiteOptions): Promise<BenchRow[]> {
  const workDirectory = await mkdtemp(join(tmpdir(), 'agentnode-wasm-bench-'));
  try {
    const limits = await watToWasm(await readFile(new URL('limits.wat', FIXTURES), 'utf8'));
    const component = await buildWatComponent({
      wat: await readFile(new URL('echo-component.wat', FIXTURES), 'utf8'),
      wit: await readFile(new URL('echo.wit', FIXTURES), 'utf8'),
    });
    const library = await watToWasm(generatedLibrary(400));

    return [
      ...(await loadRows(library, options)),
      ...(await callRows(limits, component, join(workDirectory, 'calls'), options)),
      ...(await fuelRows(limits, options)),
      await restartRow(component, workDirectory, options),
    ];
  } finally {
    await rm(workDirectory, { recursive: true, force: true });
  }
}

async function loadRows(library: Uint8Array, options: SuiteOptions): Promise<BenchRow[]> {
  const runtime = createWasmRuntime();
  await runtime.load(library).ready();
  let variant = 0;
  const coldLoad = {
    name: 'fresh runtime: hash, instrument and compile a changed copy',
    async fn() {
      // Distinct bytes every time, so neither cache nor V8's module sharing can help.
      const cold = createWasmRuntime();
      await cold.load(withCustomSection(library, variant++)).ready();
    },
  };
  const cacheHit = {
    name: 'runtime.load(bytes).ready() on a compiled-cache hit',
    async fn() {
      await runtime.load(library).ready();
    },
  };

  const hitVsCompile = await compare(
    {
      area: AREA,
      operation: `module load: compiled-cache hit vs cold compile (${kib(library)} module)`,
      target: 'cache hit at least 100x faster (ratio at most 0.01)',
      meets: (ratio) => ratio <= 0.01,
    },
    cacheHit,
    coldLoad,
    options,
  );

  const moduleLoad = await compare(
    {
      area: AREA,
      operation: `module load, cold (${kib(library)} module)`,
      claimedAfter: '100 ms one time (claimed before; no after figure)',
      note: 'the ratio is the cost of hashing and fuel instrumentation over a bare compile',
    },
    coldLoad,
    {
      name: 'WebAssembly.compile of a changed copy, uninstrumented',
      async fn() {
        await WebAssembly.compile(withCustomSection(library, variant++));
      },
    },
    options,
  );

  const hashed = await compare(
    {
      area: AREA,
      operation: `module cache hit (${kib(library)} module)`,
      claimedAfter: '1 µs (claimed before; no after figure)',
      note: 'reloading a buffer compares it with the hashed copy instead of hashing again',
    },
    cacheHit,
    {
      name: 'SHA-256 of the module bytes (a content-keyed lookup without that check)',
      fn() {
        return createHash('sha256').update(library).digest('hex');
      },
    },
    options,
  );

  await runtime.close();
  return [hitVsCompile, moduleLoad, hashed];
}

async function callRows(
  limits: Uint8Array,
  component: Uint8Array,
  cacheDirectory: string,
  options: SuiteOptions,
): Promise<BenchRow[]> {
  const runtime = createWasmRuntime({ cacheDirectory });
  const tool = runtime.load(component, { imports: quietHost });
  await tool.ready();
  const direct = await directJcoExports(cacheDirectory, tool.sha256);
  const add = direct.add as (a: number, b: number) => number;
  // Both sides reach V8's optimized code before they are timed, so the ratio compares
  // steady states rather than how fast each warms up.
  for (let i = 0; i < WARMUP_CALLS; i++) {
    await tool.call('add', [i, 2]);
    add(i, 2);
  }

  const componentCall = await compare(
    {
      area: AREA,
      operation: 'call overhead: trivial component export (u32 add)',
      target: 'at most 1.5x',
      meets: (ratio) => ratio <= 1.5,
    },
    {
      name: 'await module.call("add", [1, 2]) (fuel metered)',
      batch: CALL_BATCH,
      async fn() {
        for (let i = 0; i < CALL_BATCH; i++) {
          await tool.call('add', [i, 2]);
        }
      },
    },
    {
      name: 'the same jco-transpiled export called directly, uninstrumented',
      batch: CALL_BATCH,
      fn() {
        for (let i = 0; i < CALL_BATCH; i++) {
          add(i, 2);
        }
      },
    },
    options,
  );

  const core = runtime.load(limits);
  await core.ready();
  const raw = new WebAssembly.Instance(await WebAssembly.compile(limits)).exports as Record<
    string,
    (a: number, b: number) => number
  >;
  const coreCall = await compare(
    {
      area: AREA,
      operation: 'function call (core module i32 add)',
      claimedAfter: '10 µs (claimed before; no after figure)',
    },
    {
      name: 'await module.call("add", [1, 2]) (fuel metered)',
      batch: CALL_BATCH,
      async fn() {
        for (let i = 0; i < CALL_BATCH; i++) {
          await core.call('add', [i, 2]);
        }
      },
    },
    {
      name: 'raw WebAssembly export call, uninstrumented',
      batch: CALL_BATCH,
      fn() {
        for (let i = 0; i < CALL_BATCH; i++) {
          raw.add!(i, 2);
        }
      },
    },
    options,
  );

  await runtime.close();
  return [componentCall, coreCall];
}

async function fuelRows(limits: Uint8Array, options: SuiteOptions): Promise<BenchRow[]> {
  const metered = createWasmRuntime().load(limits);
  const unmetered = createWasmRuntime({ fuelMetering: false }).load(limits);
  const iterations = 20_000;

  const compute = await compare(
    {
      area: AREA,
      operation: `fuel metering cost: xorshift loop, ${iterations} iterations`,
      target: 'at most 2x',
      meets: (ratio) => ratio <= 2,
    },
    {
      name: 'module.call("xorshift") with fuel metering',
      async fn() {
        await metered.call('xorshift', [iterations]);
      },
    },
    {
      name: 'module.call("xorshift") with fuelMetering: false',
      async fn() {
        await unmetered.call('xorshift', [iterations]);
      },
    },
    options,
  );

  const worstCase = await compare(
    {
      area: AREA,
      operation: `fuel metering cost, worst case: empty counting loop, ${iterations * 10} iterations`,
      note: 'five instructions per iteration, so the charge dominates; real loops do more work per check',
    },
    {
      name: 'module.call("count_to") with fuel metering',
      async fn() {
        await metered.call('count_to', [iterations * 10]);
      },
    },
    {
      name: 'module.call("count_to") with fuelMetering: false',
      async fn() {
        await unmetered.call('count_to', [iterations * 10]);
      },
    },
    options,
  );
  return [compute, worstCase];
}

async function restartRow(
  component: Uint8Array,
  workDirectory: string,
  options: SuiteOptions,
): Promise<BenchRow> {
  const warmDirectory = join(workDirectory, 'warm');
  await createWasmRuntime({ cacheDirectory: warmDirectory })
    .load(component, { imports: quietHost })
    .ready();
  let coldRun = 0;

  return compare(
    {
      area: AREA,
      operation: 'restart: first load of a component',
      target: 'warm disk cache faster than a cold transpile (ratio below 1)',
      meets: (ratio) => ratio < 1,
      note: 'in one process the generated bindings stay in the ES module cache, so the warm figure excludes their parse',
    },
    {
      name: 'new runtime, warm disk cache: verify, instrument, compile',
      async fn() {
        const restarted = createWasmRuntime({ cacheDirectory: warmDirectory });
        await restarted.load(component, { imports: quietHost }).ready();
      },
    },
    {
      name: 'new runtime, empty disk cache: transpile with jco, then the same',
      async fn() {
        const cold = createWasmRuntime({
          cacheDirectory: join(workDirectory, `cold-${coldRun++}`),
        });
        await cold.load(component, { imports: quietHost }).ready();
      },
    },
    options,
  );
}

/** Instantiates the transpiled component from the runtime's cache without the runtime. */
async function directJcoExports(
  cacheDirectory: string,
  sha256: string,
): Promise<Record<string, unknown>> {
  const components = join(cacheDirectory, 'components');
  const entry = (await readdir(components)).find(
    (name) => name.startsWith(sha256) && !name.includes('.tmp-'),
  );
  if (entry === undefined) {
    throw new Error(`No transpiled entry for ${sha256} in ${components}.`);
  }

  const directory = join(components, entry);
  const modules = new Map<string, WebAssembly.Module>();
  for (const file of await readdir(directory)) {
    if (file.endsWith('.wasm')) {
      modules.set(file, await WebAssembly.compile(await readFile(join(directory, file))));
    }
  }
  const { instantiate } = (await import(pathToFileURL(join(directory, 'component.js')).href)) as {
    instantiate: JcoInstantiate;
  };
  return instantiate(
    (name) => modules.get(name)!,
    quietHost,
    (module, imports) => new WebAssembly.Instance(module, imports),
  );
}

/** Generates the WAT of a core module with `count` small looping functions, to benchmark loading. */
function generatedLibrary(count: number): string {
  const functions = Array.from(
    { length: count },
    (_, index) => `(func (export "f${index}") (param $n i32) (result i32) (local $acc i32)
      (block $done (loop $next
        (br_if $done (i32.eqz (local.get $n)))
        (local.set $acc (i32.add (i32.mul (local.get $acc) (i32.const ${index + 3})) (local.get $n)))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $next)))
      (local.get $acc))`,
  );
  return `(module (memory 1) ${functions.join('\n')})`;
}

/** Appends a custom section holding `tag`, which changes the bytes but not the module. */
function withCustomSection(bytes: Uint8Array, tag: number): Uint8Array {
  const name = new TextEncoder().encode('bench');
  const payload = new TextEncoder().encode(String(tag));
  const size = 1 + name.length + payload.length;
  const out = new Uint8Array(bytes.length + 2 + size);
  out.set(bytes);
  out.set([0, size, name.length, ...name, ...payload], bytes.length);
  return out;
}

function kib(bytes: Uint8Array): string {
  return `${Math.round(bytes.length / 1024)} KiB`;
}
