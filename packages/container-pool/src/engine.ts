import Docker from 'dockerode';

/**
 * One Docker engine a pool may place containers on.
 *
 * @example
 * import { createContainerPool } from '@agentnode/container-pool';
 *
 * const pool = createContainerPool({
 *   engines: [{ name: 'local' }, { name: 'remote', connection: { host: '10.0.0.7', port: 2376, protocol: 'https', ca, cert, key } }],
 * });
 */
export interface DockerEngineConfig {
  /** Name in logs and metric labels. @default 'local' for the first engine, else `engine-<n>` */
  readonly name?: string;
  /**
   * dockerode connection options: `socketPath` for a local socket, or `host`, `port`,
   * `protocol: 'https'` with `ca`, `cert` and `key` for a remote engine over TLS.
   * @default the local engine (`DOCKER_HOST`, else `/var/run/docker.sock`)
   */
  readonly connection?: Docker.DockerOptions;
  /** Containers this pool may run on the engine at once. @default Infinity */
  readonly maxContainers?: number;
}

const RETRY_MIN_MS = 1_000;
const RETRY_MAX_MS = 30_000;

/**
 * A Docker engine in the pool's rotation: its client, how many pool containers it holds, and
 * whether it is responding. An engine that fails a request is taken out of rotation and retried
 * after a back-off that doubles from 1 s up to 30 s.
 */
export class Engine {
  readonly name: string;
  readonly docker: Docker;
  readonly maxContainers: number;
  /** Containers placed here (starting, warm or busy). */
  load = 0;
  #retryAt = 0;
  #failures = 0;
  #lastError: Error | undefined;

  constructor(config: DockerEngineConfig, index: number) {
    this.name = config.name ?? (index === 0 ? 'local' : `engine-${index}`);
    this.docker = new Docker(config.connection);
    // The pool config validated every field before engines are made.
    this.maxContainers = config.maxContainers ?? Number.POSITIVE_INFINITY;
  }

  /** True while the engine is in rotation. */
  get up(): boolean {
    return this.#failures === 0;
  }

  /** True when the engine may take a container now: in rotation or due for a retry. */
  available(now: number): boolean {
    return (this.#failures === 0 || now >= this.#retryAt) && this.load < this.maxContainers;
  }

  /** The error that took the engine out of rotation, if it is out. */
  get lastError(): Error | undefined {
    return this.#lastError;
  }

  /** Takes the engine out of rotation; returns true when it was in rotation until now. */
  markDown(error: Error, now: number): boolean {
    const wasUp = this.#failures === 0;
    this.#failures += 1;
    this.#lastError = error;
    this.#retryAt = now + Math.min(RETRY_MIN_MS * 2 ** (this.#failures - 1), RETRY_MAX_MS);
    return wasUp;
  }

  /** Puts the engine back in rotation; returns true when it was out until now. */
  markUp(): boolean {
    const wasDown = this.#failures > 0;
    this.#failures = 0;
    this.#lastError = undefined;
    return wasDown;
  }
}

/**
 * Picks the available engine running the fewest pool containers, earlier engines first on
 * ties. `maxContainers` caps an engine; it does not weight it.
 */
export function leastLoaded(engines: readonly Engine[], now: number, exclude: ReadonlySet<Engine>) {
  let best: Engine | undefined;
  for (const engine of engines) {
    if (exclude.has(engine) || !engine.available(now)) continue;
    if (best === undefined || engine.load < best.load) {
      best = engine;
    }
  }
  return best;
}

/** Codes Node.js gives a server certificate that fails verification. */
const CERTIFICATE_ERRORS = new Set([
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'CERT_SIGNATURE_FAILURE',
  'CERT_NOT_YET_VALID',
  'CERT_HAS_EXPIRED',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
]);

/**
 * Tells whether `error` means the engine itself is not responding (no connection, reset,
 * timeout) rather than a response from it, such as 404 for a missing image.
 */
export function isEngineFailure(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  if ('statusCode' in error && typeof error.statusCode === 'number') return error.statusCode >= 502;

  const code = 'code' in error ? error.code : undefined;
  // A TLS handshake that fails (a missing client certificate, an untrusted server) leaves
  // no engine to talk to either.
  if (typeof code === 'string' && (/^ERR_(SSL|TLS)_/.test(code) || CERTIFICATE_ERRORS.has(code))) {
    return true;
  }
  return (
    code === 'ECONNREFUSED' ||
    code === 'ECONNRESET' ||
    code === 'ENOENT' ||
    code === 'EPIPE' ||
    code === 'ETIMEDOUT' ||
    code === 'EHOSTUNREACH' ||
    code === 'ENETUNREACH' ||
    code === 'EAI_AGAIN' ||
    code === 'ENGINE_TIMEOUT' ||
    code === 'ABORT_ERR'
  );
}

/**
 * Runs one engine request with a deadline: `request` gets an `AbortSignal` that fires at
 * `timeoutMs`, and the promise rejects with an `ENGINE_TIMEOUT` error then.
 */
export async function withEngineTimeout<T>(
  timeoutMs: number,
  request: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = Object.assign(
        new Error(`Docker engine did not respond within ${timeoutMs} ms.`),
        {
          code: 'ENGINE_TIMEOUT',
        },
      );
      controller.abort(error);
      reject(error);
    }, timeoutMs);
    timer.unref();
  });

  try {
    return await Promise.race([request(controller.signal), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
