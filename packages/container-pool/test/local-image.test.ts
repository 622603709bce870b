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
  });

  it('rejects an invalid repository name', async () => {
    await testImages();

    await expect(buildLocalImage({ repository: 'Bad Name', entries: [] })).rejects.toMatchObject({
      code: 'INVALID_CONFIG',
    });
  });
});
