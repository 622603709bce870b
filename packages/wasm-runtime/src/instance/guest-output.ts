/**
 * Contains what the WASI preview 2 shim would otherwise let a component do to the host
 * process: its stdout and stderr go to a sink instead of the process's own streams,
 * and `wasi:cli/exit` traps instead of ending the process.
 */

import { WasmRuntimeError } from '../errors';

/** Receives one line a component wrote to its stdout or stderr, without the newline. */
export type GuestOutput = (stream: 'stdout' | 'stderr', line: string) => void;

/** Maximum length of a partial line kept until its newline; longer ones are passed on in pieces. */
const MAX_PENDING_CHARS = 64 * 1024;
/** Bytes a guest may write at once, as `check-write` reports it. */
const WRITE_CAPACITY = 1024n * 1024n;

type OutputStreamClass = new () => object;

interface MonotonicClock {
  subscribeDuration(nanoseconds: bigint): unknown;
}

/**
 * Returns the shim's import object with stdout and stderr sent to `output` (discarded
 * without one) and `exit` turned into a `TRAP`.
 *
 * Note: a guest's stdout is a write-only sink here. `splice` from an input stream
 * reports the stream as closed.
 */
export function containGuest(
  imports: Record<string, unknown>,
  output: GuestOutput | undefined,
): Record<string, unknown> {
  const streams = imports['wasi:io/streams'] as { OutputStream?: OutputStreamClass } | undefined;
  const clock = imports['wasi:clocks/monotonic-clock'] as MonotonicClock | undefined;
  if (streams?.OutputStream === undefined || clock === undefined) {
    throw new WasmRuntimeError(
      'LINK_ERROR',
      'The WASI preview 2 shim lacks wasi:io/streams or wasi:clocks/monotonic-clock; install a @bytecodealliance/preview2-shim that provides both.',
    );
  }

  const stdout = createSink(streams.OutputStream, clock, 'stdout', output);
  const stderr = createSink(streams.OutputStream, clock, 'stderr', output);
  const exit = (code: number) => {
    throw new WasmRuntimeError(
      'TRAP',
      `The guest called wasi:cli/exit with status ${code}; a component run by the runtime cannot end the host process.`,
    );
  };
  return {
    ...imports,
    'wasi:cli/stdout': { getStdout: () => stdout },
    'wasi:cli/stderr': { getStderr: () => stderr },
    'wasi:cli/exit': {
      exit: (status: { tag: 'ok' | 'err' }) => exit(status.tag === 'ok' ? 0 : 1),
      exitWithCode: (code: number) => exit(code),
    },
  };
}

/**
 * Creates an output stream the shim's bindings accept (a subclass of its own
 * `OutputStream`) that passes whole lines to `output`.
 */
function createSink(
  base: OutputStreamClass,
  clock: MonotonicClock,
  stream: 'stdout' | 'stderr',
  output: GuestOutput | undefined,
): object {
  const lines = output === undefined ? undefined : new LineSplitter((line) => output(stream, line));

  class GuestOutputStream extends base {
    checkWrite(): bigint {
      return WRITE_CAPACITY;
    }

    write(contents: Uint8Array): void {
      lines?.push(contents);
    }

    blockingWriteAndFlush(contents: Uint8Array): void {
      lines?.push(contents);
    }

    flush(): void {}

    blockingFlush(): void {}

    writeZeroes(length: bigint): void {
      lines?.push(new Uint8Array(Number(length)));
    }

    blockingWriteZeroesAndFlush(length: bigint): void {
      lines?.push(new Uint8Array(Number(length)));
    }

    splice(): bigint {
      throw { tag: 'closed' };
    }

    blockingSplice(): bigint {
      throw { tag: 'closed' };
    }

    subscribe(): unknown {
      // Writes to the sink return at once, so the stream is always ready for more.
      return clock.subscribeDuration(0n);
    }
  }
  return new GuestOutputStream();
}

/** Decodes UTF-8 chunks and passes on each complete line. */
class LineSplitter {
  readonly #emit: (line: string) => void;
  readonly #decoder = new TextDecoder();
  #pending = '';

  constructor(emit: (line: string) => void) {
    this.#emit = emit;
  }

  push(chunk: Uint8Array): void {
    let text = this.#pending + this.#decoder.decode(chunk, { stream: true });
    let newline = text.indexOf('\n');
    while (newline >= 0) {
      this.#emit(text.slice(0, newline));
      text = text.slice(newline + 1);
      newline = text.indexOf('\n');
    }
    while (text.length > MAX_PENDING_CHARS) {
      this.#emit(text.slice(0, MAX_PENDING_CHARS));
      text = text.slice(MAX_PENDING_CHARS);
    }
    this.#pending = text;
  }
}
