import { type IntervalHistogram, monitorEventLoopDelay, performance } from 'node:perf_hooks';
import type { MetricsRegistry } from './metrics-registry';

/** Event-loop delay sampling resolution, in milliseconds. */
const LOOP_DELAY_RESOLUTION_MS = 10;

/**
 * Registers the process resource gauges on `metrics` and returns a function
 * that stops the event-loop delay sampler.
 *
 * Every value is computed when the registry is scraped: nothing runs on a
 * timer of its own, so the collector never keeps the process alive. CPU use is
 * the `process.cpuUsage()` delta over the wall time since the previous scrape
 * (100 means one core fully busy, so it can exceed 100 on several threads).
 */
export function registerSystemMetrics(metrics: MetricsRegistry): () => void {
  const loopDelay = monitorEventLoopDelay({ resolution: LOOP_DELAY_RESOLUTION_MS });
  loopDelay.enable();

  let lastCpu = process.cpuUsage();
  let lastCpuAt = performance.now();
  let lastLoopUtilization = performance.eventLoopUtilization();

  metrics.gauge({
    name: 'agentnode_process_cpu_usage_percent',
    help: 'Process CPU time (user + system) as a percentage of wall time since the previous scrape.',
    collect() {
      const now = performance.now();
      const usage = process.cpuUsage(lastCpu);
      const elapsedMicros = (now - lastCpuAt) * 1000;
      lastCpu = process.cpuUsage();
      lastCpuAt = now;
      this.set(elapsedMicros > 0 ? ((usage.user + usage.system) / elapsedMicros) * 100 : 0);
    },
  });

  metrics.gauge({
    name: 'agentnode_process_resident_memory_bytes',
    help: 'Resident set size of the process.',
    collect() {
      this.set(process.memoryUsage.rss());
    },
  });

  metrics.gauge({
    name: 'agentnode_process_heap_used_bytes',
    help: 'V8 heap in use.',
    collect() {
      this.set(process.memoryUsage().heapUsed);
    },
  });

  metrics.gauge({
    name: 'agentnode_process_event_loop_lag_seconds',
    help: 'Event-loop delay since the previous scrape, by statistic (mean, p99, max).',
    labelNames: ['statistic'],
    collect() {
      recordLoopDelay(this, loopDelay);
    },
  });

  metrics.gauge({
    name: 'agentnode_process_event_loop_utilization_ratio',
    help: 'Share of wall time the event loop was busy since the previous scrape (0 to 1).',
    collect() {
      const current = performance.eventLoopUtilization();
      const delta = performance.eventLoopUtilization(current, lastLoopUtilization);
      lastLoopUtilization = current;
      this.set(delta.utilization);
    },
  });

  // `process.getActiveResourcesInfo` is marked experimental in Node 20; the
  // gauge is registered only where the function exists.
  if (typeof process.getActiveResourcesInfo === 'function') {
    metrics.gauge({
      name: 'agentnode_process_active_handles',
      help: 'Active libuv handles and requests keeping the event loop alive.',
      collect() {
        this.set(process.getActiveResourcesInfo().length);
      },
    });
  }

  return () => loopDelay.disable();
}

interface SettableGauge {
  set(labels: { statistic: string }, value: number): void;
}

function recordLoopDelay(gauge: SettableGauge, histogram: IntervalHistogram): void {
  // The histogram reports nanoseconds and NaN before its first sample.
  const toSeconds = (nanoseconds: number) => (Number.isFinite(nanoseconds) ? nanoseconds / 1e9 : 0);
  gauge.set({ statistic: 'mean' }, toSeconds(histogram.mean));
  gauge.set({ statistic: 'p99' }, toSeconds(histogram.percentile(99)));
  gauge.set({ statistic: 'max' }, toSeconds(histogram.max));
  histogram.reset();
}
