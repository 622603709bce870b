import { ContainerPoolError, invalidConfig } from './errors';

/**
 * Checks that `value` is a plain object that contains no key outside `known`, so a misspelt
 * option (`cpu` for `cpus`) fails instead of being ignored. Returns `value` for reading.
 */
export function checkKeys<T = Readonly<Record<string, unknown>>>(
  option: string,
  value: unknown,
  known: Readonly<Record<string, true>>,
  hintFor: (key: string) => string | undefined = () => undefined,
): T {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalidConfig(option, value, `pass an object with ${listKeys(known)}`, 'object');
  }

  for (const key of Object.keys(value)) {
    if (Object.hasOwn(known, key)) continue;

    const suggestion = closestKey(key, Object.keys(known));
    const hint =
      hintFor(key) ??
      (suggestion === undefined ? undefined : `did you mean ${JSON.stringify(suggestion)}?`);
    throw new ContainerPoolError(
      'INVALID_CONFIG',
      `Invalid ${option}: unknown option ${JSON.stringify(key)}${
        hint === undefined ? '' : ` (${hint})`
      }; known options are ${listKeys(known)}.`,
    );
  }
  return value as T;
}

/** Checks that `value` is a whole number of at least `minimum`. */
export function wholeNumber(option: string, value: unknown, minimum: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < minimum) {
    throw invalidConfig(option, value, `use a whole number of at least ${minimum}`, 'number');
  }
  return value;
}

/** Checks that `value` is `true` or `false`. */
export function booleanOption(option: string, value: unknown): boolean {
  if (typeof value !== 'boolean')
    throw invalidConfig(option, value, 'use true or false', 'boolean');
  return value;
}

/** Checks that `value` is a string that is not blank. */
export function nonEmptyString(option: string, value: unknown, rule: string): string {
  if (typeof value !== 'string' || value.trim() === '') {
    throw invalidConfig(option, value, rule, 'string');
  }
  return value;
}

/**
 * Checks that `value` has the methods of `names`, as a logger (`debug`, `info`, `warn`,
 * `error`) or a metrics registry must.
 */
export function withMethods<T>(option: string, value: unknown, names: readonly string[]): T {
  const missing =
    typeof value === 'object' && value !== null
      ? names.filter((name) => typeof (value as Record<string, unknown>)[name] !== 'function')
      : names;
  if (missing.length > 0) {
    throw invalidConfig(
      option,
      value,
      `pass an object with the methods ${names.join(', ')} (missing: ${missing.join(', ')})`,
      'object',
    );
  }
  return value as T;
}

function listKeys(known: Readonly<Record<string, true>>): string {
  return Object.keys(known).join(', ');
}

/** The known key within two edits of `key`, ignoring case, if exactly one is closest. */
function closestKey(key: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of known) {
    const distance = editDistance(key.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

/** Levenshtein distance between two short strings. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i += 1) {
    const current = [i];
    for (let j = 1; j <= b.length; j += 1) {
      const substitution = previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min(previous[j]! + 1, current[j - 1]! + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length]!;
}
