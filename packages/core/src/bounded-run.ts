import type { AbortScope, StopFunction } from './abort-scope';

/** Limits of one {@link runBounded} run. */
export interface BoundedRunLimits {
  readonly timeoutMs: number;
  /** Aborting it stops the run with its reason. */
  readonly scope: AbortScope;
  /** Builds the rejection reason when the time is up; called only then, so no stack is captured otherwise. */
  readonly onTimeout: () => unknown;
  /** Told about a rejection that arrives after the run already ended. */
  readonly onLateRejection: (error: unknown) => void;
}

/**
 * Runs `task` and settles as soon as the task settles, the time is up, or
 * `scope` aborts, whichever is first. The task gets a function returning its
 * AbortSignal, which is created on first use and aborted on a timeout or
 * abort, so the work can stop. The promise rejects at once even if the task
 * ignores its signal; the task's own late rejection goes to
 * `onLateRejection`, never left unhandled. A synchronous throw becomes a
 * rejection.
 */
export function runBounded<T>(
  task: (signal: () => AbortSignal) => T,
  limits: BoundedRunLimits,
): Promise<Awaited<T>> {
  const { scope } = limits;
  if (scope.aborted) {
    return Promise.reject(scope.reason);
  }

  return new Promise<Awaited<T>>((resolve, reject) => {
    let controller: AbortController | undefined;
    let settled = false;
    let stopReason: unknown;
    let stopped = false;

    const signal = (): AbortSignal => {
      if (!controller) {
        controller = new AbortController();
        if (stopped) {
          controller.abort(stopReason);
        }
      }
      return controller.signal;
    };
    const finish = (): boolean => {
      if (settled) {
        return false;
      }
      settled = true;
      clearTimeout(timer);
      scope.delete(stop);

      return true;
    };
    const stop: StopFunction = (reason) => {
      if (finish()) {
        stopped = true;
        stopReason = reason;
        controller?.abort(reason);
        reject(reason);
      }
    };

    let timer: NodeJS.Timeout | undefined;
    scope.add(stop);

    let result: T;
    try {
      result = task(signal);
    } catch (error) {
      if (finish()) {
        reject(error);
      }
      return;
    }

    if (!isPromiseLike(result)) {
      if (finish()) {
        resolve(result as Awaited<T>);
      }
      return;
    }

    // Started only now: no time can pass while a synchronous task runs, so
    // a task that returns a plain value never pays for a timer. The timer
    // stays referenced because a caller awaits this run. An unreferenced one
    // would let the process exit with that await unsettled when the task
    // waits on nothing that keeps the event loop open. It is always cleared
    // when the run settles, so it never outlives the call.
    if (!settled) {
      timer = setTimeout(() => stop(limits.onTimeout()), limits.timeoutMs);
    }

    Promise.resolve(result).then(
      (value) => {
        if (finish()) {
          resolve(value as Awaited<T>);
        }
      },
      (error: unknown) => {
        if (finish()) {
          reject(error);
        } else {
          limits.onLateRejection(error);
        }
      },
    );
  });
}

/** Waits `delayMs`; rejects with the abort reason if `scope` aborts first. */
export function sleep(delayMs: number, scope: AbortScope): Promise<void> {
  if (scope.aborted) {
    return Promise.reject(scope.reason);
  }

  return new Promise<void>((resolve, reject) => {
    const stop: StopFunction = (reason) => {
      clearTimeout(timer);
      reject(reason);
    };
    // Referenced for the same reason as the timer in runBounded: the backoff
    // is the work a caller awaits.
    const timer = setTimeout(() => {
      scope.delete(stop);
      resolve();
    }, delayMs);
    scope.add(stop);
  });
}

/** Tells whether `value` has a callable `then`. */
export function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}
