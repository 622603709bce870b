import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const outDir = mkdtempSync(join(tmpdir(), 'agentnode-bench-smoke-'));

afterAll(() => rmSync(outDir, { recursive: true, force: true }));

interface ReportRow {
  area: string;
  operation: string;
  median: number | null;
  baselineMedian: number | null;
  note?: string;
}

describe('pnpm bench --quick', () => {
  it('runs every suite and writes a report', { timeout: 600_000 }, () => {
    const result = spawnSync(
      process.execPath,
      ['--conditions=source', '--import', 'tsx', 'benchmarks/run.ts', '--quick', '--out', outDir],
      { cwd: repoRoot, encoding: 'utf8', timeout: 300_000 },
    );

    expect(result.stderr).not.toMatch(/Error/);
    expect(result.status).toBe(0);

    const report = JSON.parse(readFileSync(join(outDir, 'results.json'), 'utf8')) as {
      rows: ReportRow[];
      failures: unknown[];
      machine: { cpu: string; cores: number; node: string };
    };
    expect(report.failures).toEqual([]);
    expect(report.machine.cores).toBeGreaterThan(0);
    expect(report.rows.length).toBeGreaterThan(0);
    for (const row of report.rows) {
      // A row either has both figures or says why it has none.
      const measured = row.median !== null && row.baselineMedian !== null;
      expect(measured || Boolean(row.note), `${row.area}: ${row.operation}`).toBe(true);
    }

    const markdown = readFileSync(join(outDir, 'benchmarks.md'), 'utf8');
    expect(markdown).toContain('- Machine: ');
    expect(markdown).toContain('| operation | claimed after | agentnode median |');
    expect(markdown).toContain('| note |');
  });
});
