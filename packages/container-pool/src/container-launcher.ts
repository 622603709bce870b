import type { Duplex } from 'node:stream';
import type Docker from 'dockerode';
import { type Engine, isEngineFailure, withEngineTimeout } from './engine';
import { ContainerPoolError } from './errors';
import { RunnerConnection } from './runner-connection';
import { createOptions, type ResolvedSpec } from './spec';

/** Settings the launcher needs from the pool. */
export interface LaunchSettings {
  readonly engineTimeoutMs: number;
  readonly readyTimeoutMs: number;
  /** Largest stdout or stderr section a runner may send. */
  readonly maxSectionBytes: number;
}

/** A started container with its runner connection. */
export interface LaunchedContainer {
  readonly id: string;
  readonly engine: Engine;
  readonly container: Docker.Container;
  readonly connection: RunnerConnection;
}

/**
 * Creates, attaches and starts a container for `spec` on `engine`. The attach happens before
 * the start so no output is lost. With `ready`, it waits for the runner to reply to a ping.
 * `onCreated` receives the id as soon as the engine assigns one, so the pool can remove the
 * container even if a later step fails or the pool closes meanwhile.
 *
 * Errors: `ENGINE_UNAVAILABLE` when the engine does not respond, `CONTAINER_START_FAILED`
 * when it refuses, `CONTAINER_UNHEALTHY` when the runner does not reply to the ping.
 */
export async function launchContainer(
  engine: Engine,
  spec: ResolvedSpec,
  labels: Readonly<Record<string, string>>,
  settings: LaunchSettings,
  options: { autoRemove: boolean; ready: boolean; onCreated: (id: string) => void },
): Promise<LaunchedContainer> {
  const timeout = settings.engineTimeoutMs;
  let container: Docker.Container;
  try {
    container = await withEngineTimeout(timeout, (abortSignal) =>
      engine.docker.createContainer({
        ...createOptions(spec, labels, { autoRemove: options.autoRemove }),
        abortSignal,
      } as Docker.ContainerCreateOptions),
    );
  } catch (error) {
    throw engineError(engine, spec, 'create', error);
  }
  options.onCreated(container.id);

  let connection: RunnerConnection;
  try {
    const socket = (await withEngineTimeout(timeout, (abortSignal) =>
      container.attach({
        stream: true,
        stdin: true,
        stdout: true,
        stderr: true,
        hijack: true,
        abortSignal,
      }),
    )) as unknown as Duplex;
    connection = new RunnerConnection(socket, settings.maxSectionBytes);
    await withEngineTimeout(timeout, (abortSignal) => container.start({ abortSignal }));
  } catch (error) {
    throw engineError(engine, spec, 'start', error, container.id);
  }

  if (options.ready)
    await waitUntilReady(connection, settings.readyTimeoutMs, spec, engine, container.id);
  return { id: container.id, engine, container, connection };
}

async function waitUntilReady(
  connection: RunnerConnection,
  timeoutMs: number,
  spec: ResolvedSpec,
  engine: Engine,
  containerId: string,
): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`the runner did not reply to a ping within ${timeoutMs} ms`)),
      timeoutMs,
    );
    timer.unref();
  });

  try {
    await Promise.race([connection.ping(), timeout]);
  } catch (error) {
    connection.destroy();
    throw new ContainerPoolError(
      'CONTAINER_UNHEALTHY',
      `Container for spec "${spec.name}" failed its readiness probe: ${withoutPeriod((error as Error).message)}.`,
      { cause: error, details: { spec: spec.name, engine: engine.name, containerId } },
    );
  } finally {
    clearTimeout(timer);
  }
}

function engineError(
  engine: Engine,
  spec: ResolvedSpec,
  step: 'create' | 'start',
  error: unknown,
  containerId?: string,
): ContainerPoolError {
  const details = { spec: spec.name, engine: engine.name, ...(containerId && { containerId }) };
  const reason = withoutPeriod(dockerReason(error));
  if (isEngineFailure(error)) {
    return new ContainerPoolError(
      'ENGINE_UNAVAILABLE',
      `Docker engine "${engine.name}" did not respond to the ${step} request: ${reason}.`,
      { cause: error, details },
    );
  }
  return new ContainerPoolError(
    'CONTAINER_START_FAILED',
    `Docker engine "${engine.name}" rejected the ${step} request for a container of spec "${spec.name}" (image "${spec.image}"): ${reason}.${startFailureHint(spec, reason)}`,
    { cause: error, details },
  );
}

/** Returns what to do about the Docker errors a spec most often causes, or ''. */
function startFailureHint(spec: ResolvedSpec, reason: string): string {
  if (/no such image|pull access denied|repository does not exist/i.test(reason)) {
    return ` The pool never pulls images: run "docker pull ${spec.image}" on this engine, or build the image from host binaries with buildLocalImage.`;
  }
  if (/network .*not found/i.test(reason)) {
    return ` The spec's network ${JSON.stringify(spec.network)} does not exist on this engine: create it with "docker network create ${spec.network}", or set network to "none" or "bridge".`;
  }
  return '';
}

/**
 * Returns Docker's own message for a failed request. docker-modem's message adds a status
 * text picked by the request path, so a 404 for a missing network reads "no such container".
 * The JSON body Docker sent is used instead when there is one.
 */
function dockerReason(error: unknown): string {
  const { statusCode, json } = error as { statusCode?: number; json?: { message?: unknown } };
  if (statusCode !== undefined && typeof json?.message === 'string') {
    return `HTTP ${statusCode}: ${json.message.trim()}`;
  }
  return ((error as Error).message ?? String(error)).trim();
}

/** Drops one final period, so a wrapped message does not end in "..". */
export function withoutPeriod(message: string): string {
  return message.endsWith('.') && !message.endsWith('..') ? message.slice(0, -1) : message;
}

/**
 * Force-removes a container, treating "no such container" (already removed, for example by
 * auto-remove) and "removal already in progress" as success.
 */
export async function removeContainer(
  engine: Engine,
  id: string,
  timeoutMs: number,
): Promise<void> {
  try {
    await withEngineTimeout(timeoutMs, (abortSignal) =>
      engine.docker.getContainer(id).remove({ force: true, abortSignal }),
    );
  } catch (error) {
    const status = (error as { statusCode?: number }).statusCode;
    if (status === 404 || status === 409) return;
    throw error;
  }
}
