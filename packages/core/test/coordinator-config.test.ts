import { createMetricsRegistry } from '@agentnode/metrics';
import { describe, expect, it } from 'vitest';
import { TaskSupervisor, ToolCoordinator, ToolError } from '../src/index';

/** Runs `construct` and returns what it threw, or undefined. */
function thrownBy(construct: () => unknown): unknown {
  try {
    construct();
  } catch (error) {
    return error;
  }

  return undefined;
}

describe('ToolCoordinator config checks', () => {
  it.each([
    ['an empty object', {}, 'without "counter"'],
    ['an object without gauge', { counter() {}, histogram() {} }, 'without "gauge"'],
    ['a number', 5, 'got 5'],
    ['null', null, 'got null'],
  ])('rejects metrics given as %s', (_case, metrics, detail) => {
    const error = thrownBy(() => new ToolCoordinator({ metrics: metrics as never }));

    expect(error).toBeInstanceOf(ToolError);
    expect((error as ToolError).code).toBe('INVALID_CONFIG');
    expect((error as ToolError).message).toContain('Option "metrics"');
    expect((error as ToolError).message).toContain(detail);
  });

  it.each([
    ['a number', 5, 'got 5'],
    ['null', null, 'got null'],
    ['an object without debug', { info() {}, warn() {}, error() {} }, 'without "debug"'],
    ['a function', () => {}, 'got a function'],
  ])('rejects a logger given as %s', (_case, logger, detail) => {
    const error = thrownBy(() => new ToolCoordinator({ logger: logger as never }));

    expect(error).toBeInstanceOf(ToolError);
    expect((error as ToolError).code).toBe('INVALID_CONFIG');
    expect((error as ToolError).message).toContain('Option "logger"');
    expect((error as ToolError).message).toContain(detail);
  });

  it.each([
    ['registry', 5],
    ['configStore', {}],
    ['tasks', 'tasks'],
    ['executors', 5],
    ['executors', null],
  ])('rejects an invalid %s', (name, value) => {
    const error = thrownBy(() => new ToolCoordinator({ [name]: value }));

    expect(error).toBeInstanceOf(ToolError);
    expect((error as ToolError).code).toBe('INVALID_CONFIG');
    expect((error as ToolError).message).toContain(`Option "${name}"`);
  });

  it('accepts console as the logger and a metrics registry', () => {
    const coordinator = new ToolCoordinator({
      logger: console,
      metrics: createMetricsRegistry({ collectSystem: false }),
    });

    expect(coordinator.registry).toBeDefined();
  });
});

describe('TaskSupervisor config checks', () => {
  it('rejects metrics without the registry functions', () => {
    const error = thrownBy(() => new TaskSupervisor({ metrics: {} as never }));

    expect((error as ToolError).code).toBe('INVALID_CONFIG');
    expect((error as ToolError).message).toContain('Option "metrics"');
  });

  it('rejects a logger without the four methods', () => {
    const error = thrownBy(() => new TaskSupervisor({ logger: 5 as never }));

    expect((error as ToolError).code).toBe('INVALID_CONFIG');
    expect((error as ToolError).message).toContain('Option "logger"');
  });
});
