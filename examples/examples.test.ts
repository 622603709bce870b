import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));

function runExample(path: string) {
  return spawnSync(process.execPath, ['--conditions=source', '--import', 'tsx', path], {
    cwd: repoRoot,
    encoding: 'utf8',
    timeout: 60_000,
  });
}

describe('examples/hello', () => {
  it('matches the getting-started page', () => {
    const page = readFileSync(new URL('../docs/getting-started.md', import.meta.url), 'utf8');
    const firstTsBlock = /```ts\n([\s\S]*?)```/.exec(page)?.[1];

    expect(firstTsBlock).toBe(readFileSync(new URL('hello/main.ts', import.meta.url), 'utf8'));
  });

  it('prints what the page says', () => {
    const result = runExample('examples/hello/main.ts');

    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toContain('greeting Hello, Ada!');
    expect(result.stdout).toContain('loud HELLO, ADA!');
    expect(result.stdout).toMatch(/bad INVALID_PARAMETERS: .*"name"/);
  });
});

describe('examples/metrics', () => {
  it('scrapes its own metrics', () => {
    const result = runExample('examples/metrics/main.ts');

    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toContain('example_jobs_total{outcome="done",node="example"} 4');
    expect(result.stdout).toContain('example_jobs_total{outcome="failed",node="example"} 1');
    expect(result.stdout).toContain(
      'example_job_duration_seconds_count{status="error",node="example"} 1',
    );
  });
});
