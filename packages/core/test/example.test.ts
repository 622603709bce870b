import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));

describe('examples/core/main.ts', () => {
  it('runs the dependency graph and prints results and metrics', async () => {
    const { stdout, stderr } = await promisify(execFile)(
      process.execPath,
      ['--conditions=source', '--import', 'tsx', 'examples/core/main.ts'],
      { cwd: repoRoot, timeout: 60_000 },
    );

    expect(stderr).toBe('');
    expect(stdout).toMatch(/^file: \d+ characters$/m);
    expect(stdout).toMatch(/^words: \d+ \(attempts: 1\)$/m);
    expect(stdout).toMatch(/^long-words: \d+ \(attempts: 1\)$/m);
    expect(stdout).toMatch(/^hash: [0-9a-f]{64} \(attempts: 1\)$/m);
    expect(stdout).toMatch(/^summary: \d+ words, sha256 [0-9a-f]{12}\.\.\. \(attempts: 2\)$/m);
    expect(stdout).toContain('bad: failed with INVALID_PARAMETERS');
    expect(stdout).toContain('field "text" must be string');
    expect(stdout).toContain(
      'agentnode_tool_retries_total{kind="function",tool="local:::demo:::summary"} 1',
    );
  });
});
