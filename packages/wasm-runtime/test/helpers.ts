import { isWasmRuntimeError, type WasmRuntimeError } from '../src/index';

/** Awaits a promise expected to reject with a WasmRuntimeError and returns that error. */
export async function failure(promise: Promise<unknown>): Promise<WasmRuntimeError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!isWasmRuntimeError(error)) {
    throw new Error(`expected a WasmRuntimeError, got ${String(error)}`);
  }
  return error;
}
