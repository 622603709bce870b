import type { ExportedItem } from '../transpile-cache';
import {
  type InstantiateComponent,
  instantiateComponent,
  wasiImportsFor,
} from './component-instance';
import { instantiateCoreModule } from './core-instance';
import type { GuestOutput } from './guest-output';
import type { HostImports, MeteredInstance, WasiConfig } from './types';

/** A core module compiled from its instrumented bytes. */
export interface PreparedCoreModule {
  readonly kind: 'module';
  readonly module: WebAssembly.Module;
}

/** A component: jco's bindings plus its instrumented, compiled core modules. */
export interface PreparedComponent {
  readonly kind: 'component';
  readonly entryPath: string;
  readonly instantiate: InstantiateComponent;
  readonly coreModules: ReadonlyMap<string, WebAssembly.Module>;
  readonly imports: readonly string[];
  readonly exports: readonly ExportedItem[];
}

/** The loaded form of a module, ready to instantiate. */
export type PreparedModule = PreparedCoreModule | PreparedComponent;

/**
 * Creates a fresh instance of a prepared module. A component's stdout and stderr go to
 * `output`, or nowhere without it.
 */
export async function createInstance(
  prepared: PreparedModule,
  hostImports: HostImports,
  wasi: WasiConfig | undefined,
  output?: GuestOutput,
): Promise<MeteredInstance> {
  if (prepared.kind === 'module') {
    return instantiateCoreModule(prepared.module, hostImports, wasi ?? {});
  }
  return instantiateComponent(
    prepared.instantiate,
    prepared.coreModules,
    prepared.imports,
    hostImports,
    // The shim is only loaded for components that import WASI.
    prepared.imports.some((name) => name.startsWith('wasi:'))
      ? await wasiImportsFor(wasi, output)
      : {},
  );
}
