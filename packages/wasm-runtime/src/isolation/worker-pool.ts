/**
 * A small pool of worker threads for calls that must be stoppable from outside: a
 * worker whose call passes its deadline (or whose caller aborts) is terminated and
 * replaced on demand.
 */

import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { WasmRuntimeError } from '../errors';
import type { WorkerRequest, WorkerResponse } from './protocol';

/** Settings of a {@link WorkerPool}. */
export interface WorkerPoolConfig {
  /** Workers alive at most; further calls wait for one. */
  readonly maxWorkers: number;
}

interface Task {
  readonly request: Omit<WorkerRequest, 'id'>;
  readonly deadline: number;
  readonly signal: AbortSignal | undefined;
  resolve(response: WorkerResponse): void;
  reject(error: unknown): void;
  /** While queued: fails the task at its deadline. */
  queueTimer?: NodeJS.Timeout;
  /** While queued: fails the task when its signal fires. */
  onQueuedAbort?: () => void;
}

interface PoolWorker {
  readonly worker: Worker;
  task: Task | undefined;
  timer: NodeJS.Timeout | undefined;
  onAbort: (() => void) | undefined;
}

/** Runs calls in worker threads, one call per worker at a time. */
export class WorkerPool {
  readonly #maxWorkers: number;
  readonly #workers = new Set<PoolWorker>();
  readonly #idle: PoolWorker[] = [];
  readonly #queue: Task[] = [];
  #nextId = 1;
  #closed = false;

  constructor(config: WorkerPoolConfig) {
    this.#maxWorkers = config.maxWorkers;
  }

  /** Number of live workers (for tests and metrics). */
  get size(): number {
    return this.#workers.size;
  }

  /** Runs one call; rejects with `TIMEOUT` at `deadline` (a `performance.now()` time). */
  run(
    request: Omit<WorkerRequest, 'id'>,
    deadline: number,
    signal: AbortSignal | undefined,
  ): Promise<WorkerResponse> {
    if (this.#closed) {
      return Promise.reject(
        new WasmRuntimeError('RUNTIME_CLOSED', 'The runtime is closed; create a new one.'),
      );
    }

    return new Promise<WorkerResponse>((resolve, reject) => {
      const task: Task = { request, deadline, signal, resolve, reject };
      this.#queue.push(task);
      this.#dispatch();
      if (this.#queue.includes(task)) {
        this.#watchQueued(task);
      }
    });
  }

  /** Terminates every worker; queued and running calls fail with `RUNTIME_CLOSED`. */
  async close(): Promise<void> {
    this.#closed = true;
    const closed = new WasmRuntimeError(
      'RUNTIME_CLOSED',
      'The runtime was closed while the call was waiting or running.',
    );
    for (const task of this.#queue.splice(0)) {
      this.#unwatchQueued(task);
      task.reject(closed);
    }
    const terminations: Promise<number>[] = [];
    for (const entry of this.#workers) {
      const task = entry.task;
      this.#finish(entry, task);
      task?.reject(closed);
      terminations.push(entry.worker.terminate());
    }
    this.#workers.clear();
    this.#idle.length = 0;
    await Promise.all(terminations);
  }

  #dispatch(): void {
    while (this.#queue.length > 0) {
      const entry =
        this.#idle.pop() ?? (this.#workers.size < this.#maxWorkers ? this.#spawn() : undefined);
      if (entry === undefined) {
        return;
      }
      const task = this.#queue.shift()!;
      this.#unwatchQueued(task);
      this.#start(entry, task);
    }
  }

  /** Fails a task that is still waiting for a worker at its deadline or abort. */
  #watchQueued(task: Task): void {
    const drop = (error: WasmRuntimeError) => {
      const index = this.#queue.indexOf(task);
      if (index >= 0) {
        this.#queue.splice(index, 1);
        this.#unwatchQueued(task);
        task.reject(error);
      }
    };
    task.queueTimer = setTimeout(
      () => drop(timedOut(task.request.exportName)),
      Math.max(0, task.deadline - performance.now()),
    );
    task.queueTimer.unref();
    if (task.signal !== undefined) {
      const signal = task.signal;
      task.onQueuedAbort = () => drop(aborted(signal));
      signal.addEventListener('abort', task.onQueuedAbort, { once: true });
    }
  }

  #unwatchQueued(task: Task): void {
    clearTimeout(task.queueTimer);
    if (task.onQueuedAbort !== undefined) {
      task.signal?.removeEventListener('abort', task.onQueuedAbort);
    }
    task.queueTimer = undefined;
    task.onQueuedAbort = undefined;
  }

  #start(entry: PoolWorker, task: Task): void {
    const remaining = task.deadline - performance.now();
    if (task.signal?.aborted || remaining <= 0) {
      this.#idle.push(entry);
      task.reject(task.signal?.aborted ? aborted(task.signal) : timedOut(task.request.exportName));
      return;
    }

    entry.task = task;
    entry.timer = setTimeout(() => this.#kill(entry, timedOut(task.request.exportName)), remaining);
    entry.timer.unref();
    if (task.signal !== undefined) {
      const signal = task.signal;
      entry.onAbort = () => this.#kill(entry, aborted(signal));
      signal.addEventListener('abort', entry.onAbort, { once: true });
    }
    // A busy worker keeps the process alive until its call settles; an idle one does not.
    entry.worker.ref();
    entry.worker.postMessage({ ...task.request, id: this.#nextId++ } satisfies WorkerRequest);
  }

  #spawn(): PoolWorker {
    const entryPoint = workerEntry();
    const worker =
      typeof entryPoint === 'string'
        ? new Worker(entryPoint, { eval: true })
        : new Worker(entryPoint);
    worker.unref();
    const entry: PoolWorker = { worker, task: undefined, timer: undefined, onAbort: undefined };
    this.#workers.add(entry);

    worker.on('message', (response: WorkerResponse) => {
      const task = entry.task;
      this.#finish(entry, task);
      this.#idle.push(entry);
      task?.resolve(response);
      this.#dispatch();
    });
    worker.on('error', (error) => {
      this.#kill(
        entry,
        new WasmRuntimeError('TRAP', `The isolation worker failed: ${error.message}`, {
          cause: error,
        }),
      );
    });
    worker.on('exit', () => {
      if (this.#workers.delete(entry)) {
        this.#removeIdle(entry);
        entry.task?.reject(
          new WasmRuntimeError('TRAP', 'The isolation worker exited during the call.'),
        );
        this.#finish(entry, entry.task);
        this.#dispatch();
      }
    });
    return entry;
  }

  #kill(entry: PoolWorker, error: WasmRuntimeError): void {
    const task = entry.task;
    this.#finish(entry, task);
    this.#workers.delete(entry);
    this.#removeIdle(entry);
    task?.reject(error);
    // Termination is asynchronous; its rejection has nowhere useful to go.
    entry.worker.terminate().catch(() => undefined);
    this.#dispatch();
  }

  #finish(entry: PoolWorker, task: Task | undefined): void {
    if (entry.timer !== undefined) {
      clearTimeout(entry.timer);
      entry.timer = undefined;
    }
    if (task?.signal !== undefined && entry.onAbort !== undefined) {
      task.signal.removeEventListener('abort', entry.onAbort);
    }
    entry.onAbort = undefined;
    entry.task = undefined;
    entry.worker.unref();
  }

  #removeIdle(entry: PoolWorker): void {
    const index = this.#idle.indexOf(entry);
    if (index >= 0) {
      this.#idle.splice(index, 1);
    }
  }
}

/**
 * Locates the worker script: the built `call-worker.js` beside the bundle, or, when
 * running from TypeScript sources (tests, tsx), a bootstrap that registers tsx in the
 * worker and then imports `call-worker.ts`.
 */
function workerEntry(): URL | string {
  const built = new URL('./call-worker.js', import.meta.url);
  if (existsSync(fileURLToPath(built))) {
    return built;
  }

  const source = new URL('./call-worker.ts', import.meta.url).href;
  // require.resolve picks the CommonJS build; its ES module twin sits beside it.
  const tsxApiPath = createRequire(import.meta.url)
    .resolve('tsx/esm/api')
    .replace(/\.cjs$/, '.mjs');
  const tsxApi = pathToFileURL(tsxApiPath).href;
  return `import(${JSON.stringify(tsxApi)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(source)}); });`;
}

function timedOut(exportName: string): WasmRuntimeError {
  return new WasmRuntimeError(
    'TIMEOUT',
    `The call to "${exportName}" passed its deadline; its worker was terminated. Raise timeoutMs if the work is legitimate.`,
    { details: { exportName } },
  );
}

function aborted(signal: AbortSignal): WasmRuntimeError {
  return new WasmRuntimeError(
    'ABORTED',
    'The call was aborted by its signal; its worker was terminated.',
    {
      cause: signal.reason,
    },
  );
}
