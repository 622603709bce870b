/**
 * Runs one export under a fuel budget and turns whatever it throws into a
 * {@link WasmRuntimeError}.
 */

import { WasmRuntimeError } from '../errors';
import type { MeteredInstance, ReturnKind } from './types';

/** The value an export returned and the fuel it used. */
export interface MeteredSuccess {
  readonly ok: true;
  readonly value: unknown;
  readonly fuelUsed: number;
}

/** A mapped failure, and whether the instance may still be reused. */
export interface MeteredFailure {
  readonly ok: false;
  readonly error: unknown;
  readonly reusable: boolean;
  readonly fuelUsed: number;
}

/**
 * Calls `exportName` with `fuelLimit` units of fuel and returns a failure instead of
 * throwing. With `refuel` false the call draws on the fuel left in the global, so
 * several calls share one budget.
 */
export function callMetered(
  instance: MeteredInstance,
  exportName: string,
  args: readonly unknown[],
  returns: ReturnKind,
  fuelLimit: number,
  refuel = true,
): MeteredSuccess | MeteredFailure {
  if (refuel) {
    instance.fuel.refuel(fuelLimit);
  }

  let value: unknown;
  try {
    value = instance.invoke(exportName, args, returns);
  } catch (error) {
    return mapFailure(error, instance, exportName, fuelLimit);
  }

  const fuelUsed = instance.fuel.used(fuelLimit);
  // Only function entries and loop headers check the counter, so the straight-line code
  // after the last check can overdraw it and still return. Such a call went over its
  // budget all the same; the instance finished normally and stays usable.
  if (fuelUsed >= fuelLimit && instance.fuel.exhausted()) {
    return {
      ok: false,
      error: outOfFuel(exportName, fuelLimit, fuelUsed, undefined),
      reusable: true,
      fuelUsed,
    };
  }
  return { ok: true, value, fuelUsed };
}

/**
 * Maps what a guest call threw to a typed error. Running out of fuel is recognized by a
 * negative fuel counter: a trap with fuel left is the guest's own. A counter can go
 * negative between two checks, and a guest trap there is reported as `OUT_OF_FUEL`
 * too, since the call had gone over its budget before it trapped.
 */
export function mapFailure(
  error: unknown,
  instance: MeteredInstance,
  exportName: string,
  fuelLimit: number,
): MeteredFailure {
  const exhausted = instance.fuel.exhausted();
  const fuelUsed = instance.fuel.used(fuelLimit);
  const details = { exportName, fuelUsed };

  if (exhausted) {
    return {
      ok: false,
      error: outOfFuel(exportName, fuelLimit, fuelUsed, error),
      reusable: false,
      fuelUsed,
    };
  }

  if (error instanceof WasmRuntimeError) {
    // Argument and export-lookup errors happen before the guest runs.
    const reusable = error.code === 'INVALID_ARGUMENT' || error.code === 'LINK_ERROR';
    return { ok: false, error, reusable, fuelUsed };
  }

  if (isComponentError(error)) {
    // The err case of a WIT `result`, which jco's bindings throw, is a value the guest returned.
    return { ok: false, error, reusable: true, fuelUsed };
  }

  if (error instanceof TypeError && fuelUsed === 0) {
    // jco validates argument types before entering the guest, which would have charged fuel.
    const mapped = new WasmRuntimeError(
      'INVALID_ARGUMENT',
      `Invalid arguments for "${exportName}": ${error.message}`,
      { cause: error, details },
    );
    return { ok: false, error: mapped, reusable: true, fuelUsed };
  }

  const mapped = new WasmRuntimeError(
    'TRAP',
    `The call to "${exportName}" trapped: ${trapMessage(error)}`,
    {
      cause: error,
      details,
    },
  );
  return { ok: false, error: mapped, reusable: false, fuelUsed };
}

/** Creates the `OUT_OF_FUEL` error for a call that went over `fuelLimit`. */
export function outOfFuel(
  exportName: string,
  fuelLimit: number,
  fuelUsed: number,
  cause: unknown,
): WasmRuntimeError {
  return new WasmRuntimeError(
    'OUT_OF_FUEL',
    `The call to "${exportName}" ran out of fuel: it used its whole budget of ${fuelLimit} units; raise fuelLimit or fix the guest's loop.`,
    { cause, details: { exportName, fuelUsed } },
  );
}

function trapMessage(error: unknown): string {
  if (error instanceof RangeError && /call stack/i.test(error.message)) {
    return 'call stack exhausted';
  }
  if (error instanceof WebAssembly.RuntimeError) {
    return error.message.replace(/^wasm trap: /, '');
  }
  if (error instanceof Error) {
    return `a host import threw ${error.name}: ${error.message}`;
  }
  return `a host import threw ${String(error)}`;
}

function isComponentError(error: unknown): boolean {
  return (
    error instanceof Error && error.constructor.name === 'ComponentError' && 'payload' in error
  );
}
