import { describe } from './attestation-result';
import { AttestationError } from './errors';

// Shared checks for configuration objects. Each throws INVALID_CONFIG naming the
// option, the rule and the value.

export function invalidConfig(message: string): AttestationError {
  return new AttestationError('INVALID_CONFIG', `${message}.`);
}

/**
 * Throws `INVALID_CONFIG` for the first own key of `value` that is not in `known`,
 * so that a misspelled option fails instead of being ignored. `owner` names the
 * options in the message ("attestation cache", "refresh", ...).
 */
export function rejectUnknownKeys(value: object, known: readonly string[], owner: string): void {
  for (const key of Object.keys(value)) {
    if (known.includes(key)) {
      continue;
    }

    const suggestion = closestName(key, known);
    const hint = suggestion === undefined ? '' : ` (did you mean "${suggestion}"?)`;
    throw invalidConfig(
      `Unknown ${owner} option ${JSON.stringify(key)}${hint}; known options are ${known.join(', ')}`,
    );
  }
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

/** Returns the known name within two edits of `name` (case ignored), or undefined. */
function closestName(name: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of known) {
    const distance = editDistance(name.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }

  return best;
}

/** Levenshtein distance: the fewest insertions, deletions and substitutions from `a` to `b`. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i += 1) {
    const current = [i];
    for (let j = 1; j <= b.length; j += 1) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution);
    }
    previous = current;
  }

  return previous[b.length] ?? 0;
}
