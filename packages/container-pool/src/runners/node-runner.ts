/**
 * The runner for images with Node.js (18 or later). It runs each call's `code` as the body of
 * an async function in the runner's own process, so a warm call starts no process:
 *
 * - `input` (string, UTF-8) and `inputBytes` (Buffer) hold the call's input;
 * - `console.log` and `process.stdout.write` go to the call's stdout, `console.error` and
 *   `process.stderr.write` to its stderr;
 * - a returned string or Buffer is appended to stdout, any other value except `undefined`
 *   as JSON;
 * - `exit(code)` ends the call with that exit code; a thrown error ends it with exit code 1
 *   and its stack on stderr;
 * - `require` loads Node.js built-ins and modules present in the image;
 * - child processes that inherit stdio write into the call's stdout and stderr and read
 *   `/dev/null`, because the protocol runs on descriptors reopened through `/proc/self/fd`.
 *
 * Calls share the process, so globals and module state persist between calls in the same
 * container. Use one-shot mode where a call needs a pristine process. Output is tied to its
 * call through `AsyncLocalStorage`: what a call's timers or promises write after the call
 * returned is dropped, so it never reaches a later call.
 *
 * The source is plain JavaScript in a string, not a function serialized with `toString()`,
 * because build tools rewrite functions (esbuild's `keepNames` adds `__name` calls) into code
 * that no longer runs on its own.
 *
 * `runner: 'node'` starts it with `node -e`; export it to start it another way.
 *
 * @example
 * import { NODE_RUNNER_SOURCE } from '@agentnode/container-pool';
 *
 * const spec = { image: 'node:20-slim', runner: { command: ['node', '--max-old-space-size=256', '-e', NODE_RUNNER_SOURCE] } };
 */
export const NODE_RUNNER_SOURCE = String.raw`'use strict';
const fs = require('node:fs');
const net = require('node:net');
const { AsyncLocalStorage } = require('node:async_hooks');

// Child processes inherit descriptors 0 to 2, so the protocol moves to descriptors of its
// own, where a child with stdio 'inherit' can neither read requests nor write responses.
// Descriptor 0 becomes /dev/null. Descriptors 1 and 2 become unlinked files, and the runner
// adds their new bytes to the running call's output. Nothing else opens a descriptor yet,
// so each open below takes the lowest free one, which is the one just closed.
const requestFd = fs.openSync('/proc/self/fd/0', 'r');
const responseFd = fs.openSync('/proc/self/fd/1', 'w');
const diagnosticFd = fs.openSync('/proc/self/fd/2', 'w');
const childOutput = { stdout: { fd: 1, position: 0 }, stderr: { fd: 2, position: 0 } };
const childOutputPath = '/tmp/.agentnode-node-runner-' + process.pid;
for (const [fd, open] of [
  [0, () => fs.openSync('/dev/null', 'r')],
  [1, () => fs.openSync(childOutputPath, 'a+', 0o600)],
  [2, () => fs.openSync(childOutputPath + '-err', 'a+', 0o600)],
]) {
  fs.closeSync(fd);
  if (open() !== fd) {
    fs.writeSync(diagnosticFd, 'agentnode runner: could not reopen descriptor ' + fd + '\n');
    process.exit(70);
  }
}
fs.unlinkSync(childOutputPath);
fs.unlinkSync(childOutputPath + '-err');

function writeProtocol(bytes) {
  const buffer = typeof bytes === 'string' ? Buffer.from(bytes) : bytes;
  for (let written = 0; written < buffer.length; ) {
    written += fs.writeSync(responseFd, buffer, written);
  }
}

function writeDiagnostic(text) {
  fs.writeSync(diagnosticFd, text);
}

const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor;
const compiled = new Map();
const callContext = new AsyncLocalStorage();
let capture;

class Exit {
  constructor(exitCode) {
    this.exitCode = exitCode;
  }
}

function append(target, stream, chunk, encoding) {
  // Output of a call that already returned (from a late timer, say) belongs to no running
  // call; it is dropped so that it cannot reach the call running now.
  if (target === undefined || target !== capture) return;
  collectChildOutput(stream);
  appendBytes(stream, chunk, encoding);
}

function appendBytes(stream, chunk, encoding) {
  const bytes = Buffer.isBuffer(chunk)
    ? chunk
    : chunk instanceof Uint8Array
      ? Buffer.from(chunk)
      : Buffer.from(String(chunk), typeof encoding === 'string' ? encoding : 'utf8');
  const room = capture.maxBytes - capture[stream + 'Bytes'];
  const kept = bytes.length > room ? bytes.subarray(0, Math.max(room, 0)) : bytes;
  capture[stream].push(kept);
  capture[stream + 'Bytes'] += kept.length;
  if (kept.length < bytes.length) capture[stream + 'Truncated'] = true;
}

function patchedWrite(stream) {
  return (chunk, encoding, callback) => {
    append(callContext.getStore(), stream, chunk, encoding);
    const done = typeof encoding === 'function' ? encoding : callback;
    if (typeof done === 'function') process.nextTick(done);
    return true;
  };
}
const readBuffer = Buffer.alloc(65536);

// Moves new bytes that child processes wrote to descriptor 1 or 2 into the running call's
// output, so that they keep their place among the call's own writes.
function collectChildOutput(stream) {
  const file = childOutput[stream];
  for (;;) {
    if (capture[stream + 'Bytes'] >= capture.maxBytes) {
      const size = fs.fstatSync(file.fd).size;
      if (size > file.position) capture[stream + 'Truncated'] = true;
      file.position = size;
      return;
    }
    const read = fs.readSync(file.fd, readBuffer, 0, readBuffer.length, file.position);
    if (read === 0) return;
    file.position += read;
    appendBytes(stream, Buffer.from(readBuffer.subarray(0, read)));
  }
}

// Empties both files at the start of a call, then skips bytes that a child still running from
// an earlier call wrote since.
function resetChildOutput() {
  for (const file of Object.values(childOutput)) {
    if (file.position > 0) fs.ftruncateSync(file.fd, 0);
    file.position = fs.fstatSync(file.fd).size;
  }
}

process.stdout.write = patchedWrite('stdout');
process.stderr.write = patchedWrite('stderr');

function compile(code) {
  let fn = compiled.get(code);
  if (fn === undefined) {
    fn = new AsyncFunction('input', 'inputBytes', 'require', 'exit', code);
    if (compiled.size >= 100) compiled.delete(compiled.keys().next().value);
    compiled.set(code, fn);
  }
  return fn;
}

function exit(status = 0) {
  throw new Exit(status);
}

async function call(id, code, input, maxBytes) {
  capture = {
    maxBytes,
    stdout: [], stdoutBytes: 0, stdoutTruncated: false,
    stderr: [], stderrBytes: 0, stderrTruncated: false,
  };
  const own = capture;
  resetChildOutput();
  let exitCode = 0;
  try {
    const fn = compile(code.toString('utf8'));
    const value = await callContext.run(own, () => fn(input.toString('utf8'), input, require, exit));
    if (typeof value === 'string' || value instanceof Uint8Array) append(own, 'stdout', value);
    else if (value !== undefined) append(own, 'stdout', JSON.stringify(value));
  } catch (error) {
    if (error instanceof Exit) {
      exitCode = error.exitCode;
    } else {
      exitCode = 1;
      append(own, 'stderr', (error instanceof Error ? error.stack : String(error)) + '\n');
    }
  }
  collectChildOutput('stdout');
  collectChildOutput('stderr');
  const done = capture;
  capture = undefined;
  const header = ['result', id, exitCode, done.stdoutBytes, done.stderrBytes,
    done.stdoutTruncated ? 1 : 0, done.stderrTruncated ? 1 : 0].join(' ') + '\n';
  return Buffer.concat([Buffer.from(header), ...done.stdout, ...done.stderr]);
}

let buffered = Buffer.alloc(0);
let draining = false;

async function drain() {
  if (draining) return;
  draining = true;
  for (;;) {
    const newline = buffered.indexOf(10);
    if (newline === -1) break;
    const fields = buffered.subarray(0, newline).toString('latin1').split(' ');
    if (fields[0] === 'ping' && fields.length === 2) {
      buffered = buffered.subarray(newline + 1);
      writeProtocol('pong ' + fields[1] + '\n');
      continue;
    }
    if (fields[0] !== 'call' || fields.length !== 5) {
      writeDiagnostic('agentnode runner: invalid request header ' + JSON.stringify(fields.join(' ')) + '\n');
      process.exit(2);
    }
    const start = newline + 1;
    const codeEnd = start + Number(fields[2]);
    const inputEnd = codeEnd + Number(fields[3]);
    if (buffered.length < inputEnd) break;
    const code = buffered.subarray(start, codeEnd);
    const input = buffered.subarray(codeEnd, inputEnd);
    buffered = buffered.subarray(inputEnd);
    writeProtocol(await call(fields[1], code, input, Number(fields[4])));
  }
  draining = false;
}

// An error the code leaves uncaught goes to the stderr of its call while that call runs, and is
// dropped after it returned; the runner keeps serving either way.
process.on('uncaughtException', (error) => {
  append(callContext.getStore(), 'stderr', 'Uncaught exception: ' + (error && error.stack) + '\n');
});
process.on('unhandledRejection', (reason) => {
  const text = reason instanceof Error ? reason.stack : String(reason);
  append(callContext.getStore(), 'stderr', 'Unhandled rejection: ' + text + '\n');
});
if (process.env.AGENTNODE_WORKDIR) process.chdir(process.env.AGENTNODE_WORKDIR);

const requests = new net.Socket({ fd: requestFd, readable: true, writable: false });
requests.on('data', (chunk) => {
  buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
  void drain();
});
requests.on('end', () => process.exit(0));
`;
