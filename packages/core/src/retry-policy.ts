import { describeValue, ToolError } from './errors';
import { MAX_TIMER_MS } from './timer-limits';

/**
 * Policy for trying a failed call again. Only errors marked retryable are retried
 * (a `ToolError` with `retryable: true`, or any thrown object with a
 * `retryable: true` property); an abort, invalid parameters, missing config
 * or a rejected attestation never is.
 *
 * The delay before attempt `n + 1` is `min(maxDelayMs, initialDelayMs * multiplier^(n - 1))`,
 * then randomized by `jitter`.
 */
export interface RetryPolicy {
  /**
   * Attempts in total, the first one included; 1 turns retries off.
   * @default 1
   */
  maxAttempts?: number;
  /** @default 100 */
  initialDelayMs?: number;
  /** @default 10_000 */
  maxDelayMs?: number;
  /** @default 2 */
  multiplier?: number;
  /**
   * `full` waits a random time in `[0, delay]`, `equal` in `[delay / 2, delay]`,
   * `none` exactly `delay`. Jitter keeps many clients from retrying in step.
   * @default 'full'
   */
  jitter?: 'full' | 'equal' | 'none';
  /**
   * Whether an attempt that ran past its `timeoutMs` is retried.
   * @default false
   */
  retryOnTimeout?: boolean;
}

/** A {@link RetryPolicy} with every default applied. */
export type ResolvedRetryPolicy = Readonly<Required<RetryPolicy>>;

/** Most attempts a policy may ask for. */
export const MAX_RETRY_ATTEMPTS = 100;

/** The policy used when neither the call, the tool nor the coordinator sets one. */
export const NO_RETRY: ResolvedRetryPolicy = Object.freeze({
  maxAttempts: 1,
  initialDelayMs: 100,
  maxDelayMs: 10_000,
  multiplier: 2,
  jitter: 'full',
  retryOnTimeout: false,
});

const POLICY_KEYS = new Set(Object.keys(NO_RETRY));
const JITTER_MODES = new Set(['full', 'equal', 'none']);

/**
 * Validates `policy` and fills its gaps from `base`.
 *
 * @throws {ToolError} with `errorCode` when a field breaks its rule.
 */
export function resolveRetryPolicy(
  policy: RetryPolicy | undefined,
  base: ResolvedRetryPolicy,
  owner: string,
  errorCode: 'INVALID_DEFINITION' | 'INVALID_CONFIG' | 'INVALID_OPTIONS',
): ResolvedRetryPolicy {
  if (policy === undefined) {
    return base;
  }

  const fail = (rule: string) => new ToolError(errorCode, `${owner}: "retry" ${rule}.`);
  if (typeof policy !== 'object' || policy === null || Array.isArray(policy)) {
    throw fail(`must be an object, got ${describeValue(policy)}`);
  }

  for (const [name, value] of Object.entries(policy)) {
    if (!POLICY_KEYS.has(name)) {
      throw fail(`has unknown field "${name}"; known fields are ${[...POLICY_KEYS].join(', ')}`);
    }
    // null is a value, not a request for the default. Leaving the field out gets the default.
    if (value === null) {
      throw fail(`${name} must not be null; leave it out to use the default`);
    }
  }

  const resolved = {
    maxAttempts: policy.maxAttempts ?? base.maxAttempts,
    initialDelayMs: policy.initialDelayMs ?? base.initialDelayMs,
    maxDelayMs: policy.maxDelayMs ?? base.maxDelayMs,
    multiplier: policy.multiplier ?? base.multiplier,
    jitter: policy.jitter ?? base.jitter,
    retryOnTimeout: policy.retryOnTimeout ?? base.retryOnTimeout,
  };

  const { maxAttempts, initialDelayMs, maxDelayMs, multiplier } = resolved;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1 || maxAttempts > MAX_RETRY_ATTEMPTS) {
    throw fail(
      `maxAttempts must be an integer from 1 to ${MAX_RETRY_ATTEMPTS}, got ${describeValue(maxAttempts)}`,
    );
  }
  if (!isDelay(initialDelayMs)) {
    throw fail(
      `initialDelayMs must be a number from 0 to ${MAX_TIMER_MS}, got ${describeValue(initialDelayMs)}`,
    );
  }
  if (!isDelay(maxDelayMs) || maxDelayMs < initialDelayMs) {
    throw fail(
      `maxDelayMs must be a number from initialDelayMs (${describeValue(initialDelayMs)}) to ${MAX_TIMER_MS}, got ${describeValue(maxDelayMs)}`,
    );
  }
  if (!Number.isFinite(multiplier) || multiplier < 1) {
    throw fail(`multiplier must be a finite number >= 1, got ${describeValue(multiplier)}`);
  }
  if (!JITTER_MODES.has(resolved.jitter)) {
    throw fail(`jitter must be "full", "equal" or "none", got ${describeValue(resolved.jitter)}`);
  }
  if (typeof resolved.retryOnTimeout !== 'boolean') {
    throw fail(`retryOnTimeout must be a boolean, got ${describeValue(resolved.retryOnTimeout)}`);
  }

  return Object.freeze(resolved);
}

/**
 * Checks the fields `policy` sets before any tool's policy is merged in, so that a bad
 * batch-level policy rejects the batch up front. The rule `maxDelayMs >= initialDelayMs`
 * is checked only where the policy sets both, because a tool's policy may supply one.
 *
 * @throws {ToolError} `INVALID_OPTIONS` when a field breaks its rule.
 */
export function checkRetryFields(policy: unknown, owner: string): void {
  if (policy === undefined) {
    return;
  }
  if (typeof policy !== 'object' || policy === null || Array.isArray(policy)) {
    throw new ToolError(
      'INVALID_OPTIONS',
      `${owner}: "retry" must be an object, got ${describeValue(policy)}.`,
    );
  }
  // On this base, a field the policy leaves unset cannot break a rule between fields.
  resolveRetryPolicy(policy as RetryPolicy, PERMISSIVE_BASE, owner, 'INVALID_OPTIONS');
}

const PERMISSIVE_BASE: ResolvedRetryPolicy = Object.freeze({
  ...NO_RETRY,
  initialDelayMs: 0,
  maxDelayMs: MAX_TIMER_MS,
});

/**
 * Computes the delay before the next attempt, after `attempt` attempts (1-based) failed.
 *
 * @param random a number in `[0, 1)`; tests pass a fixed one.
 * @example
 * import { computeRetryDelayMs, NO_RETRY } from '@agentnode/core';
 * computeRetryDelayMs({ ...NO_RETRY, maxAttempts: 5, jitter: 'none' }, 3); // 400
 */
export function computeRetryDelayMs(
  policy: ResolvedRetryPolicy,
  attempt: number,
  random: number = Math.random(),
): number {
  const delay = Math.min(
    policy.maxDelayMs,
    policy.initialDelayMs * policy.multiplier ** (attempt - 1),
  );

  switch (policy.jitter) {
    case 'full':
      return delay * random;
    case 'equal':
      return delay / 2 + (delay / 2) * random;
    default:
      return delay;
  }
}

function isDelay(value: number): boolean {
  return typeof value === 'number' && value >= 0 && value <= MAX_TIMER_MS;
}
