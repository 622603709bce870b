import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const packageRoot = fileURLToPath(new URL('..', import.meta.url));

interface ChildRun {
  readonly stdout: string;
  readonly stderr: string;
  readonly exitCode: number | null;
  readonly killed: boolean;
}

/** Runs a fixture in its own Node process, killed after `killAfterMs`. */
function runFixture(path: string, killAfterMs: number): Promise<ChildRun> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--conditions=source', '--import', 'tsx', path],
      { cwd: packageRoot, timeout: killAfterMs },
      (error, stdout, stderr) => {
        const failure = error as (Error & { code?: unknown; killed?: boolean }) | null;
        let exitCode: number | null = 0;
        if (failure) {
          exitCode = typeof failure.code === 'number' ? failure.code : null;
        }
        resolve({ stdout, stderr, exitCode, killed: failure?.killed === true });
      },
    );
  });
}

describe('timers of calls that end early', () => {
  it('leaves no timer and lets the process exit', async () => {
    // The fixture's timeouts are ten minutes, so a leaked timer keeps the
    // child alive past this limit and it is killed. The limit stays below
    // the test timeout so that the checks below report what leaked.
    const run = await runFixture('test/fixtures/early-end.ts', 20_000);

    expect(run.stderr).toBe('');
    const timersLeft = JSON.parse(run.stdout) as Record<string, number>;
    expect(Object.keys(timersLeft)).toHaveLength(9);
    for (const [scenario, count] of Object.entries(timersLeft)) {
      expect({ scenario, count }).toEqual({ scenario, count: 0 });
    }
    expect(run.killed).toBe(false);
    expect(run.exitCode).toBe(0);
  });
});
