/** Conversions between a prepared module or call and the messages a worker exchanges. */

import { WasmRuntimeError } from '../errors';
import type { PreparedModule } from '../instance/prepared-module';
import type { WorkerError, WorkerModule, WorkerResponse } from './protocol';

/** Extracts what a worker needs from a prepared module; compiled modules transfer as-is. */
export function toWorkerModule(prepared: PreparedModule): WorkerModule {
  if (prepared.kind === 'module') {
    return { kind: 'module', module: prepared.module };
  }
  return {
    kind: 'component',
    entryPath: prepared.entryPath,
    coreModules: [...prepared.coreModules],
    imports: prepared.imports,
  };
}

/** Rebuilds the error a worker flattened. */
export function fromWorkerError(response: Extract<WorkerResponse, { ok: false }>): Error {
  const error: WorkerError = response.error;
  if (error.code !== undefined) {
    return new WasmRuntimeError(error.code, error.message, { details: error.details });
  }
  const rebuilt = new Error(error.message);
  rebuilt.name = error.name;
  if ('payload' in error) {
    Object.defineProperty(rebuilt, 'payload', { value: error.payload, enumerable: true });
  }
  return rebuilt;
}
