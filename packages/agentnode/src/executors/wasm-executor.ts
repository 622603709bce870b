import type { ToolDefinition, ToolExecutor, ToolInvocation, ToolParams } from '@agentnode/core';
import {
  resolveCallOptions,
  type WasmCallOptions,
  type WasmModule,
  type WasmModuleConfig,
  type WasmRuntime,
} from '@agentnode/wasm-runtime';

/**
 * The `spec` of a `wasm` tool: which module, which export, and how the
 * parameters become the export's arguments.
 *
 * @example
 * import type { WasmToolSpec } from 'agentnode';
 * const spec: WasmToolSpec = {
 *   module: wordStatsBytes,
 *   export: 'analyze',
 *   args: (params) => [params.text, params.top ?? 10],
 *   call: { fuelLimit: 1_000_000_000 },
 * };
 */
export interface WasmToolSpec {
  /** The component or core module, as bytes. */
  module: Uint8Array;
  /** Export to call, in WIT form (`parse-number`), camelCase or `interface#name`. */
  export: string;
  /**
   * Arguments of the export, built from the validated parameters.
   * @default the parameters object as the single argument
   */
  args?: (params: ToolParams) => readonly unknown[];
  /** Load options: metric name, host imports, WASI settings. */
  load?: WasmModuleConfig;
  /** Call options: fuel, isolation, instance reuse, return kind. The coordinator owns the deadline. */
  call?: Omit<WasmCallOptions, 'signal' | 'timeoutMs'>;
}

/**
 * Runs `wasm` tools on a WASM runtime. Each tool's module is loaded when the
 * tool is registered and compiled on its first call (once per content hash).
 * The call's signal is passed on: a guest running with `isolation: 'worker'`
 * is terminated when it fires, while an in-process guest cannot be
 * interrupted and is stopped by its fuel budget instead (the call still
 * fails with TIMEOUT or ABORTED when the guest returns).
 */
export function createWasmExecutor(runtime: WasmRuntime): ToolExecutor {
  // Keyed by the module bytes object, so a re-registered tool with new bytes gets a new module.
  const modules = new WeakMap<Uint8Array, WasmModule>();

  const moduleOf = (spec: WasmToolSpec, toolKey: string): WasmModule => {
    let module = modules.get(spec.module);
    if (module === undefined) {
      module = runtime.load(spec.module, { name: toolKey, ...spec.load });
      modules.set(spec.module, module);
    }
    return module;
  };

  return {
    kind: 'wasm',
    validateTool(tool: ToolDefinition) {
      validateSpec(tool.spec);
      // Checks the call options now, so a typo such as `fuelLimt` fails the registration, not the first call.
      resolveCallOptions(tool.spec.call ?? {}, runtime.config);
      // Loading reads the header, hashes the bytes and checks declared memory,
      // so bad bytes are rejected at registration; compiling waits for the first call.
      moduleOf(tool.spec, tool.key);
    },
    async run(call: ToolInvocation) {
      const { signal } = call;
      const spec = call.tool.spec as WasmToolSpec;
      const module = moduleOf(spec, call.tool.key);
      const args = spec.args ? spec.args(call.params) : [call.params];
      const result = await module.call(spec.export, args, { ...spec.call, signal });

      return result.value;
    },
  };
}

function validateSpec(spec: unknown): asserts spec is WasmToolSpec {
  if (typeof spec !== 'object' || spec === null) {
    throw new TypeError('a wasm tool needs "spec" with at least { module, export }');
  }
  const candidate = spec as Partial<WasmToolSpec>;
  if (!(candidate.module instanceof Uint8Array) || candidate.module.byteLength === 0) {
    throw new TypeError('"spec.module" must be the module bytes as a non-empty Uint8Array');
  }
  if (typeof candidate.export !== 'string' || candidate.export === '') {
    throw new TypeError(
      `"spec.export" must name an export, got ${JSON.stringify(candidate.export)}`,
    );
  }
  if (candidate.args !== undefined && typeof candidate.args !== 'function') {
    throw new TypeError('"spec.args" must be a function from parameters to an argument list');
  }
}
