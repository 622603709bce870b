import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FUEL_EXPORT, instrumentModule } from '../src/binary/instrument';

// Core modules that real toolchains produced (Rust through wasm-tools, C++ through
// wasi-sdk), shipped inside jco's dependencies: a broad check of the decoder.
const scope = dirname(
  dirname(dirname(realpathSync(createRequire(import.meta.url).resolve('@bytecodealliance/jco')))),
);
const corpus = [
  join(scope, 'jco-transpile', 'vendor', 'wasm-tools.core.wasm'),
  join(scope, 'jco-transpile', 'vendor', 'js-component-bindgen-component.core.wasm'),
  join(scope, 'componentize-js-0-19-3', 'lib', 'spidermonkey-embedding-splicer.core.wasm'),
].filter((path) => existsSync(path));

describe('instrumenting toolchain output', () => {
  it('finds the modules shipped with jco', () => {
    expect(corpus.length).toBeGreaterThan(0);
  });

  it.each(corpus.map((path) => [path.slice(scope.length + 1), path]))(
    'instruments %s into a valid module',
    async (_, path) => {
      const bytes = new Uint8Array(readFileSync(path));

      const result = instrumentModule(bytes, { fuel: true, memoryLimitBytes: 512 * 1024 * 1024 });
      const module = await WebAssembly.compile(result.bytes);

      expect(result.functionCount).toBeGreaterThan(100);
      expect(WebAssembly.Module.exports(module)).toContainEqual({
        name: FUEL_EXPORT,
        kind: 'global',
      });
      expect(WebAssembly.Module.imports(module)).toEqual(
        WebAssembly.Module.imports(await WebAssembly.compile(bytes)),
      );
    },
  );
});
