import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));

describe('examples/attestation-cache/main.ts', () => {
  it('verifies, hits the cache and shows both rejections', () => {
    const child = spawnSync(
      process.execPath,
      ['--conditions=source', '--import', 'tsx', 'examples/attestation-cache/main.ts'],
      { cwd: repoRoot, encoding: 'utf8', timeout: 30_000 },
    );

    expect(child.stderr).toBe('');
    expect(child.status).toBe(0);
    expect(child.stdout.trim().split('\n')).toEqual([
      'verified enclave i-0bbf1bfe232b8c2ce-enc0191ba35c9d1b77a (debug: true), valid until 2024-09-09T22:49:12.000Z',
      'second get served from cache: true',
      'stats: lookups 2, hits 1, misses 1, hit rate 0.50',
      'default policy: rejected with DEBUG_ENCLAVE',
      'today: rejected with CERTIFICATE_EXPIRED',
    ]);
  });
});
