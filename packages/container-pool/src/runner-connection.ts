import type { Duplex } from 'node:stream';
import {
  encodeCall,
  encodePing,
  ProtocolViolation,
  ResponseParser,
  type RunnerResponse,
  StreamDemultiplexer,
} from './protocol';

/** Result a runner returned for one call. */
export interface RunnerResult {
  readonly exitCode: number;
  readonly stdout: Buffer;
  readonly stderr: Buffer;
  readonly stdoutTruncated: boolean;
  readonly stderrTruncated: boolean;
}

/** Raised when the attach stream closes or breaks the protocol; the container is unusable. */
export class RunnerGone extends Error {
  override readonly name = 'RunnerGone';
}

interface PendingRequest {
  readonly id: number;
  readonly resolve: (response: RunnerResponse) => void;
  readonly reject: (error: Error) => void;
}

const STDERR_TAIL_BYTES = 2048;

/**
 * One runner behind a hijacked `attach` stream: writes requests to the container's stdin and
 * parses responses out of its demultiplexed stdout. Requests go one at a time.
 *
 * The stream keeps the host's event loop alive only while a request is in flight, so a pool
 * of idle containers does not stop the process from exiting.
 */
export class RunnerConnection {
  readonly #socket: Duplex;
  readonly #parser: ResponseParser;
  readonly #demux: StreamDemultiplexer;
  #nextId = 1;
  #pending: PendingRequest | undefined;
  #failure: RunnerGone | undefined;
  #stderrTail = '';
  #onGone: ((error: RunnerGone) => void) | undefined;

  /** `socket` is the hijacked attach stream of a container without a TTY, so it is multiplexed. */
  constructor(socket: Duplex, maxSectionBytes: number) {
    this.#socket = socket;
    this.#parser = new ResponseParser(maxSectionBytes);
    this.#demux = new StreamDemultiplexer(
      (chunk) => this.#onStdout(chunk),
      (chunk) => this.#onStderr(chunk),
    );
    socket.on('data', (chunk: Buffer) => {
      try {
        this.#demux.push(chunk);
      } catch (error) {
        this.#fail(new RunnerGone((error as Error).message, { cause: error }));
      }
    });
    socket.on('error', (error) =>
      this.#fail(new RunnerGone(`Attach stream failed: ${error.message}`, { cause: error })),
    );
    socket.on('end', () => this.#fail(new RunnerGone('Runner closed its stdout.')));
    socket.on('close', () => this.#fail(new RunnerGone('Attach stream closed.')));
    this.#keepAlive(false);
  }

  /** The reason the connection is unusable, or undefined while it works. */
  get failure(): RunnerGone | undefined {
    return this.#failure;
  }

  /** The last bytes the runner wrote to its own stderr, for error messages. */
  get stderrTail(): string {
    return this.#stderrTail;
  }

  /** Registers the one listener called when the connection dies. */
  onGone(listener: (error: RunnerGone) => void): void {
    this.#onGone = listener;
  }

  /** Sends `ping` and resolves on the matching `pong`. */
  async ping(): Promise<void> {
    const id = this.#nextId++;
    const response = await this.#request(id, encodePing(id));
    if (response.kind !== 'pong')
      throw this.#violation(`expected pong ${id}, got ${response.kind}`);
  }

  /**
   * Sends one `call` and resolves with the runner's result, with stdout and stderr cut at
   * `maxOutputBytes` here as well, since a `stream` response may carry one byte more.
   */
  async call(code: Buffer, input: Buffer, maxOutputBytes: number): Promise<RunnerResult> {
    const id = this.#nextId++;
    const response = await this.#request(id, encodeCall(id, code, input, maxOutputBytes));
    if (response.kind === 'error') {
      throw this.#violation(`runner reported an internal error: ${response.message}`);
    }
    if (response.kind !== 'result')
      throw this.#violation(`expected result ${id}, got ${response.kind}`);
    return {
      exitCode: response.exitCode,
      stdout: response.stdout.subarray(0, maxOutputBytes),
      stderr: response.stderr.subarray(0, maxOutputBytes),
      stdoutTruncated: response.stdoutTruncated || response.stdout.length > maxOutputBytes,
      stderrTruncated: response.stderrTruncated || response.stderr.length > maxOutputBytes,
    };
  }

  /** Closes the container's stdin, which ends a runner that reads until end of input. */
  endInput(): void {
    this.#socket.end();
  }

  /** Drops the stream; a pending request fails with `reason`. */
  destroy(reason = 'Connection closed by the pool.'): void {
    this.#fail(new RunnerGone(reason));
    this.#socket.destroy();
  }

  #request(id: number, frame: Buffer): Promise<RunnerResponse> {
    if (this.#failure) return Promise.reject(this.#failure);
    if (this.#pending) return Promise.reject(new Error('A runner request is already in flight.'));

    return new Promise((resolve, reject) => {
      this.#pending = { id, resolve, reject };
      this.#keepAlive(true);
      this.#socket.write(frame);
    });
  }

  /** Refs or unrefs the underlying socket; a stream without `ref` (a test double) is left as is. */
  #keepAlive(keep: boolean): void {
    const socket = this.#socket as Duplex & { ref?: () => void; unref?: () => void };
    if (keep) socket.ref?.();
    else socket.unref?.();
  }

  #onStdout(chunk: Buffer): void {
    let responses: RunnerResponse[];
    try {
      responses = this.#parser.push(chunk);
    } catch (error) {
      const message = error instanceof ProtocolViolation ? error.message : String(error);
      this.#fail(new RunnerGone(message, { cause: error }));
      return;
    }

    for (const response of responses) {
      const pending = this.#pending;
      if (pending === undefined || response.id !== pending.id) {
        this.#fail(this.#violation(`unexpected ${response.kind} ${response.id}`));
        return;
      }
      this.#pending = undefined;
      this.#keepAlive(false);
      pending.resolve(response);
    }
  }

  #onStderr(chunk: Buffer): void {
    this.#stderrTail = (this.#stderrTail + chunk.toString('utf8')).slice(-STDERR_TAIL_BYTES);
  }

  #violation(detail: string): RunnerGone {
    return new RunnerGone(`Runner broke the protocol: ${detail}.`);
  }

  #fail(error: RunnerGone): void {
    if (this.#failure) return;

    const tail = this.#stderrTail.trim();
    this.#failure = tail
      ? new RunnerGone(`${error.message} Runner stderr: ${tail}`, { cause: error.cause })
      : error;
    const pending = this.#pending;
    this.#pending = undefined;
    this.#keepAlive(false);
    pending?.reject(this.#failure);
    this.#onGone?.(this.#failure);
  }
}
