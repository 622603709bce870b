import { performance } from 'node:perf_hooks';
import type { Histogram, LabelValues } from 'prom-client';

/**
 * A running measurement started by `MetricsRegistry.startTimer`.
 *
 * @example
 * import { createMetricsRegistry } from '@agentnode/metrics';
 * const metrics = createMetricsRegistry();
 * const latency = metrics.histogram({ name: 'app_step_duration_seconds', help: 'Step time.', labelNames: ['step', 'status'] });
 * const timer = metrics.startTimer(latency, { step: 'parse' });
 * const seconds = timer.stop({ status: 'ok' });
 */
export class MetricsTimer<L extends string = string> {
  readonly #histogram: Histogram<L>;
  readonly #labels: LabelValues<L> | undefined;
  readonly #startedAt = performance.now();
  #seconds: number | undefined;

  constructor(histogram: Histogram<L>, labels?: LabelValues<L>) {
    this.#histogram = histogram;
    this.#labels = labels;
  }

  /**
   * Records the elapsed time in the histogram and returns it in seconds.
   * `extraLabels` are added to the labels given at start (for example the
   * outcome). A second call records nothing and returns the first result.
   */
  stop(extraLabels?: LabelValues<L>): number {
    if (this.#seconds !== undefined) {
      return this.#seconds;
    }

    const seconds = (performance.now() - this.#startedAt) / 1000;
    this.#seconds = seconds;
    const labels = extraLabels === undefined ? this.#labels : { ...this.#labels, ...extraLabels };
    this.#histogram.observe(labels ?? {}, seconds);

    return seconds;
  }
}
