import { callWithDeadline, type PreparedCall } from './call';
import { launchContainer } from './container-launcher';
import { type Engine, leastLoaded, withEngineTimeout } from './engine';
import { ContainerPoolError, isContainerPoolError } from './errors';
import type { PoolRuntime } from './pool-runtime';
import type { RunnerResult } from './runner-connection';
import type { ResolvedSpec } from './spec';
import { closedError, describeEngines, firstEngineError, short } from './spec-pool';

/** A one-shot result and where it ran. */
export interface OneShotResult extends RunnerResult {
  readonly containerId: string;
  readonly engine: string;
}

/**
 * Runs one call in a fresh container that is removed afterwards: create (with Docker's
 * auto-remove when `autoRemove`), attach, wait, start, call, close stdin, wait for removal.
 *
 * The wait request goes out before the start, as `docker run --rm` does, so a container that
 * exits and is auto-removed at once cannot turn the wait into "no such container".
 */
export async function runOneShot(
  runtime: PoolRuntime,
  spec: ResolvedSpec,
  call: PreparedCall,
  autoRemove: boolean,
  onRunning: () => void = () => {},
): Promise<OneShotResult> {
  const tried = new Set<Engine>();
  let lastError: unknown;
  for (;;) {
    if (runtime.closed) throw closedError(spec);

    const engine = leastLoaded(runtime.engines, Date.now(), tried);
    if (engine === undefined) {
      throw (
        lastError ??
        new ContainerPoolError(
          'ENGINE_UNAVAILABLE',
          `No Docker engine is available for a one-shot call on spec "${spec.name}": ${describeEngines(runtime.engines)}.`,
          { cause: firstEngineError(runtime.engines), details: { spec: spec.name } },
        )
      );
    }
    tried.add(engine);

    try {
      return await runOn(runtime, engine, spec, call, autoRemove, onRunning);
    } catch (error) {
      lastError = error;
      if (!isContainerPoolError(error, 'ENGINE_UNAVAILABLE')) throw error;
      runtime.engineFailed(engine, error);
    }
  }
}

async function runOn(
  runtime: PoolRuntime,
  engine: Engine,
  spec: ResolvedSpec,
  call: PreparedCall,
  autoRemove: boolean,
  onRunning: () => void,
): Promise<OneShotResult> {
  const { settings } = runtime;
  let id: string | undefined;
  let exited: Promise<unknown> | undefined;
  engine.load += 1;
  try {
    const launched = await runtime.trackLaunch(
      launchContainer(engine, spec, runtime.labelsFor(spec, 'one-shot'), settings, {
        autoRemove,
        ready: false,
        onCreated: (createdId) => {
          id = createdId;
          runtime.track(createdId, engine);
          exited = engine.docker
            .getContainer(createdId)
            .wait({ condition: autoRemove ? 'removed' : 'next-exit' });
          exited.catch(() => {});
        },
      }),
    );
    if (runtime.closed) throw closedError(spec);

    onRunning();
    let killed = false;
    const result = await callWithDeadline(launched.connection, spec, call, launched.id, () => {
      killed = true;
      void runtime.remove(launched.id, engine);
    });

    // End of input ends the runner; its container then exits (and auto-removes itself).
    launched.connection.endInput();
    if (!killed)
      await withEngineTimeout(settings.engineTimeoutMs, () => exited ?? Promise.resolve());
    runtime.engineResponded(engine);
    if (autoRemove) runtime.forget(launched.id);
    else await runtime.remove(launched.id, engine);
    return { ...result, containerId: launched.id, engine: engine.name };
  } catch (error) {
    if (id !== undefined) {
      runtime.logger.debug(
        `container-pool: one-shot container ${short(id)} of "${spec.name}" failed: ${(error as Error).message}`,
      );
      void runtime.remove(id, engine);
    }
    throw error;
  } finally {
    engine.load -= 1;
  }
}
