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
    timer.unref();
    call.signal?.addEventListener('abort', onAbort, { once: true });

    connection.call(call.code, call.input, call.maxOutputBytes).then(
      (result) => finish(() => resolve(result)),
      (error: unknown) => finish(() => reject(error)),
    );
  });
}
