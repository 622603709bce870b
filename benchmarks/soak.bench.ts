import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createNode } from 'agentnode';
import type { BenchRow, SuiteOptions } from './harness';

const BATCH_SIZE = 1_000;

/**
 * Runs many function-tool calls through a node with the execution log on and
 * samples resident memory at the start, the middle and the end. Every cache,
 * queue and log buffer is bounded, so the end should stay within a few MiB of
 * the middle; the row's ratio is end / middle.
 */
export async function run(options: SuiteOptions): Promise<BenchRow[]> {
  const totalCalls = options.quick ? 20_000 : 100_000;
  const directory = mkdtempSync(join(tmpdir(), 'agentnode-soak-'));
  const node = await createNode({
    dataDirectory: directory,
    containers: false,
    metrics: { collectSystem: false },
  });
  node.tools.register({
    key: 'local:::soak:::echo',
    kind: 'function',
    parameters: { type: 'object', properties: { n: { type: 'integer' } }, required: ['n'] },
    handler: ({ n }) => ({ n, at: Date.now() }),
  });

  const samples: { calls: number; rssBytes: number; heapBytes: number }[] = [];
  const sample = (calls: number) => {
    globalThis.gc?.();
    const usage = process.memoryUsage();
    samples.push({ calls, rssBytes: usage.rss, heapBytes: usage.heapUsed });
  };

  const startedAt = performance.now();
  sample(0);
  let failed = 0;
  for (let done = 0; done < totalCalls; done += BATCH_SIZE) {
    const calls = Array.from({ length: BATCH_SIZE }, (_, index) => ({
      key: 'local:::soak:::echo',
      params: { n: done + index },
    }));
    const results = await node.executeMany(calls, { concurrency: 64 });
    failed += results.filter((result) => !result.ok).length;
    if (done + BATCH_SIZE === totalCalls / 2) {
      sample(totalCalls / 2);
    }
  }
  sample(totalCalls);
  const elapsedMs = performance.now() - startedAt;
  const logged = (await node.store?.listExecutions({ limit: 1 }))?.length ?? 0;
  await node.close();
  rmSync(directory, { recursive: true, force: true });

  const [start, middle, end] = samples.map((entry) => entry.rssBytes) as [number, number, number];
  const [heapStart, heapMiddle, heapEnd] = samples.map((entry) => entry.heapBytes) as [
    number,
    number,
    number,
  ];
  const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
  if (failed > 0 || logged === 0) {
    throw new Error(
      `Soak run had ${failed} failed calls and ${logged} logged rows; expected 0 and > 0.`,
    );
  }

  return [
    {
      area: 'Memory',
      operation: `soak: ${totalCalls.toLocaleString('en-US')} function calls with the execution log (per call)`,
      median: (elapsedMs * 1e6) / totalCalls,
      p99: Number.NaN,
      unit: 'ns',
      baseline: 'resident memory at the middle of the run',
      baselineMedian: Number.NaN,
      ratio: end / middle,
      // The executions table grows by a row per call, and SQLite's page cache
      // (bounded by cache_size, 100 MiB by default) and mmap'd pages grow with
      // the file, so resident memory may rise while the JS heap stays flat.
      target: 'JS heap end within 2 MiB of the middle; RSS within 16 MiB',
      met: heapEnd - heapMiddle <= 2 * 2 ** 20 && end - middle <= 16 * 2 ** 20,
      note:
        `RSS start ${mib(start)}, middle ${mib(middle)}, end ${mib(end)}; ` +
        `JS heap after GC ${mib(heapStart)}, ${mib(heapMiddle)}, ${mib(heapEnd)} (ratio = RSS end / middle)`,
    },
  ];
}
