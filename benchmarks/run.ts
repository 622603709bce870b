/**
 * Runs every `*.bench.ts` suite in this folder and writes the report.
 *
 *   pnpm bench                 full run; writes docs/benchmarks.md and benchmarks/results.json
 *   pnpm bench --quick         short smoke run; writes to the OS temp folder instead
 *   pnpm bench --only sqlite   runs the suites whose file name contains "sqlite"
 */
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { type BenchRow, formatDuration, type SuiteRun } from './harness';

const AREA_ORDER = [
  'Database',
  'Memory',
  'Async',
  'Coordinator',
  'WASM runtime',
  'Containers',
  'Attestation',
  'Metrics',
];

interface Report {
  machine: { cpu: string; cores: number; memoryGiB: number; node: string; platform: string };
  mode: 'full' | 'quick';
  startedAt: string;
  durationSeconds: number;
  rows: BenchRow[];
  failures: { suite: string; message: string }[];
}

const benchDir = new URL('.', import.meta.url).pathname;
const repoRoot = join(benchDir, '..');

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      only: { type: 'string' },
      out: { type: 'string' },
    },
  });
  const quick = values.quick ?? false;
  const suites = (await readdir(benchDir))
    .filter((file) => file.endsWith('.bench.ts'))
    .filter((file) => values.only === undefined || file.includes(values.only))
    .sort();

  const startedAt = new Date();
  const report: Report = {
    machine: machineInfo(),
    mode: quick ? 'quick' : 'full',
    startedAt: startedAt.toISOString(),
    durationSeconds: 0,
    rows: [],
    failures: [],
  };
  console.log(`${describeMachine(report.machine)}; ${report.mode} run of ${suites.length} suites`);

  for (const [index, file] of suites.entries()) {
    const suiteStart = performance.now();
    process.stdout.write(`[${index + 1}/${suites.length}] ${file} ... `);
    try {
      const suite = (await import(join(benchDir, file))) as { run: SuiteRun };
      const rows = await suite.run({ quick });
      report.rows.push(...rows);
      console.log(
        `${rows.length} rows in ${((performance.now() - suiteStart) / 1000).toFixed(1)} s`,
      );
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      report.failures.push({ suite: file, message });
      console.log(`failed: ${message}`);
    }
  }
  report.durationSeconds = (Date.now() - startedAt.getTime()) / 1000;

  const markdown = renderMarkdown(report);
  const outDir = values.out ?? (quick ? join(tmpdir(), 'agentnode-bench') : undefined);
  const markdownPath = outDir
    ? join(outDir, 'benchmarks.md')
    : join(repoRoot, 'docs', 'benchmarks.md');
  const jsonPath = outDir ? join(outDir, 'results.json') : join(benchDir, 'results.json');
  await mkdir(join(markdownPath, '..'), { recursive: true });
  await writeFile(markdownPath, markdown);
  await writeFile(jsonPath, `${JSON.stringify(report, jsonNumbers, 2)}\n`);

  console.log(`\n${renderTables(report.rows)}`);
  console.log(`wrote ${markdownPath} and ${jsonPath} in ${report.durationSeconds.toFixed(1)} s`);

  return report.failures.length === 0 ? 0 : 1;
}

function machineInfo(): Report['machine'] {
  const cpuList = cpus();
  return {
    cpu: cpuList[0]?.model.trim() ?? 'unknown CPU',
    cores: cpuList.length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
  };
}

function describeMachine(machine: Report['machine']): string {
  return `${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB, Node ${machine.node}, ${machine.platform}`;
}

function renderMarkdown(report: Report): string {
  const lines = [
    '# Benchmarks',
    '',
    'Produced by `pnpm bench` (`benchmarks/run.ts`). Every figure is a median per operation',
    'measured with tinybench, next to a baseline measured in the same process in the same run;',
    'the ratio is agentnode / baseline unless the target column says otherwise. A full run',
    'measures subject and baseline in five alternating rounds and reports the medians across',
    'rounds, so a machine whose speed drifts slows both sides alike. "Claimed after" is the',
    'figure the reference Rust node claims for the same operation; it was not measured here.',
    'On the shared 2-core VM these runs use, a figure can move by a tenth or more between',
    'runs, so a target met by a narrow margin can show as missed in one run and met in the',
    'next. Rows that time a call path (coordinator and WASM call overhead) warm it up first',
    'for 50,000 to 200,000 calls, until V8 has optimized it, and report the steady state.',
    '',
    `- Machine: ${describeMachine(report.machine)}`,
    `- Run: ${report.mode}, started ${report.startedAt}, took ${report.durationSeconds.toFixed(0)} s`,
    '',
    renderTables(report.rows),
  ];
  if (report.failures.length > 0) {
    lines.push('## Suites that failed', '');
    for (const failure of report.failures) {
      lines.push(`- ${failure.suite}: ${failure.message}`);
    }
    lines.push('');
  }

  return lines.join('\n');
}

function renderTables(rows: readonly BenchRow[]): string {
  const areas = [...new Set(rows.map((row) => row.area))].sort(
    (a, b) => areaRank(a) - areaRank(b) || a.localeCompare(b),
  );
  const sections: string[] = [];

  for (const area of areas) {
    sections.push(
      `## ${area}`,
      '',
      '| operation | claimed after | agentnode median | agentnode p99 | baseline | baseline median | ratio | target | met | note |',
      '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    );
    for (const row of rows.filter((candidate) => candidate.area === area)) {
      const ratio = Number.isFinite(row.ratio) ? `${formatRatio(row.ratio)}x` : 'n/a';
      let met = '';
      if (row.met !== undefined) {
        met = row.met ? 'yes' : 'no';
      }
      sections.push(
        `| ${row.operation} | ${row.claimedAfter ?? ''} | ${formatDuration(row.median)} | ${formatDuration(row.p99)} | ${row.baseline} | ${formatDuration(row.baselineMedian)} | ${ratio} | ${row.target ?? ''} | ${met} | ${row.note ?? ''} |`,
      );
    }
    sections.push('');
  }

  return sections.join('\n');
}

function areaRank(area: string): number {
  const index = AREA_ORDER.indexOf(area);
  return index === -1 ? AREA_ORDER.length : index;
}

function formatRatio(ratio: number): string {
  if (ratio >= 100) {
    return ratio.toFixed(0);
  }
  if (ratio >= 10) {
    return ratio.toFixed(1);
  }

  // Two significant digits keep ratios far below 1 (a warm call against a cold start) readable.
  return ratio >= 1 ? ratio.toFixed(2) : ratio.toPrecision(2);
}

function jsonNumbers(_key: string, value: unknown): unknown {
  return typeof value === 'number' && !Number.isFinite(value) ? null : value;
}

process.exitCode = await main();
