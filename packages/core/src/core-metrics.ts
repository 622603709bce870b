import type { Counter, Histogram, MetricsRegistry } from '@agentnode/metrics';
import { describeValue, ToolError } from './errors';

/** Upper bounds, in seconds, for tool call durations: 1 ms to 60 s. */
export const TOOL_DURATION_BUCKETS = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
] as const;

/** Upper bounds, in seconds, for queue wait: 0.1 ms to 10 s. */
export const QUEUE_WAIT_BUCKETS = [
  0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10,
] as const;

const REGISTRY_METHODS = ['counter', 'gauge', 'histogram'] as const;

/**
 * Checks that `metrics` looks like a `MetricsRegistry`, so a wrong value
 * fails at construction with the option's name instead of a TypeError on
 * the first metric registered.
 *
 * @throws {ToolError} `INVALID_CONFIG` naming the missing function.
 */
export function checkMetricsRegistry(metrics: unknown): void {
  const rule =
    'Option "metrics" must be a MetricsRegistry from createMetricsRegistry() (an object with counter, gauge and histogram functions)';
  if (typeof metrics !== 'object' || metrics === null) {
    throw new ToolError('INVALID_CONFIG', `${rule}, got ${describeValue(metrics)}.`);
  }

  const missing = REGISTRY_METHODS.find(
    (method) => typeof (metrics as Record<string, unknown>)[method] !== 'function',
  );
  if (missing !== undefined) {
    throw new ToolError('INVALID_CONFIG', `${rule}, got an object without "${missing}".`);
  }
}

/** Calls running and waiting per tool kind, read by the gauges on scrape. */
export class LiveCallCounts {
  readonly #counts = new Map<string, { inFlight: number; queued: number }>();

  /** Records a call entering (+1) or leaving (-1) the queue. */
  queued(kind: string, delta: 1 | -1): void {
    this.#of(kind).queued += delta;
  }

  /** Records a call starting (+1) or finishing (-1). */
  inFlight(kind: string, delta: 1 | -1): void {
    this.#of(kind).inFlight += delta;
  }

  /** Counts per kind; a kind stays listed at 0 once seen, so its gauge reads 0, not absent. */
  entries(): IterableIterator<[string, { readonly inFlight: number; readonly queued: number }]> {
    return this.#counts.entries();
  }

  #of(kind: string): { inFlight: number; queued: number } {
    let counts = this.#counts.get(kind);
    if (!counts) {
      counts = { inFlight: 0, queued: 0 };
      this.#counts.set(kind, counts);
    }

    return counts;
  }
}

/** The tool metrics of one coordinator. */
export interface ToolMetrics {
  readonly duration: Histogram<'kind' | 'tool' | 'status'>;
  readonly executions: Counter<'kind' | 'tool' | 'status'>;
  readonly queueWait: Histogram<'kind'>;
  readonly retries: Counter<'kind' | 'tool'>;
  readonly timeouts: Counter<'kind' | 'tool'>;
  readonly listenerErrors: Counter<'event'>;
  /** Read by the in-flight and queued gauges when the registry is scraped. */
  readonly live: LiveCallCounts;
  /** Stops reporting this coordinator's live counts. */
  detach(): void;
}

// Coordinators sharing one registry share its gauges (registration is
// get-or-create), so the gauges sum the live counts of all of them.
const liveCountsByRegistry = new WeakMap<MetricsRegistry, Set<LiveCallCounts>>();

/**
 * Registers (or finds, on a shared registry) the tool metrics. In-flight and
 * queued gauges are computed on scrape, so a call pays for two label lookups
 * (duration and count) plus one for queue wait in a batch.
 */
export function createToolMetrics(metrics: MetricsRegistry): ToolMetrics {
  const live = new LiveCallCounts();
  let registered = liveCountsByRegistry.get(metrics);
  if (!registered) {
    registered = new Set();
    liveCountsByRegistry.set(metrics, registered);
  }
  registered.add(live);
  const sources = registered;

  const sum = (field: 'inFlight' | 'queued') => {
    const totals = new Map<string, number>();
    for (const source of sources) {
      for (const [kind, counts] of source.entries()) {
        totals.set(kind, (totals.get(kind) ?? 0) + counts[field]);
      }
    }
    return totals;
  };

  metrics.gauge({
    name: 'agentnode_tool_calls_in_flight',
    help: 'Tool calls running now.',
    labelNames: ['kind'],
    collect() {
      for (const [kind, value] of sum('inFlight')) {
        this.set({ kind }, value);
      }
    },
  });
  metrics.gauge({
    name: 'agentnode_tool_calls_queued',
    help: 'Tool calls waiting for a concurrency slot now.',
    labelNames: ['kind'],
    collect() {
      for (const [kind, value] of sum('queued')) {
        this.set({ kind }, value);
      }
    },
  });

  return {
    duration: metrics.histogram({
      name: 'agentnode_tool_execution_duration_seconds',
      help: 'Time from a tool call leaving the queue to its result, retries included.',
      labelNames: ['kind', 'tool', 'status'],
      buckets: TOOL_DURATION_BUCKETS,
    }),
    executions: metrics.counter({
      name: 'agentnode_tool_executions_total',
      help: 'Tool calls finished, by status (ok, error, timeout, aborted).',
      labelNames: ['kind', 'tool', 'status'],
    }),
    queueWait: metrics.histogram({
      name: 'agentnode_tool_queue_wait_seconds',
      help: 'Time a tool call of a batch waited for a concurrency slot. Labelled by kind only, because the wait depends on the batch, not on the tool.',
      labelNames: ['kind'],
      buckets: QUEUE_WAIT_BUCKETS,
    }),
    retries: metrics.counter({
      name: 'agentnode_tool_retries_total',
      help: 'Tool call attempts made after a retryable failure.',
      labelNames: ['kind', 'tool'],
    }),
    timeouts: metrics.counter({
      name: 'agentnode_tool_timeouts_total',
      help: 'Tool calls that ended in a timeout, plus timed-out attempts that were retried.',
      labelNames: ['kind', 'tool'],
    }),
    listenerErrors: metrics.counter({
      name: 'agentnode_tool_event_listener_errors_total',
      help: 'Errors thrown by coordinator event listeners, caught and logged.',
      labelNames: ['event'],
    }),
    live,
    detach: () => sources.delete(live),
  };
}
