/** Stops one piece of running work with a reason; registered so `close()` can reach it. */
export type StopFunction = (reason: unknown) => void;

/** Limits of one {@link runBounded} run. */
export interface BoundedRunLimits {
  readonly timeoutMs: number;
  /** Aborting it stops the run with its reason. */
  readonly parent: AbortSignal | undefined;
  /** Builds the rejection reason when the time is up; called only then, so no stack is captured otherwise. */
  readonly onTimeout: () => unknown;
  /** Set the run registers its stop function in while it runs. */
  readonly active: Set<StopFunction>;
  /** Told about a rejection that arrives after the run already ended. */
  readonly onLateRejection: (error: unknown) => void;
}

/**
 * Runs `task` with its own AbortSignal and settles as soon as the task
 * settles, the time is up, or `parent` aborts, whichever is first. On a
 * timeout or abort the task's signal is aborted so the work can stop, and
 * the promise rejects at once even if the task ignores its signal; the
 * task's own late rejection is handed to `onLateRejection`, never left
 * unhandled. A synchronous throw becomes a rejection.
 */
export function runBounded<T>(
  task: (signal: AbortSignal) => T,
  limits: BoundedRunLimits,
): Promise<Awaited<T>> {
  const { parent, active } = limits;
  if (parent?.aborted) {
    return Promise.reject(parent.reason);
  }

  return new Promise<Awaited<T>>((resolve, reject) => {
    const controller = new AbortController();
    let settled = false;

    const finish = (): boolean => {
      if (settled) {
        return false;
      }
      settled = true;
      clearTimeout(timer);
      parent?.removeEventListener('abort', onParentAbort);
      active.delete(stop);

      return true;
    };
    const stop: StopFunction = (reason) => {
      if (finish()) {
        controller.abort(reason);
        reject(reason);
      }
    };
    const onParentAbort = () => stop(parent!.reason);

    const timer = setTimeout(() => stop(limits.onTimeout()), limits.timeoutMs);
    timer.unref();
    parent?.addEventListener('abort', onParentAbort);
    active.add(stop);

    let result: T;
    try {
      result = task(controller.signal);
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

/**
 * Waits `delayMs`; rejects with the abort reason if `parent` aborts or the
 * stop function registered in `active` is called first.
 */
export function sleep(
  delayMs: number,
  parent: AbortSignal | undefined,
  active: Set<StopFunction>,
): Promise<void> {
  if (parent?.aborted) {
    return Promise.reject(parent.reason);
  }

  return new Promise<void>((resolve, reject) => {
    const finish = () => {
      clearTimeout(timer);
      parent?.removeEventListener('abort', onParentAbort);
      active.delete(stop);
    };
    const stop: StopFunction = (reason) => {
      finish();
      reject(reason);
    };
    const onParentAbort = () => stop(parent!.reason);

    const timer = setTimeout(() => {
      finish();
      resolve();
    }, delayMs);
    timer.unref();
    parent?.addEventListener('abort', onParentAbort);
    active.add(stop);
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
