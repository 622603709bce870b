import type { RunnerConnection, RunnerResult } from './runner-connection';
import type { ResolvedSpec } from './spec';
import { abortedError, timeoutError } from './spec-pool';

/** A call's request, validated and encoded. */
export interface PreparedCall {
  readonly code: Buffer;
  readonly input: Buffer;
  readonly maxOutputBytes: number;
  /** The call's time limit, for messages; `deadline` is what the pool enforces. */
  readonly timeoutMs: number;
  readonly deadline: number;
  readonly signal: AbortSignal | undefined;
  readonly started: number;
}

/**
 * Waits for `work`, but rejects with `TIMEOUT` at the call's deadline and with `ABORTED` when
 * its signal fires, so a caller is never held by a slow engine request. `work` goes on in the
 * background and must clean up after itself; its late failure is ignored here.
 */
export function withinCall<T>(
  work: Promise<T>,
  spec: ResolvedSpec,
  call: PreparedCall,
  phase: () => string,
): Promise<T> {
  if (call.signal?.aborted) {
    work.catch(() => {});
    return Promise.reject(abortedError(spec, phase()));
  }

  return new Promise((resolve, reject) => {
    const finish = (action: () => void) => {
      clearTimeout(timer);
      call.signal?.removeEventListener('abort', onAbort);
      action();
    };
    const onAbort = () => finish(() => reject(abortedError(spec, phase())));
    const timer = setTimeout(
      () => finish(() => reject(timeoutError(spec, call.timeoutMs, phase()))),
      Math.max(0, call.deadline - Date.now()),
    );
    // The timer stays referenced, so a script awaiting the call does not end (and close the
    // pool on beforeExit) while the call waits. It is cleared when the call settles.
    call.signal?.addEventListener('abort', onAbort, { once: true });

    work.then(
      (value) => finish(() => resolve(value)),
      (error: unknown) => finish(() => reject(error)),
    );
  });
}

/**
 * Sends one call over `connection` and waits for the result, the deadline or the abort,
 * whichever comes first. On a deadline or abort it calls `stop` (which kills the container)
 * and rejects with `TIMEOUT` or `ABORTED`.
 */
export function callWithDeadline(
  connection: RunnerConnection,
  spec: ResolvedSpec,
  call: PreparedCall,
  containerId: string,
  stop: (reason: 'timeout' | 'aborted') => void,
): Promise<RunnerResult> {
  if (call.signal?.aborted) {
    stop('aborted');
    return Promise.reject(abortedError(spec, 'running', containerId));
  }

  return new Promise((resolve, reject) => {
    let settled = false;
    const finish = (action: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      call.signal?.removeEventListener('abort', onAbort);
      action();
    };
    const onAbort = () =>
      finish(() => {
        stop('aborted');
        reject(abortedError(spec, 'running', containerId));
      });
    const timer = setTimeout(
      () =>
        finish(() => {
          stop('timeout');
          reject(timeoutError(spec, call.timeoutMs, 'running', containerId));
        }),
      Math.max(0, call.deadline - Date.now()),
    );
    call.signal?.addEventListener('abort', onAbort, { once: true });

    connection.call(call.code, call.input, call.maxOutputBytes).then(
      (result) => finish(() => resolve(result)),
      (error: unknown) => finish(() => reject(error)),
    );
  });
}
