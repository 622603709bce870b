/**
 * Entry point of an isolation worker: runs one call at a time for the runtime on the
 * main thread, which terminates the worker when the call's deadline passes.
 */

import { parentPort } from 'node:worker_threads';
import { isWasmRuntimeError } from '../errors';
import { importBindings } from '../instance/component-instance';
import { loadHostModule } from '../instance/host-module';
import { callMetered } from '../instance/metered-call';
import { createInstance, type PreparedModule } from '../instance/prepared-module';
import type { MeteredInstance } from '../instance/types';
import type { WorkerError, WorkerModule, WorkerRequest, WorkerResponse } from './protocol';

/** Idle instances by instance key, for calls that allow reuse. */
const idle = new Map<string, MeteredInstance[]>();
const MAX_IDLE_PER_KEY = 4;
const MAX_KEYS = 32;

parentPort?.on('message', (request: WorkerRequest) => {
  run(request).then(
    (response) => parentPort?.postMessage(response),
    (error: unknown) =>
      parentPort?.postMessage({ id: request.id, ok: false, error: flatten(error), fuelUsed: 0 }),
  );
});

async function run(request: WorkerRequest): Promise<WorkerResponse> {
  const key = request.instanceKey;
  const instance =
    (key === undefined ? undefined : idle.get(key)?.pop()) ?? (await instantiate(request));
  const outcome = callMetered(
    instance,
    request.exportName,
    request.args,
    request.returns,
    request.fuelLimit,
  );
  if (key !== undefined && instance.reusable && (outcome.ok || outcome.reusable)) {
    release(key, instance);
  }

  if (outcome.ok) {
    return { id: request.id, ok: true, value: outcome.value, fuelUsed: outcome.fuelUsed };
  }
  return { id: request.id, ok: false, error: flatten(outcome.error), fuelUsed: outcome.fuelUsed };
}

async function instantiate(request: WorkerRequest): Promise<MeteredInstance> {
  const prepared = await toPrepared(request.module);
  const hostImports =
    request.hostModule === undefined ? {} : await loadHostModule(request.hostModule);
  // NOTE: the worker has no logger, so a component's stdout and stderr are discarded here.
  return createInstance(prepared, hostImports, request.wasi);
}

function release(key: string, instance: MeteredInstance): void {
  let instances = idle.get(key);
  if (instances === undefined) {
    if (idle.size >= MAX_KEYS) {
      // Drop the least recently added module's instances.
      idle.delete(idle.keys().next().value!);
    }
    instances = [];
    idle.set(key, instances);
  }
  if (instances.length < MAX_IDLE_PER_KEY) {
    instances.push(instance);
  }
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
