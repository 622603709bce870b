import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));
const cacheDir = fileURLToPath(new URL('../.cache/', import.meta.url));

/** Runs a TypeScript file from the repository root, as the docs tell users to. */
function runFromRoot(file: string) {
  return spawnSync(process.execPath, ['--conditions=source', '--import', 'tsx', file], {
    cwd: repoRoot,
    encoding: 'utf8',
    timeout: 30_000,
  });
}

describe('examples/attestation-cache/main.ts', () => {
  it('verifies, hits the cache and shows both rejections', () => {
    const child = runFromRoot('examples/attestation-cache/main.ts');

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

describe('docs/attestation-cache.md quick start', () => {
  it('runs as written', () => {
    const docs = readFileSync(
      new URL('../../../docs/attestation-cache.md', import.meta.url),
      'utf8',
    );
    const section = docs.slice(docs.indexOf('## Quick start'));
    const code = /```ts\n([\s\S]*?)```/.exec(section)?.[1];
    expect(code).toContain('createNitroVerifier');
    // Inside the package, so that its own name resolves to its source.
    mkdirSync(cacheDir, { recursive: true });
    const file = `${cacheDir}quick-start.mts`;
    writeFileSync(file, code ?? '');

    const child = runFromRoot(file);

    expect(child.stderr).toBe('');
    expect(child.status).toBe(0);
    expect(child.stdout.trim()).toBe(
      'verified i-0bbf1bfe232b8c2ce-enc0191ba35c9d1b77a, valid until 2024-09-09T22:49:12.000Z',
    );
  });
});
