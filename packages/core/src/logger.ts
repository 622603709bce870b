import { describeValue, ToolError } from './errors';

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

const LOGGER_METHODS = ['debug', 'info', 'warn', 'error'] as const;

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
 * a failure that no caller awaited never goes unseen.
 */
export const stderrErrorLogger: Logger = Object.freeze({
  debug: ignore,
  info: ignore,
  warn: ignore,
  error: (message: string, context?: Record<string, unknown>) => {
    console.error(`[agentnode] ${message}`, context ?? '');
  },
});

/**
 * Wraps `logger` so that a throwing logger cannot fail the call or task
 * being reported on. Such an error is dropped, because there is nowhere
 * left to report it.
 */
export function guardLogger(logger: Logger): Logger {
  const guard =
    (write: Logger['error']) =>
    (message: string, context?: Record<string, unknown>): void => {
      try {
        write.call(logger, message, context);
      } catch {
        // Dropped on purpose; see above.
      }
    };

  return Object.freeze({
    debug: guard(logger.debug),
    info: guard(logger.info),
    warn: guard(logger.warn),
    error: guard(logger.error),
  });
}

/**
 * Checks that `logger` has the four logging methods, so a wrong value fails
 * at construction instead of silently losing the errors it should report.
 *
 * @throws {ToolError} `INVALID_CONFIG` naming the option and the missing method.
 */
export function checkLogger(logger: unknown): void {
  if (typeof logger !== 'object' || logger === null) {
    throw new ToolError(
      'INVALID_CONFIG',
      `Option "logger" must be an object with debug, info, warn and error methods (console fits), got ${describeValue(logger)}.`,
    );
  }

  const missing = LOGGER_METHODS.find(
    (method) => typeof (logger as Record<string, unknown>)[method] !== 'function',
  );
  if (missing !== undefined) {
    throw new ToolError(
      'INVALID_CONFIG',
      `Option "logger" must be an object with debug, info, warn and error methods (console fits), got an object without "${missing}".`,
    );
  }
}
