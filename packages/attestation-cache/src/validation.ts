import { describe } from './attestation-result';
import { AttestationError } from './errors';

// Shared checks for configuration objects. Each throws INVALID_CONFIG naming the
// option, the rule and the value.

export function invalidConfig(message: string): AttestationError {
  return new AttestationError('INVALID_CONFIG', `${message}.`);
}

export function requireObject<T>(value: T, option: string): T {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalidConfig(`${option} must be an object, got ${describe(value)}`);
  }

  return value;
}

export function positiveInteger(value: unknown, option: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
    throw invalidConfig(`${option} must be a positive integer, got ${describe(value)}`);
  }

  return value;
}

export function nonNegativeInteger(value: unknown, option: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw invalidConfig(`${option} must be a non-negative integer, got ${describe(value)}`);
  }

  return value;
}

export function fraction(value: unknown, option: string): number {
  if (typeof value !== 'number' || !(value > 0 && value < 1)) {
    throw invalidConfig(
      `${option} must be a number between 0 and 1 exclusive, got ${describe(value)}`,
    );
  }

  return value;
}

export function resolveBoolean(value: unknown, option: string): boolean {
  if (typeof value !== 'boolean') {
    throw invalidConfig(`${option} must be a boolean, got ${describe(value)}`);
  }

  return value;
}

export function resolveFunction<F extends (...args: never[]) => unknown>(
  value: unknown,
  option: string,
): F | undefined {
  if (value !== undefined && typeof value !== 'function') {
    throw invalidConfig(`${option} must be a function, got ${describe(value)}`);
  }

  return value as F | undefined;
}

/** Resolves the injectable clock, which returns milliseconds since the Unix epoch. */
export function resolveClock(value: unknown): () => number {
  return resolveFunction<() => number>(value, 'clock') ?? (() => Date.now());
}
