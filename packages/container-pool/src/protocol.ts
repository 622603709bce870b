/**
 * The framed stdio protocol between the host and the runner inside a container
 * (`agentnode-runner/1`). Every frame is a header line of space-separated ASCII fields ending
 * in `\n`, followed by raw body sections whose byte lengths the header gives. The host sends
 * one request and waits for its response before sending the next one.
 *
 * Requests (host to runner, on the container's stdin):
 *   `ping <id>\n`
 *   `call <id> <codeBytes> <inputBytes> <maxOutputBytes>\n<code><input>`
 * Responses (runner to host, on the container's stdout):
 *   `pong <id>\n`
 *   `result <id> <exitCode> <stdoutBytes> <stderrBytes> <stdoutTruncated> <stderrTruncated>\n<stdout><stderr>`
 *   `error <id> <messageBytes>\n<message>`
 */

/** Maximum length of a header line from a runner; a longer one means the stream is not framed. */
export const MAX_HEADER_BYTES = 1024;

/** A response frame sent by a runner. */
export type RunnerResponse =
  | { readonly kind: 'pong'; readonly id: number }
  | {
      readonly kind: 'result';
      readonly id: number;
      readonly exitCode: number;
      readonly stdout: Buffer;
      readonly stderr: Buffer;
      readonly stdoutTruncated: boolean;
      readonly stderrTruncated: boolean;
    }
  | { readonly kind: 'error'; readonly id: number; readonly message: string };

/** Encodes a `ping` request. */
export function encodePing(id: number): Buffer {
  return Buffer.from(`ping ${id}\n`, 'ascii');
}

/** Encodes a `call` request as one buffer, so it reaches the runner in a single write. */
export function encodeCall(
  id: number,
  code: Buffer,
  input: Buffer,
  maxOutputBytes: number,
): Buffer {
  const header = Buffer.from(
    `call ${id} ${code.length} ${input.length} ${maxOutputBytes}\n`,
    'ascii',
  );
  return Buffer.concat([header, code, input]);
}

/** Thrown by {@link ResponseParser} when the runner's stdout is not a valid frame stream. */
export class ProtocolViolation extends Error {
  override readonly name = 'ProtocolViolation';
}

/**
 * Parses response frames out of the runner's stdout, however the bytes are chunked.
 * Section lengths are checked against `maxSectionBytes` before any body is buffered.
 */
export class ResponseParser {
  readonly #maxSectionBytes: number;
  #chunks: Buffer[] = [];
  #buffered = 0;
  #pending: { header: string[]; bodyBytes: number } | undefined;

  constructor(maxSectionBytes: number) {
    this.#maxSectionBytes = maxSectionBytes;
  }

  /** Adds bytes and returns every response they complete. */
  push(chunk: Buffer): RunnerResponse[] {
    this.#chunks.push(chunk);
    this.#buffered += chunk.length;
    const responses: RunnerResponse[] = [];

    for (;;) {
      if (this.#pending === undefined) {
        const line = this.#takeLine();
        if (line === undefined) break;
        this.#pending = this.#parseHeader(line);
      }

      if (this.#buffered < this.#pending.bodyBytes) break;

      const body = this.#take(this.#pending.bodyBytes);
      responses.push(toResponse(this.#pending.header, body));
      this.#pending = undefined;
    }
    return responses;
  }

  #takeLine(): string | undefined {
    let offset = 0;
    for (const chunk of this.#chunks) {
      const index = chunk.indexOf(0x0a);
      if (index !== -1) {
        const line = this.#take(offset + index + 1);
        return line.toString('latin1', 0, line.length - 1);
      }
      offset += chunk.length;
      if (offset > MAX_HEADER_BYTES) break;
    }

    if (this.#buffered > MAX_HEADER_BYTES) {
      const start = this.#take(Math.min(this.#buffered, 80)).toString('latin1');
      throw new ProtocolViolation(
        `Runner sent ${MAX_HEADER_BYTES}+ bytes without a frame header; it begins ${JSON.stringify(start)}.`,
      );
    }
    return undefined;
  }

  #parseHeader(line: string): { header: string[]; bodyBytes: number } {
    const header = line.split(' ');
    const [kind] = header;
    const expectedFields = { pong: 2, result: 7, error: 3 }[kind ?? ''];
    if (expectedFields === undefined || header.length !== expectedFields) {
      throw new ProtocolViolation(`Runner sent an invalid frame header: ${JSON.stringify(line)}.`);
    }

    const numbers = header.slice(1).map((field) => (/^-?\d+$/.test(field) ? Number(field) : NaN));
    if (numbers.some((value) => !Number.isSafeInteger(value))) {
      throw new ProtocolViolation(
        `Runner sent a non-integer header field: ${JSON.stringify(line)}.`,
      );
    }

    const sections =
      kind === 'result' ? numbers.slice(2, 4) : kind === 'error' ? numbers.slice(1, 2) : [];
    for (const length of sections) {
      if (length < 0 || length > this.#maxSectionBytes) {
        throw new ProtocolViolation(
          `Runner announced a ${length}-byte section; the limit is ${this.#maxSectionBytes} bytes.`,
        );
      }
    }
    return { header, bodyBytes: sections.reduce((sum, length) => sum + length, 0) };
  }

  #take(bytes: number): Buffer {
    const whole = this.#chunks.length === 1 ? this.#chunks[0]! : Buffer.concat(this.#chunks);
    const taken = whole.subarray(0, bytes);
    const rest = whole.subarray(bytes);
    this.#chunks = rest.length > 0 ? [rest] : [];
    this.#buffered = rest.length;
    return taken;
  }
}

function toResponse(header: string[], body: Buffer): RunnerResponse {
  const kind = header[0];
  const id = Number(header[1]);

  if (kind === 'pong') return { kind, id };

  if (kind === 'error') return { kind, id, message: body.toString('utf8') };

  const stdoutBytes = Number(header[3]);
  return {
    kind: 'result',
    id,
    exitCode: Number(header[2]),
    stdout: body.subarray(0, stdoutBytes),
    stderr: body.subarray(stdoutBytes),
    stdoutTruncated: header[5] === '1',
    stderrTruncated: header[6] === '1',
  };
}

/**
 * Splits Docker's multiplexed attach stream (used when the container has no TTY) into
 * stdout and stderr. Each frame is an 8-byte header (stream type, three zero bytes, a
 * big-endian 32-bit length) followed by that many bytes.
 */
export class StreamDemultiplexer {
  readonly #onStdout: (chunk: Buffer) => void;
  readonly #onStderr: (chunk: Buffer) => void;
  #header = Buffer.alloc(8);
  #headerFilled = 0;
  #remaining = 0;
  #stream = 0;

  constructor(onStdout: (chunk: Buffer) => void, onStderr: (chunk: Buffer) => void) {
    this.#onStdout = onStdout;
    this.#onStderr = onStderr;
  }

  /** Feeds a chunk read from the hijacked attach socket. */
  push(chunk: Buffer): void {
    let offset = 0;
    while (offset < chunk.length) {
      if (this.#remaining === 0) {
        const copied = chunk.copy(
          this.#header,
          this.#headerFilled,
          offset,
          offset + 8 - this.#headerFilled,
        );
        this.#headerFilled += copied;
        offset += copied;
        if (this.#headerFilled < 8) return;

        this.#stream = this.#header[0]!;
        this.#remaining = this.#header.readUInt32BE(4);
        this.#headerFilled = 0;
        if (this.#stream !== 1 && this.#stream !== 2) {
          throw new ProtocolViolation(
            `Docker attach stream has an unknown stream type ${this.#stream}.`,
          );
        }
        continue;
      }

      const end = Math.min(chunk.length, offset + this.#remaining);
      const payload = chunk.subarray(offset, end);
      this.#remaining -= payload.length;
      offset = end;
      if (this.#stream === 1) this.#onStdout(payload);
      else this.#onStderr(payload);
    }
  }
}
