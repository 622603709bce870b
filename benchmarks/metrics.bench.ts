import { performance } from 'node:perf_hooks';
import { createMetricsRegistry } from '@agentnode/metrics';
import { Histogram, Registry } from 'prom-client';
import { type BenchRow, compare, type SuiteOptions } from './harness';

const BATCH = 1_000;
const LABELS = { kind: 'function', tool: 'local:::demo:::echo' } as const;

/** Timed observations through agentnode's timer vs a bare prom-client histogram. */
export async function run(options: SuiteOptions): Promise<BenchRow[]> {
  const metrics = createMetricsRegistry({ collectSystem: false });
  const histogram = metrics.histogram({
    name: 'bench_timer_duration_seconds',
    help: 'Bench.',
    labelNames: ['kind', 'tool', 'status'],
  });
  const bare = new Histogram({
    name: 'bench_bare_duration_seconds',
    help: 'Bench.',
    labelNames: ['kind', 'tool', 'status'],
    registers: [new Registry()],
  });

  const timed = await compare(
    {
      area: 'Metrics',
      operation: 'one timed observation (startTimer + stop)',
      target: 'at most 1.3x',
      meets: (ratio) => ratio <= 1.3,
    },
    {
      name: 'agentnode startTimer().stop()',
      batch: BATCH,
      fn() {
        for (let i = 0; i < BATCH; i++) {
          metrics.startTimer(histogram, LABELS).stop({ status: 'ok' });
        }
      },
    },
    {
      name: 'bare prom-client observe with performance.now()',
      batch: BATCH,
      fn() {
        for (let i = 0; i < BATCH; i++) {
          const startedAt = performance.now();
          bare.observe({ ...LABELS, status: 'ok' }, (performance.now() - startedAt) / 1000);
        }
      },
    },
    options,
  );

  const wrapped = await compare(
    {
      area: 'Metrics',
      operation: 'time(fn) around a sync function',
      target: 'at most 1.3x',
      meets: (ratio) => ratio <= 1.3,
    },
    {
      name: 'agentnode time()',
      batch: BATCH,
      fn() {
        for (let i = 0; i < BATCH; i++) {
          metrics.time(histogram, LABELS, () => i);
        }
      },
    },
    {
      name: 'bare prom-client observe with performance.now()',
      batch: BATCH,
      fn() {
        for (let i = 0; i < BATCH; i++) {
          const startedAt = performance.now();
          bare.observe({ ...LABELS, status: 'ok' }, (performance.now() - startedAt) / 1000);
        }
      },
    },
    options,
  );

  metrics.close();
  return [timed, wrapped];
}
