import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { dockerAvailable, testImages } from './images';

const hasDocker = await dockerAvailable();
const workspaceRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

describe.skipIf(!hasDocker)('examples/container-pool/main.ts', () => {
  it('prints the digest and gzip size of its text', async () => {
    await testImages();
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--conditions=source', '--import', 'tsx', 'examples/container-pool/main.ts'],
      { cwd: workspaceRoot, timeout: 60_000 },
    );

    expect(stdout).toMatch(/^image agentnode-example\/busybox:[0-9a-f]{16} /m);
    expect(stdout).toContain(
      'sha256 d7a8fbb307d7809469ca9abcb0082e4f8d5651e46d3cdb762d02d0bf37c9e592\n',
    );
    expect(stdout).toMatch(/^gzip \d+ bytes \(text 43 bytes\)$/m);
    expect(stdout).toMatch(/^warm call [\d.]+ ms, exit code 0$/m);
    expect(stdout).toContain('a call past its deadline fails with TIMEOUT\n');
    expect(stdout).toContain('its container was replaced: true\n');
    expect(stdout).toContain('containers started so far: 2\n');
    expect(stdout).toMatch(/pool closed; its containers are removed\n$/);
  });
});
