/** Receives listener failures, so that one bad listener never breaks the emitter. */
export type ListenerErrorHandler = (event: string, error: unknown) => void;

/**
 * A small typed event emitter: one payload type per event name, listeners called
 * synchronously in the order they were added, and listener errors caught and
 * handed to `onListenerError` instead of reaching the emitting code.
 */
export class TypedEvents<Events extends object> {
  readonly #listeners = new Map<keyof Events, Set<(payload: never) => void>>();
  readonly #onListenerError: ListenerErrorHandler;

  constructor(onListenerError: ListenerErrorHandler) {
    this.#onListenerError = onListenerError;
  }

  /** Adds `listener` for `event` and returns a function that removes it. */
  on<E extends keyof Events>(event: E, listener: (payload: Events[E]) => void): () => void {
    let listeners = this.#listeners.get(event);
    if (!listeners) {
      listeners = new Set();
      this.#listeners.set(event, listeners);
    }
    listeners.add(listener);

    return () => {
      listeners.delete(listener);
    };
  }

  /** Tells whether anyone listens to `event`, so payloads are built only when needed. */
  has(event: keyof Events): boolean {
    return (this.#listeners.get(event)?.size ?? 0) > 0;
  }

  emit<E extends keyof Events>(event: E, payload: Events[E]): void {
    const listeners = this.#listeners.get(event);
    if (!listeners) {
      return;
    }

    for (const listener of [...listeners]) {
      try {
        (listener as (payload: Events[E]) => void)(payload);
      } catch (error) {
        this.#onListenerError(String(event), error);
      }
    }
  }
}
