import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));

describe('examples/wasm-runtime', () => {
  it('runs and prints each limit at work', () => {
    const result = spawnSync(
      process.execPath,
      ['--conditions=source', '--import', 'tsx', 'examples/wasm-runtime/main.ts'],
      { cwd: repoRoot, encoding: 'utf8', timeout: 60_000 },
    );

    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toContain('shout("hello, wasm") = "HELLO, WASM" using');
    expect(result.stdout).toContain('shout("héllo wörld 🦀") = "HéLLO WöRLD 🦀"');
    expect(result.stdout).toContain('forever() stopped: OUT_OF_FUEL after 1000000 fuel');
    expect(result.stdout).toContain('hog() stopped growing at 16 MiB');
    expect(result.stdout).toContain(
      'agentnode_wasm_traps_total{module="limits",code="OUT_OF_FUEL"} 1',
    );
  });
});
