import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

describe('quickstart example', () => {
  it('runs the demo batch without failures', () => {
    const result = spawnSync(
      process.execPath,
      ['--conditions=source', '--import', 'tsx', 'examples/quickstart/main.ts'],
      { cwd: repoRoot, encoding: 'utf8', timeout: 60_000 },
    );

    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/\d+ calls in [\d.]+ ms, 0 failed/);
    expect(result.stdout).toContain('agentnode_tool_executions_total{kind="function"');
  });
});
