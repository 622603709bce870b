import type { ResolvedCallOptions } from './config';
import { WasmRuntimeError } from './errors';

/** Races `work` against the call's deadline and abort signal. */
export function withDeadline<T>(
  work: Promise<T>,
  deadline: number,
  options: ResolvedCallOptions,
  exportName: string,
): Promise<T> {
  const remaining = deadline - performance.now();
  if (remaining <= 0) {
    work.catch(() => undefined);
    return Promise.reject(timedOut(exportName, options.timeoutMs, 0));
  }

  return new Promise<T>((resolve, reject) => {
    const signal = options.signal;
    const onAbort = () => settle(() => reject(aborted(exportName, signal!)));
    const timer = setTimeout(
      () => settle(() => reject(timedOut(exportName, options.timeoutMs, 0))),
      remaining,
    );
    timer.unref();
    signal?.addEventListener('abort', onAbort, { once: true });

    let settled = false;
    function settle(action: () => void): void {
      if (settled) {
        return;
      }
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      action();
    }
    work.then(
      (value) => settle(() => resolve(value)),
      (error: unknown) => settle(() => reject(error)),
    );
  });
}

/** Creates the `TIMEOUT` error of a call that passed its deadline. */
export function timedOut(
  exportName: string,
  timeoutMs: number,
  fuelUsed: number,
): WasmRuntimeError {
  return new WasmRuntimeError(
    'TIMEOUT',
    `The call to "${exportName}" exceeded its deadline of ${timeoutMs} ms; raise timeoutMs, or use isolation: 'worker' to stop guests that overrun.`,
    { details: { exportName, fuelUsed } },
  );
}

/** Creates the `ABORTED` error of a call whose signal fired. */
export function aborted(exportName: string, signal: AbortSignal): WasmRuntimeError {
  return new WasmRuntimeError('ABORTED', `The call to "${exportName}" was aborted by its signal.`, {
    cause: signal.reason,
    details: { exportName },
  });
}
