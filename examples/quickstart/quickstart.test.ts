import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'agentnode-demo-'));

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function runDemo(...args: string[]) {
  return spawnSync(
    process.execPath,
    ['--conditions=source', '--import', 'tsx', 'examples/quickstart/main.ts', ...args],
    { cwd: repoRoot, encoding: 'utf8', timeout: 240_000 },
  );
}

describe('quickstart demo', () => {
  it('analyses text files and skips a binary one', { timeout: 240_000 }, () => {
    const directory = join(scratch, 'docs');
    mkdirSync(join(directory, 'nested'), { recursive: true });
    writeFileSync(join(directory, 'alpha.md'), 'The cat saw the dog. The dog ran.\n');
    writeFileSync(join(directory, 'beta.txt'), 'Agents call tools; tools return results.\n');
    writeFileSync(
      join(directory, 'nested', 'gamma.md'),
      '# Gamma\n\nWords, words and more words.\n',
    );
    writeFileSync(join(directory, 'image.txt'), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0x01]));

    const result = runDemo(directory);

    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toContain('4 text files under');
    expect(result.stdout).toContain(
      'files: 4 found, 3 analysed, 1 unreadable, 0 failed in a later step',
    );
    expect(result.stdout).toMatch(/skipped image\.txt: .*looks binary/);
    expect(result.stdout).toMatch(/^word\s+count\s+files$/m);
    expect(result.stdout).toMatch(/^words\s+3\s+1$/m);
    expect(result.stdout).toContain('Index advisor');
    expect(result.stdout).toMatch(/^\s+function\s+4\s+1\s+0\s/m);
    expect(result.stdout).toMatch(/^\s+wasm\s+3\s+0\s+1\s/m);
    expect(result.stdout).toContain('peak resident memory');
    expect(result.stdout).toMatch(/metrics: http:\/\/127\.0\.0\.1:\d+\/metrics/);
  });

  it.each([
    ['a missing directory', () => join(scratch, 'does-not-exist'), /Directory not found/],
    ['a file', () => writeAndReturn(join(scratch, 'plain.md'), 'x'), /is a file, not a directory/],
    ['an empty directory', () => makeDirectory(join(scratch, 'empty')), /No text files/],
  ])('rejects %s with a clear message', (_case, target, message) => {
    const result = runDemo(target());

    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(message);
  });

  it('prints usage for --help', () => {
    const result = runDemo('--help');

    expect(result.status).toBe(0);
    expect(result.stdout).toContain('Usage: pnpm demo [directory] [--limit N] [--serve]');
  });

  it('rejects an unknown option with usage', () => {
    const result = runDemo('--lmit', '5');

    expect(result.status).toBe(2);
    expect(result.stderr).toContain("Unknown option '--lmit'");
    expect(result.stderr).toContain('Usage: pnpm demo');
  });

  it('rejects a bad --limit', () => {
    const result = runDemo('--limit', 'zero');

    expect(result.status).toBe(2);
    expect(result.stderr).toContain('--limit must be a positive integer');
  });
});

function writeAndReturn(path: string, content: string): string {
  writeFileSync(path, content);
  return path;
}

function makeDirectory(path: string): string {
  mkdirSync(path, { recursive: true });
  return path;
}
