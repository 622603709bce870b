import { describe, expect, it } from 'vitest';
import {
  encodeCall,
  ProtocolViolation,
  ResponseParser,
  StreamDemultiplexer,
} from '../src/protocol';

const frames = Buffer.concat([
  Buffer.from('pong 1\n'),
  Buffer.from('result 2 3 5 4 0 1\nhello\nerr'),
  Buffer.from('error 3 4\nboom'),
]);

describe('ResponseParser', () => {
  it('parses frames split at every byte', () => {
    const parser = new ResponseParser(1024);
    const responses = [...frames].flatMap((byte) => parser.push(Buffer.from([byte])));

    expect(responses).toHaveLength(3);
    expect(responses[0]).toEqual({ kind: 'pong', id: 1 });
    expect(responses[1]).toMatchObject({
      kind: 'result',
      id: 2,
      exitCode: 3,
      stdoutTruncated: false,
      stderrTruncated: true,
    });
    expect(responses[2]).toEqual({ kind: 'error', id: 3, message: 'boom' });
  });

  it('keeps binary sections intact', () => {
    const parser = new ResponseParser(1024);
    const body = Buffer.from([0, 10, 255, 13, 10]);
    const [response] = parser.push(
      Buffer.concat([Buffer.from(`result 1 0 ${body.length} 0 0 0\n`), body]),
    );

    expect(response?.kind).toBe('result');
    expect(response?.kind === 'result' ? response.stdout : undefined).toEqual(body);
  });

  it('parses several frames from one chunk', () => {
    expect(new ResponseParser(1024).push(frames)).toHaveLength(3);
  });

  it.each([
    ['an unknown kind', 'hello 1\n'],
    ['a missing field', 'result 1 0 0 0 0\n'],
    ['a non-integer field', 'result 1 0 x 0 0 0\n'],
    ['a section over the limit', 'result 1 0 2048 0 0 0\n'],
  ])('rejects %s', (_, header) => {
    expect(() => new ResponseParser(1024).push(Buffer.from(header))).toThrow(ProtocolViolation);
  });

  it('rejects output without a header line', () => {
    const parser = new ResponseParser(1024);

    expect(() => parser.push(Buffer.alloc(2048, 'y'))).toThrow(/without a frame header/);
  });
});

describe('ResponseParser with stream frames', () => {
  const token = 'Tok3nTok3nTok3nTok3n';
  /** A `stream` frame as the sh runner writes it. */
  const stream = (id: number, stdout: Buffer | string, stderr: Buffer | string, exitCode: number) =>
    Buffer.concat([
      Buffer.from(`stream ${id} ${token}\n`),
      Buffer.from(stdout),
      Buffer.from(token),
      Buffer.from(stderr),
      Buffer.from(`${token}${exitCode}\n`),
    ]);

  it('parses stream frames split at every byte', () => {
    const body = Buffer.from([0, 10, 255, 84, 111, 107, 0]);
    const bytes = Buffer.concat([
      Buffer.from('pong 1\n'),
      stream(2, body, 'err\n', 137),
      stream(3, '', '', 0),
    ]);
    const parser = new ResponseParser(1024);
    const responses = [...bytes].flatMap((byte) => parser.push(Buffer.from([byte])));

    expect(responses).toEqual([
      { kind: 'pong', id: 1 },
      {
        kind: 'result',
        id: 2,
        exitCode: 137,
        stdout: body,
        stderr: Buffer.from('err\n'),
        stdoutTruncated: false,
        stderrTruncated: false,
      },
      {
        kind: 'result',
        id: 3,
        exitCode: 0,
        stdout: Buffer.alloc(0),
        stderr: Buffer.alloc(0),
        stdoutTruncated: false,
        stderrTruncated: false,
      },
    ]);
  });

  it('finds a token split across chunks', () => {
    const bytes = stream(4, 'x'.repeat(100), 'y', 1);
    const parser = new ResponseParser(1024);
    const cut = bytes.indexOf(token, 40) + 7;

    expect(parser.push(bytes.subarray(0, cut))).toEqual([]);
    expect(parser.push(bytes.subarray(cut))).toMatchObject([
      { kind: 'result', id: 4, exitCode: 1, stderr: Buffer.from('y') },
    ]);
  });

  it('allows one byte over the limit', () => {
    expect(new ResponseParser(4).push(stream(1, '12345', '', 0))).toHaveLength(1);
    expect(() => new ResponseParser(4).push(stream(1, '123456', '', 0))).toThrow(
      /stream section over 5 bytes/,
    );
    const parser = new ResponseParser(4);
    parser.push(Buffer.from(`stream 1 ${token}\n`));

    expect(() => parser.push(Buffer.alloc(64, 'y'))).toThrow(ProtocolViolation);
  });

  it.each([
    ['a short token', 'stream 1 abc\n'],
    ['a token with other characters', `stream 1 ${token}-\n`],
    ['a non-integer id', `stream x ${token}\n`],
    ['an invalid exit code', `stream 1 ${token}\n${token}${token}zero\n`],
  ])('rejects %s', (_, bytes) => {
    expect(() => new ResponseParser(1024).push(Buffer.from(bytes))).toThrow(ProtocolViolation);
  });
});

describe('encodeCall', () => {
  it('puts code and input after the header', () => {
    const frame = encodeCall(7, Buffer.from('cat'), Buffer.from('a\n'), 100);

    expect(frame.toString()).toBe('call 7 3 2 100\ncata\n');
  });
});

describe('StreamDemultiplexer', () => {
  function frame(stream: number, text: string): Buffer {
    const header = Buffer.alloc(8);
    header[0] = stream;
    header.writeUInt32BE(Buffer.byteLength(text), 4);
    return Buffer.concat([header, Buffer.from(text)]);
  }

  it('splits stdout and stderr however the stream is chunked', () => {
    const stream = Buffer.concat([frame(1, 'out1'), frame(2, 'err'), frame(1, 'out2')]);
    for (const size of [1, 3, 8, 9, stream.length]) {
      const stdout: Buffer[] = [];
      const stderr: Buffer[] = [];
      const demux = new StreamDemultiplexer(
        (chunk) => stdout.push(chunk),
        (chunk) => stderr.push(chunk),
      );
      for (let offset = 0; offset < stream.length; offset += size)
        demux.push(stream.subarray(offset, offset + size));

      expect(Buffer.concat(stdout).toString()).toBe('out1out2');
      expect(Buffer.concat(stderr).toString()).toBe('err');
    }
  });

  it('rejects an unknown stream type', () => {
    const demux = new StreamDemultiplexer(
      () => {},
      () => {},
    );

    expect(() => demux.push(frame(7, 'x'))).toThrow(/unknown stream type 7/);
  });
});
