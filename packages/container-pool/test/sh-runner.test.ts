import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ContainerSpec, isContainerPoolError } from '../src/index';
import { dockerAvailable, testImages, testPools } from './images';

const hasDocker = await dockerAvailable();
const pools = testPools('sh-runner');

/** Every byte value, with NUL bytes at both ends and two in a row. */
const allBytes = Buffer.concat([
  Buffer.from([0]),
  Buffer.from(Array.from({ length: 256 }, (_, value) => value)),
  Buffer.from([0, 0]),
]);
const hex = (bytes: Buffer) => bytes.toString('hex');
/** Code that prints its stdin as hex, so binary input can be compared through the UTF-8 output. */
const dumpInput = "od -An -tx1 -v | tr -d ' \\n'";

// Code and input up to 256 bytes take the `read` builtin path, longer ones take `dd`.
describe.skipIf(!hasDocker)('the sh runner', () => {
  let sh: ContainerSpec;

  beforeAll(async () => {
    const images = await testImages();
    sh = { image: images.sh, runner: 'sh', min: 1, max: 1 };
  });
  afterAll(() => pools.cleanup());

  it.each([
    ['a short', allBytes.subarray(0, 200)],
    ['exactly 256 bytes of', allBytes.subarray(3, 259)],
    ['a long', Buffer.concat([allBytes, allBytes, allBytes, allBytes])],
    ['an empty', Buffer.alloc(0)],
    ['a NUL-only', Buffer.alloc(7)],
  ])('passes %s binary input through unchanged', async (_, input) => {
    const pool = pools.create();
    const result = await pool.run(sh, { code: dumpInput, input });

    expect(result.output).toBe(hex(input));
    expect(result.exitCode).toBe(0);
  });

  it.each([
    ['short', 100],
    ['long', 400],
  ])('runs %s code with NUL bytes after its last command unchanged', async (_, size) => {
    const pool = pools.create();
    const head = Buffer.from(`od -An -tx1 -v /tmp/.agentnode-runner/code | tr -d ' \\n'\nexit 0\n`);
    const code = Buffer.concat([head, Buffer.alloc(size - head.length, 0)]);
    code[code.length - 2] = 0x41;
    const result = await pool.run(sh, { code, input: 'x' });

    expect(result.output).toBe(hex(code));
  });

  it('returns NUL bytes without a trailing newline', async () => {
    const pool = pools.create();
    const result = await pool.run(sh, { code: "printf 'a\\0\\0b'; printf 'c\\0' >&2" });

    expect(result.output).toBe('a\0\0b');
    expect(result.stderr).toBe('c\0');
  });

  it('cuts stdout and stderr at exactly maxOutputBytes', async () => {
    const pool = pools.create();
    const fits = await pool.run(sh, {
      code: 'printf 12345; printf 1234567 >&2',
      maxOutputBytes: 5,
    });
    const over = await pool
      .run(sh, { code: 'printf 123456', maxOutputBytes: 5 })
      .catch((caught: unknown) => caught);

    expect(fits.output).toBe('12345');
    expect(fits.stderr).toBe('12345');
    expect(fits.stderrTruncated).toBe(true);
    expect(isContainerPoolError(over, 'OUTPUT_LIMIT')).toBe(true);
    expect((over as { details: { partialOutput?: string } }).details.partialOutput).toBe('12345');
  });

  it('counts bytes under a UTF-8 locale', async () => {
    const pool = pools.create();
    const spec = { ...sh, env: { LC_ALL: 'C.UTF-8' } };
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell expansion, not a template
    const code = 'v=héé; echo "${#v} $LC_ALL"; cat';
    const result = await pool.run(spec, { code, input: 'ünïcödé ✓' });

    expect(result.output).toBe('3 C.UTF-8\nünïcödé ✓');
  });

  it('hides its frame token from the code', async () => {
    const pool = pools.create();
    const result = await pool.run(sh, { code: 'set | grep -c "^token="' });

    expect(result.output).toBe('0\n');
  });
});
