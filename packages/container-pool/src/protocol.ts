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
 *   `stream <id> <token>\n<stdout><token><stderr><token><exitCode>\n`
 *   `error <id> <messageBytes>\n<message>`
 *
 * A runner that cannot count its output before sending it (the `sh` runner, which would need
 * extra processes to do so) sends `stream` instead of `result`. Each section ends where the
 * token first appears. The token is 16 to 64 ASCII letters and digits the runner chose at random and kept
 * from the code, so the code's output cannot contain it by chance. A `stream` section may hold
 * one byte more than `maxOutputBytes`; the host cuts it and marks it as truncated.
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

/** The response being parsed: the body of a length-framed response, or a `stream` response. */
type PendingResponse =
  | { readonly kind: 'framed'; readonly header: string[]; readonly bodyBytes: number }
  | {
      readonly kind: 'stream';
      readonly id: number;
      readonly token: Buffer;
      readonly sections: Buffer[];
      /** Offset up to which the buffered bytes hold no token. */
      scanned: number;
    };

const STREAM_TOKEN = /^[A-Za-z0-9]{16,64}$/;

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
  #pending: PendingResponse | undefined;

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

      const response =
        this.#pending.kind === 'framed'
          ? this.#takeFramed(this.#pending)
          : this.#takeStream(this.#pending);
      if (response === undefined) break;
      responses.push(response);
      this.#pending = undefined;
    }
    return responses;
  }

  #takeFramed(pending: { header: string[]; bodyBytes: number }): RunnerResponse | undefined {
    if (this.#buffered < pending.bodyBytes) return undefined;
    return toResponse(pending.header, this.#take(pending.bodyBytes));
  }

  #takeStream(pending: PendingResponse & { kind: 'stream' }): RunnerResponse | undefined {
    while (pending.sections.length < 2) {
      const section = this.#takeSection(pending);
      if (section === undefined) return undefined;
      pending.sections.push(section);
    }

    const line = this.#takeLine();
    if (line === undefined) return undefined;
    if (!/^-?\d+$/.test(line) || !Number.isSafeInteger(Number(line))) {
      throw new ProtocolViolation(
        `Runner ended stream ${pending.id} with an invalid exit code: ${JSON.stringify(line)}.`,
      );
    }
    const [stdout, stderr] = pending.sections as [Buffer, Buffer];
    return {
      kind: 'result',
      id: pending.id,
      exitCode: Number(line),
      stdout,
      stderr,
      stdoutTruncated: false,
      stderrTruncated: false,
    };
  }

  /** Takes the bytes up to the next token, and the token; undefined until the token arrives. */
  #takeSection(pending: PendingResponse & { kind: 'stream' }): Buffer | undefined {
    const { token } = pending;
    const whole = this.#collapse();
    const index = whole.indexOf(token, pending.scanned);
    const limit = this.#maxSectionBytes + 1;

    if (index === -1 || index > limit) {
      if (this.#buffered > limit + token.length) {
        throw new ProtocolViolation(
          `Runner sent a stream section over ${limit} bytes; the limit is ${this.#maxSectionBytes} bytes and one more.`,
        );
      }
      pending.scanned = Math.max(0, this.#buffered - token.length + 1);
      return undefined;
    }

    // Copy the section out, so that a small output does not keep a large chunk alive.
    const section = Buffer.from(this.#take(index));
    this.#take(token.length);
    pending.scanned = 0;
    return section;
  }

  /** Joins the buffered chunks into one buffer and returns it. */
  #collapse(): Buffer {
    if (this.#chunks.length > 1) this.#chunks = [Buffer.concat(this.#chunks)];
    return this.#chunks[0] ?? Buffer.alloc(0);
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

  #parseHeader(line: string): PendingResponse {
    const header = line.split(' ');
    const [kind] = header;
    const expectedFields = { pong: 2, result: 7, error: 3, stream: 3 }[kind ?? ''];
    if (expectedFields === undefined || header.length !== expectedFields) {
      throw new ProtocolViolation(`Runner sent an invalid frame header: ${JSON.stringify(line)}.`);
    }

    if (kind === 'stream') return parseStreamHeader(line, header);

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
    return {
      kind: 'framed',
      header,
      bodyBytes: sections.reduce((sum, length) => sum + length, 0),
    };
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

function parseStreamHeader(line: string, header: string[]): PendingResponse {
  const [, id = '', token = ''] = header;
  if (!/^\d+$/.test(id) || !Number.isSafeInteger(Number(id)) || !STREAM_TOKEN.test(token)) {
    throw new ProtocolViolation(
      `Runner sent an invalid stream header (an integer id and a token of 16 to 64 letters and digits): ${JSON.stringify(line)}.`,
    );
  }
  return {
    kind: 'stream',
    id: Number(id),
    token: Buffer.from(token, 'ascii'),
    sections: [],
    scanned: 0,
  };
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
