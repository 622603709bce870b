import { createMetricsRegistry, type MetricsRegistry } from '@agentnode/metrics';
import { afterEach, beforeEach, expect } from 'vitest';
import {
  silentLogger,
  type ToolCallFailure,
  type ToolCallResult,
  type ToolCallSuccess,
  ToolCoordinator,
  type ToolCoordinatorConfig,
  type ToolDefinition,
  type ToolError,
  type ToolExecutor,
} from '../src/index';

/** Runs a `function` tool's handler, like the facade's executor does. */
export const functionExecutor: ToolExecutor = {
  kind: 'function',
  validateTool(tool) {
    if (typeof tool.handler !== 'function') {
      throw new TypeError('"handler" must be a function');
    }
  },
  run: (call) => call.tool.handler!(call.params, call),
};

/** Resolves after `ms`, or rejects with the signal's reason when it aborts first. */
export function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** A coordinator with the function executor, a private metrics registry and a silent logger. */
export function createCoordinator(
  tools: ToolDefinition[] = [],
  config: ToolCoordinatorConfig = {},
): { coordinator: ToolCoordinator; metrics: MetricsRegistry } {
  const metrics = config.metrics ?? createMetricsRegistry({ collectSystem: false });
  const coordinator = new ToolCoordinator({
    executors: [functionExecutor],
    logger: silentLogger,
    metrics,
    ...config,
  });
  for (const tool of tools) {
    coordinator.registry.register(tool);
  }

  return { coordinator, metrics };
}

/**
 * Reads one sample of a metric family, or undefined. For a histogram pass
 * `sampleName`, for example `<family>_count`.
 */
export async function sampleOf(
  metrics: MetricsRegistry,
  family: string,
  labels: Record<string, string>,
  sampleName: string = family,
): Promise<number | undefined> {
  const found = (await metrics.collect()).find((candidate) => candidate.name === family);
  const match = found?.values.find(
    (value) =>
      ((value as { metricName?: string }).metricName ?? family) === sampleName &&
      Object.entries(labels).every(([label, expected]) => String(value.labels[label]) === expected),
  );

  return match?.value;
}

/**
 * Collects every unhandled rejection raised while a test runs; the test
 * fails in `afterEach` if there was one.
 */
export function failOnUnhandledRejections(): unknown[] {
  const seen: unknown[] = [];
  const listener = (reason: unknown) => {
    seen.push(reason);
  };

  beforeEach(() => {
    seen.length = 0;
    process.on('unhandledRejection', listener);
  });
  afterEach(async () => {
    // Unhandled rejections are reported after the microtask queue drains.
    await new Promise((resolve) => setImmediate(resolve));
    process.off('unhandledRejection', listener);
    expect(seen).toEqual([]);
  });

  return seen;
}

/** Asserts that `result` failed and returns its error. */
export function failureError(result: ToolCallResult | undefined): ToolError {
  expect(result?.ok).toBe(false);

  return (result as ToolCallFailure).error;
}

/** Asserts that `result` succeeded and returns its value. */
export function successValue(result: ToolCallResult | undefined): unknown {
  if (result?.ok === false) {
    expect.fail(`expected success, got ${result.error.code}: ${result.error.message}`);
  }
  expect(result?.ok).toBe(true);

  return (result as ToolCallSuccess).value;
}
