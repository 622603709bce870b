/**
 * Entry point of an isolation worker: runs one call at a time for the runtime on the
 * main thread, which terminates the worker when the call's deadline passes.
 */

import { pathToFileURL } from 'node:url';
import { parentPort } from 'node:worker_threads';
import { isWasmRuntimeError, WasmRuntimeError } from '../errors';
import { importBindings } from '../instance/component-instance';
import { callMetered } from '../instance/metered-call';
import { createInstance, type PreparedModule } from '../instance/prepared-module';
import type { HostImports } from '../instance/types';
import type { WorkerError, WorkerModule, WorkerRequest, WorkerResponse } from './protocol';

const hostModules = new Map<string, Promise<HostImports>>();

parentPort?.on('message', (request: WorkerRequest) => {
  run(request).then(
    (response) => parentPort?.postMessage(response),
    (error: unknown) =>
      parentPort?.postMessage({ id: request.id, ok: false, error: flatten(error), fuelUsed: 0 }),
  );
});

async function run(request: WorkerRequest): Promise<WorkerResponse> {
  const prepared = await toPrepared(request.module);
  const hostImports =
    request.hostModule === undefined ? {} : await loadHostImports(request.hostModule);
  const instance = await createInstance(prepared, hostImports, request.wasi);
  const outcome = callMetered(
    instance,
    request.exportName,
    request.args,
    request.returns,
    request.fuelLimit,
  );
  if (outcome.ok) {
    return { id: request.id, ok: true, value: outcome.value, fuelUsed: outcome.fuelUsed };
  }
  return { id: request.id, ok: false, error: flatten(outcome.error), fuelUsed: outcome.fuelUsed };
}

async function toPrepared(module: WorkerModule): Promise<PreparedModule> {
  if (module.kind === 'module') {
    return module;
  }
  return {
    kind: 'component',
    entryPath: module.entryPath,
    instantiate: await importBindings(module.entryPath),
    coreModules: new Map(module.coreModules),
    imports: module.imports,
    exports: [],
  };
}

function loadHostImports(url: string): Promise<HostImports> {
  let loaded = hostModules.get(url);
  if (loaded === undefined) {
    loaded = import(url.startsWith('file:') ? url : pathToFileURL(url).href).then(
      (namespace: { default?: unknown }) => {
        const imports = namespace.default;
        if (typeof imports !== 'object' || imports === null) {
          throw new WasmRuntimeError(
            'INVALID_ARGUMENT',
            `The host module ${url} must default-export an object of host imports.`,
          );
        }
        return imports as HostImports;
      },
    );
    hostModules.set(url, loaded);
  }
  return loaded;
}

function flatten(error: unknown): WorkerError {
  if (isWasmRuntimeError(error)) {
    return {
      name: error.name,
      message: error.message,
      code: error.code,
      details: { ...error.details },
    };
  }
  if (error instanceof Error) {
    const payload = (error as { payload?: unknown }).payload;
    return payload === undefined
      ? { name: error.name, message: error.message }
      : { name: error.constructor.name, message: error.message, payload };
  }
  return { name: 'Error', message: String(error) };
}
