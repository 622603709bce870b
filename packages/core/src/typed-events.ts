import { isPromiseLike } from './bounded-run';
import { describeValue, ToolError } from './errors';
import type { Logger } from './logger';

/** A map from event name to the payload its listeners receive. */
export type EventMap<Events> = { [E in keyof Events]: object };

/** A listener of one event. */
export type EventListener<Payload> = (payload: Payload) => void;

/**
 * A minimal typed emitter. A listener that throws, or an async listener
 * that rejects, is caught and reported through `onListenerError`, so it can
 * neither break the emitter's caller nor skip the listeners after it.
 */
export class TypedEvents<Events extends EventMap<Events>> {
  readonly #listeners = new Map<keyof Events, Set<EventListener<never>>>();
  readonly #names: ReadonlySet<keyof Events>;
  readonly #onListenerError: (event: keyof Events, error: unknown) => void;

  /**
   * @param names every event name; `on` rejects others, so a misspelt name fails instead of never firing
   */
  constructor(
    names: readonly (keyof Events)[],
    onListenerError: (event: keyof Events, error: unknown) => void,
  ) {
    this.#names = new Set(names);
    this.#onListenerError = onListenerError;
  }

  /** Adds a listener; returns a function that removes it. */
  on<E extends keyof Events>(event: E, listener: EventListener<Events[E]>): () => void {
    if (!this.#names.has(event)) {
      throw new ToolError(
        'INVALID_OPTIONS',
        `Unknown event ${describeValue(event)}; known events are ${[...this.#names].map(String).join(', ')}.`,
      );
    }
    if (typeof listener !== 'function') {
      throw new ToolError(
        'INVALID_OPTIONS',
        `A listener of "${String(event)}" must be a function, got ${typeof listener}.`,
      );
    }

    let set = this.#listeners.get(event);
    if (!set) {
      set = new Set();
      this.#listeners.set(event, set);
    }
    set.add(listener as EventListener<never>);

    return () => this.off(event, listener);
  }

  /** Removes a listener added with {@link on}. */
  off<E extends keyof Events>(event: E, listener: EventListener<Events[E]>): void {
    this.#listeners.get(event)?.delete(listener as EventListener<never>);
  }

  /** Tells whether `event` has listeners, so callers can skip building a payload. */
  has(event: keyof Events): boolean {
    return (this.#listeners.get(event)?.size ?? 0) > 0;
  }

  /** Calls every listener of `event` in the order they were added. */
  emit<E extends keyof Events>(event: E, payload: Events[E]): void {
    const set = this.#listeners.get(event);
    if (!set) {
      return;
    }

    for (const listener of set) {
      try {
        const returned: unknown = (listener as EventListener<Events[E]>)(payload);
        // An async listener rejects instead of throwing; left alone, that
        // rejection would be unhandled.
        if (isPromiseLike(returned)) {
          Promise.resolve(returned).catch((error: unknown) => this.#report(event, error));
        }
      } catch (error) {
        this.#report(event, error);
      }
    }
  }

  #report(event: keyof Events, error: unknown): void {
    try {
      this.#onListenerError(event, error);
    } catch {
      // The logger itself threw. Nothing is left to report to, and the
      // emitter's caller must not fail because of a listener.
    }
  }
}

/** Builds the `onListenerError` handler that logs through `logger`. */
export function logListenerError(logger: Logger, onError?: (event: string) => void) {
  return (event: PropertyKey, error: unknown): void => {
    onError?.(String(event));
    logger.error(`A "${String(event)}" listener threw; the error was caught.`, {
      event: String(event),
      error,
    });
  };
}
