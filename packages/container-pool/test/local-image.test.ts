import { execFile } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { buildLocalImage, busyboxRootfs } from '../src/index';
import { writeTar } from '../src/tar';
import { dockerAvailable, testImages, testPools } from './images';

const hasDocker = await dockerAvailable();
const pools = testPools('image');

describe('writeTar', () => {
  it('writes an archive that tar lists and extracts', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'agentnode-tar-'));
    const longDir = `deep/${'d'.repeat(90)}`;
    await writeFile(join(dir, 'source.bin'), Buffer.alloc(1000, 7));
    await pipeline(
      Readable.from(
        writeTar([
          { type: 'directory', path: '/etc' },
          { type: 'file', path: '/etc/hello', content: 'hi\n', mode: 0o600 },
          { type: 'file', path: '/data.bin', source: join(dir, 'source.bin'), size: 1000 },
          { type: 'directory', path: 'deep' },
          { type: 'directory', path: longDir },
          { type: 'file', path: `${longDir}/${'f'.repeat(60)}`, content: 'long' },
          { type: 'symlink', path: '/link', target: 'etc/hello' },
        ]),
      ),
      createWriteStream(join(dir, 'out.tar')),
    );
    const run = promisify(execFile);
    const { stdout } = await run('tar', ['-tvf', join(dir, 'out.tar')]);
    await run('tar', ['-xf', join(dir, 'out.tar'), '-C', dir]);
    const extracted = await run('cat', [join(dir, 'link'), join(dir, longDir, 'f'.repeat(60))]);
    await rm(dir, { recursive: true, force: true });

    expect(stdout).toMatch(/-rw------- .* etc\/hello/);
    expect(stdout).toMatch(/ 1000 .* data\.bin/);
    expect(stdout).toMatch(/link -> etc\/hello/);
    expect(extracted.stdout).toBe('hi\nlong');
  });
});

describe.skipIf(!hasDocker)('buildLocalImage', () => {
  afterAll(() => pools.cleanup());

  it('skips the import when the content hash is present', async () => {
    const rootfs = await busyboxRootfs();
    const first = await buildLocalImage({ repository: 'agentnode-test/busybox', ...rootfs });
    const second = await buildLocalImage({ repository: 'agentnode-test/busybox', ...rootfs });

    expect(second).toEqual({ image: first.image, built: false });
    expect(first.image).toMatch(/^agentnode-test\/busybox:[0-9a-f]{16}$/);
  });

  it('imports extra files and changes', async () => {
    const rootfs = await busyboxRootfs();
    const { image } = await buildLocalImage({
      repository: 'agentnode-test/busybox-extra',
      entries: [...rootfs.entries, { type: 'file', path: '/etc/motd', content: 'welcome\n' }],
      changes: [...rootfs.changes, 'ENV GREETING=hello'],
    });
    const pool = pools.create();
    const result = await pool.run(
      { image, runner: 'sh' },
      { code: 'cat /etc/motd; echo $GREETING' },
    );

    expect(result.output).toBe('welcome\nhello\n');
  });

  it('fails with IMAGE_BUILD_FAILED when the import fails', async () => {
    const call = buildLocalImage({
      repository: 'agentnode-test/broken',
      entries: [{ type: 'file', path: '/note', content: 'x' }],
      changes: ['NOT-AN-INSTRUCTION x'],
    });

    await expect(call).rejects.toMatchObject({ code: 'IMAGE_BUILD_FAILED' });
    await expect(call).rejects.toThrow(
      /failed: .*not-an-instruction is not a valid change command/i,
    );
  });

  it('rejects an invalid repository name', async () => {
    await testImages();

    await expect(buildLocalImage({ repository: 'Bad Name', entries: [] })).rejects.toMatchObject({
      code: 'INVALID_CONFIG',
    });
  });
});

describe('buildLocalImage validation', () => {
  const file = { type: 'file', path: '/note', content: 'x' } as const;

  it.each<[string, unknown, RegExp]>([
    [
      'no repository',
      { entries: [file] },
      /Invalid repository: undefined; name an image repository/,
    ],
    [
      'no entries',
      { repository: 'agentnode-test/empty', entries: [] },
      /Invalid entries: \[\]; list the root file system/,
    ],
    [
      'a misspelt entry field',
      { repository: 'agentnode-test/x', entries: [{ type: 'file', path: '/x', contents: 'x' }] },
      /Invalid entries\[0\]: unknown option "contents" \(did you mean "content"\?\)/,
    ],
    [
      'an unknown entry type',
      { repository: 'agentnode-test/x', entries: [{ type: 'link', path: '/x' }] },
      /Invalid entries\[0\]\.type: "link"; use "directory", "file" or "symlink"/,
    ],
    [
      'a path that leaves the root',
      { repository: 'agentnode-test/x', entries: [{ type: 'directory', path: '/../etc' }] },
      /Invalid entries\[0\]\.path: "\/\.\.\/etc"/,
    ],
    [
      'both source and content',
      {
        repository: 'agentnode-test/x',
        entries: [{ type: 'file', path: '/x', source: '/etc/hostname', content: 'x' }],
      },
      /give either source .* or content/,
    ],
    [
      'a missing host file',
      {
        repository: 'agentnode-test/x',
        entries: [file, { type: 'file', path: '/x', source: '/nonexistent/file' }],
      },
      /Invalid entries\[1\]\.source: "\/nonexistent\/file"; the host file cannot be read \(ENOENT\)/,
    ],
    [
      'an unknown option',
      { repository: 'agentnode-test/x', entries: [file], change: [] },
      /unknown option "change" \(did you mean "changes"\?\)/,
    ],
  ])('rejects %s', async (_, config, message) => {
    const call = buildLocalImage(config as never);

    await expect(call).rejects.toMatchObject({ code: 'INVALID_CONFIG' });
    await expect(call).rejects.toThrow(message);
  });

  it('fails with ENGINE_UNAVAILABLE for a missing socket', async () => {
    const call = buildLocalImage({
      repository: 'agentnode-test/x',
      entries: [file],
      connection: { socketPath: '/nonexistent/docker.sock' },
    });

    await expect(call).rejects.toMatchObject({ code: 'ENGINE_UNAVAILABLE' });
    await expect(call).rejects.toThrow(/engine at \/nonexistent\/docker\.sock did not respond/);
  });
});

describe('busyboxRootfs', () => {
  it.each([
    ['a missing file', '/nonexistent/busybox', /the file cannot be read \(ENOENT\)/],
    ['a text file', '/etc/hostname', /it is not an ELF executable/],
    ['a dynamically linked binary', process.execPath, /it is dynamically linked/],
  ])('rejects %s', async (_, path, message) => {
    const call = busyboxRootfs(path);

    await expect(call).rejects.toMatchObject({ code: 'INVALID_CONFIG' });
    await expect(call).rejects.toThrow(message);
  });
});
