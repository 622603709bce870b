/**
 * Thin wrappers over jco's offline wasm-tools for building modules and components
 * from text: handy for tests, examples and tools written in WAT.
 */

import { WasmRuntimeError } from './errors';

/** Input of {@link buildWatComponent}. */
export interface WatComponentSource {
  /** WAT of the core module implementing the world with the canonical ABI. */
  readonly wat: string;
  /** WIT text declaring the world. */
  readonly wit: string;
  /** World to target when the WIT declares several. */
  readonly world?: string;
}

/**
 * Assembles WebAssembly text (a core module or a component) into binary.
 *
 * @example
 * import { watToWasm } from '@agentnode/wasm-runtime';
 *
 * const bytes = await watToWasm('(module (func (export "one") (result i32) i32.const 1))');
 */
export async function watToWasm(wat: string): Promise<Uint8Array> {
  if (typeof wat !== 'string' || wat.trim() === '') {
    throw new WasmRuntimeError(
      'INVALID_ARGUMENT',
      'Invalid wat: expected WebAssembly text as a non-empty string.',
    );
  }

  const { parse } = await import('@bytecodealliance/jco');
  try {
    return await parse(wat);
  } catch (error) {
    throw new WasmRuntimeError(
      'INVALID_MODULE',
      `The WebAssembly text does not assemble: ${messageOf(error)}`,
      {
        cause: error,
      },
    );
  }
}

/**
 * Builds a component from a core module in WAT and the WIT world it implements:
 * assembles the module, embeds the WIT (UTF-8 strings) and wraps it as a component.
 *
 * @example
 * import { buildWatComponent } from '@agentnode/wasm-runtime';
 *
 * const bytes = await buildWatComponent({
 *   wat: '(module (func (export "answer") (result i32) i32.const 42))',
 *   wit: 'package demo:answer; world answer { export answer: func() -> u32; }',
 * });
 */
export async function buildWatComponent(source: WatComponentSource): Promise<Uint8Array> {
  if (typeof source?.wit !== 'string' || !/\bworld\s/.test(source.wit)) {
    throw new WasmRuntimeError(
      'INVALID_ARGUMENT',
      'Invalid wit: expected WIT text that declares a world.',
    );
  }

  const core = await watToWasm(source.wat);
  const { componentEmbed, componentNew } = await import('@bytecodealliance/jco');
  try {
    const embedded = await componentEmbed({
      binary: core,
      witSource: source.wit,
      stringEncoding: 'utf8',
      ...(source.world !== undefined && { world: source.world }),
    });
    return await componentNew(embedded);
  } catch (error) {
    throw new WasmRuntimeError(
      'INVALID_MODULE',
      `The component could not be built: ${messageOf(error)}`,
      {
        cause: error,
      },
    );
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
