import type { Counter, Gauge, MetricsRegistry } from '@agentnode/metrics';
import { checkMetricsRegistry } from './core-metrics';
import { describeValue, ToolError } from './errors';
import { checkLogger, guardLogger, type Logger, stderrErrorLogger } from './logger';

/** Configuration of {@link TaskSupervisor}. */
export interface TaskSupervisorConfig {
  /** Logger for failed tasks. @default errors to stderr, the rest dropped */
  logger?: Logger;
  /** Registry for `agentnode_tasks_total` and `agentnode_tasks_running`; none records nothing. */
  metrics?: MetricsRegistry;
}

/** Outcome of a supervised task; `spawn` resolves with it and never rejects. */
export type TaskOutcome<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly error: unknown };

/** Per-task options of {@link TaskSupervisor.spawn}. */
export interface SpawnOptions {
  /** Facts logged with a failure, such as the ids the task works on. */
  context?: Record<string, unknown>;
}

interface TaskMetrics {
  readonly total: Counter<'task' | 'status'>;
  readonly running: Gauge<'task'>;
}

/**
 * Runs background tasks so that none fails unseen: each task's success or
 * failure is counted, a failure is logged with the task's name and context,
 * and the returned promise settles to a {@link TaskOutcome} instead of
 * rejecting, so a task that no caller awaits can never become an unhandled rejection.
 *
 * Note: `name` becomes a metric label; keep it to a fixed set of names.
 *
 * @example
 * import { TaskSupervisor } from '@agentnode/core';
 * const tasks = new TaskSupervisor({ logger: console });
 * tasks.spawn('refresh-cache', async () => { await Promise.resolve(); });
 * await tasks.drain();
 */
export class TaskSupervisor {
  readonly #logger: Logger;
  readonly #metrics: TaskMetrics | undefined;
  readonly #running = new Set<Promise<unknown>>();

  constructor(config: TaskSupervisorConfig = {}) {
    if (typeof config !== 'object' || config === null) {
      throw new ToolError(
        'INVALID_CONFIG',
        `Task supervisor config must be an object, got ${describeValue(config)}.`,
      );
    }

    if (config.logger !== undefined) {
      checkLogger(config.logger);
    }
    if (config.metrics !== undefined) {
      checkMetricsRegistry(config.metrics);
    }

    this.#logger = guardLogger(config.logger ?? stderrErrorLogger);
    this.#metrics = config.metrics && createTaskMetrics(config.metrics);
  }

  /** Number of tasks started and not yet settled. */
  get running(): number {
    return this.#running.size;
  }

  /**
   * Starts `task` now (a synchronous throw counts as a failure) and returns
   * its outcome.
   *
   * @throws {ToolError} `INVALID_OPTIONS`, synchronously, when `name` is not a
   *   non-empty string or `task` is not a function.
   */
  spawn<T>(
    name: string,
    task: () => T | PromiseLike<T>,
    options?: SpawnOptions,
  ): Promise<TaskOutcome<Awaited<T>>> {
    if (typeof name !== 'string' || name === '') {
      throw new ToolError(
        'INVALID_OPTIONS',
        `A task name must be a non-empty string, got ${describeValue(name)}.`,
      );
    }
    if (typeof task !== 'function') {
      throw new ToolError(
        'INVALID_OPTIONS',
        `Task "${name}" must be a function, got ${typeof task}.`,
      );
    }

    this.#metrics?.running.inc({ task: name });

    const outcome = this.#run(name, task, options);
    this.#running.add(outcome);
    void outcome.then(() => this.#running.delete(outcome));

    return outcome;
  }

  /** Resolves once every task running now, and every task they spawn, has settled. */
  async drain(): Promise<void> {
    while (this.#running.size > 0) {
      await Promise.all(this.#running);
    }
  }

  async #run<T>(
    name: string,
    task: () => T | PromiseLike<T>,
    options?: SpawnOptions,
  ): Promise<TaskOutcome<Awaited<T>>> {
    try {
      const value = await task();
      this.#finish(name, 'ok');

      return { ok: true, value };
    } catch (error) {
      this.#finish(name, 'error');
      this.#logger.error(`Background task "${name}" failed.`, {
        task: name,
        ...options?.context,
        error,
      });

      return { ok: false, error };
    }
  }

  #finish(name: string, status: 'ok' | 'error'): void {
    if (this.#metrics) {
      this.#metrics.running.dec({ task: name });
      this.#metrics.total.inc({ task: name, status });
    }
  }
}

function createTaskMetrics(metrics: MetricsRegistry): TaskMetrics {
  return {
    total: metrics.counter({
      name: 'agentnode_tasks_total',
      help: 'Supervised background tasks finished, by task name and status (ok, error).',
      labelNames: ['task', 'status'],
    }),
    running: metrics.gauge({
      name: 'agentnode_tasks_running',
      help: 'Supervised background tasks running now.',
      labelNames: ['task'],
    }),
  };
}
