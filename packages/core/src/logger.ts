/**
 * The logger core writes through; `console` fits. Core logs only what it
 * catches and does not rethrow: failed background tasks, throwing event
 * listeners, execution-log write failures.
 */
export interface Logger {
  debug(message: string, context?: Record<string, unknown>): void;
  info(message: string, context?: Record<string, unknown>): void;
  warn(message: string, context?: Record<string, unknown>): void;
  error(message: string, context?: Record<string, unknown>): void;
}

function ignore(): void {}

/** A logger that drops everything. */
export const silentLogger: Logger = Object.freeze({
  debug: ignore,
  info: ignore,
  warn: ignore,
  error: ignore,
});

/**
 * The default: drops debug, info and warn, and writes errors to stderr, so
 * a failure nobody awaited never goes unseen.
 */
export const stderrErrorLogger: Logger = Object.freeze({
  debug: ignore,
  info: ignore,
  warn: ignore,
  error: (message: string, context?: Record<string, unknown>) => {
    console.error(`[agentnode] ${message}`, context ?? '');
  },
});
