export { FUEL_EXPORT } from './binary/instrument';
export { buildJsComponent, type JsComponentSource } from './build-js-component';
export { buildWatComponent, type WatComponentSource, watToWasm } from './build-tools';
export {
  DEFAULTS,
  type ResolvedCallOptions,
  type ResolvedRuntimeConfig,
  resolveCallOptions,
  type WasmCallOptions,
  type WasmModuleConfig,
  type WasmRuntimeConfig,
  type WasmRuntimeLogger,
} from './config';
export {
  isWasmRuntimeError,
  WasmRuntimeError,
  type WasmRuntimeErrorCode,
  type WasmRuntimeErrorDetails,
} from './errors';
export type { CoreValue, HostImports, ReturnKind, WasiConfig } from './instance/types';
export type { ModuleCacheStats } from './module-cache';
export type { ExportedItem } from './transpile-cache';
export { type WasmCallResult, type WasmInstanceHandle, WasmModule } from './wasm-module';
export { createWasmRuntime, WasmRuntime, type WasmRuntimeStats } from './wasm-runtime';
